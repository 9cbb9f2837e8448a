"""The logistics floor's writes (house style 2): one module per part of the work."""

"""The logistics floor's reads (house style 2): one module per part of the work."""

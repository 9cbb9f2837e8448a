"""The logistics floor's pages, one module per part of the work."""

"""The logistics floor's reads (house style 2): one module per part of the work."""
"""Reads of the logistics floor, one module per part of the work."""

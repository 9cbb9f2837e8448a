"""Reads of the logistics floor, one module per part of the work."""

"""Catalogue, units and prescribers in the admin (CAT-1)."""

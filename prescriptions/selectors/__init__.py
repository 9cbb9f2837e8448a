"""Reads of the prescriptions floor, one module per entity: catalogue, prescription, ..."""

"""Admin of the prescriptions floor, one module per area; importing them registers the models."""

from prescriptions.admin import catalogue, prescription  # noqa: F401

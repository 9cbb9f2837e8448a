"""Prescriptions in the admin: read why a prescription went the way it did; phone orders."""

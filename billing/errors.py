"""The billing floor's domain exceptions: each message tells the user what to do."""

from __future__ import annotations


class BillingError(Exception):
    """A billing action refused, with a message a billing officer can act on."""


class RulesUnavailable(BillingError):
    """BILL-7: the official e-invoice rules could not be loaded: nothing is issued."""

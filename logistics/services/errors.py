"""The floor's domain errors: each message says in Swedish what to do, and names orders,
articles and stores by number, never a person."""

from __future__ import annotations


class LogisticsError(Exception):
    """A refusal the user can act on; ``str(error)`` is the message to show."""


class StateNotAllowed(LogisticsError):
    pass


class NotEnoughStock(LogisticsError):
    pass

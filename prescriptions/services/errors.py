"""Domain exceptions of the prescriptions floor.

Each message is one a user can act on, in Swedish through gettext (English msgids). Messages about
a protected patient carry the prescription number (F-XXXXXXXX) only, never a person (LEAK-2).
Views show ``str(error)``. "Not found" and "confirm your password" are not here: they are the
one refusal path's (``protection.refusals``: ``not_found()``, ``StepUpRequired``), answered by
the views' ``refusals_answered`` with a 404 or the step-up page.
"""

from __future__ import annotations


class PrescriptionError(Exception):
    """A request the rules refuse; the message tells the user what to do instead."""


class StateNotAllowed(PrescriptionError):
    """The prescription is not in a state that allows this (house style 4)."""


class RuleRefused(PrescriptionError):
    """A business rule refuses the request; ``rule`` names it (PRESC-3, PRESC-5, REGION-3, ...)."""

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class FieldRefused(PrescriptionError):
    """A value the request needs is missing or wrong; ``field`` names it (the model's field name),
    so a form can show the message next to that field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class SubmitRefused(PrescriptionError):
    """Submit refused; ``reasons`` lists every blocking criterion's message (one per line in the
    user's language), so the prescriber can fix them all at once."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons

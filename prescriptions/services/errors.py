"""Domain exceptions of the prescriptions floor.

Each message is one a user can act on, in Swedish through gettext (English msgids). Messages about
a protected patient carry the prescription number (F-XXXXXXXX) only, never a person (LEAK-2).
Views show ``str(error)``; ``PrescriptionNotFound`` must be answered with a 404, the same answer as
for a prescription or patient that does not exist (house style 5).
"""

from __future__ import annotations


class PrescriptionError(Exception):
    """A request the rules refuse; the message tells the user what to do instead."""

    # AUDIT-1: set when the gate logged a refused read inside the service's transaction, which
    # this exception rolls back; the view logs it again afterwards
    # (``prescriptions.services.access.denial_record_after_rollback``). Internal ids only.
    denied_patient_id: int | None = None


class PrescriptionNotFound(PrescriptionError):
    """Missing, or not the user's to see (a protected patient without a grant, another unit's
    prescription): the caller answers 404 either way, so neither case can be told apart."""


class StepUpRequired(PrescriptionError):
    """The user holds a grant for the protected patient (or must sign, PRESC-6) but has not
    confirmed the password within the step-up window (ACCESS-4): send them to step-up."""


class StateNotAllowed(PrescriptionError):
    """The prescription is not in a state that allows this (house style 4)."""


class RuleRefused(PrescriptionError):
    """A business rule refuses the request; ``rule`` names it (PRESC-3, PRESC-5, REGION-3, ...)."""

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class SubmitRefused(PrescriptionError):
    """Submit refused; ``reasons`` lists every blocking criterion's message (one per line in the
    user's language), so the prescriber can fix them all at once."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons

"""The floor's state machines as data (house style 4), on the one helper ``patients.transitions``.

:data:`PRESCRIPTION_MACHINE` lists every allowed move of a prescription and
:data:`REGISTRATION_MACHINE` those of a supply registration (REGION-3, REGION-4). Every change of
state goes through ``patients.transitions.transition_apply`` with one of them, which checks the
move, locks and moves the row and writes the history row (who, when, from, to), in the caller's
transaction. A move the table refuses raises :class:`StateNotAllowed` with a message the user
can act on.
"""

from __future__ import annotations

from typing import Any, Final

from django.utils import timezone
from django.utils.translation import gettext as _

from patients.transitions import CREATED, StateMachine, history_record, transition_apply
from prescriptions.models import (
    Prescription,
    PrescriptionState,
    PrescriptionTransition,
    RegistrationState,
    SupplyRegistration,
    SupplyRegistrationTransition,
)
from prescriptions.services.access import prescription_for_update
from prescriptions.services.errors import StateNotAllowed
from protection.gate import AccessContext
from protection.services.case_end import case_closed_record

S = PrescriptionState
R = RegistrationState


def _prescription_refused(prescription: Prescription, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Prescription %(number)s is %(state)s and cannot become %(to)s.")
        % {
            "number": prescription.reference,
            "state": PrescriptionState(from_state).label,
            "to": PrescriptionState(to_state).label,
        }
    )


# from -> the states it may move to. APPROVED and CANCELLED are final on this floor: a device
# handed out comes back by a pickup order (PRESC-9), not by undoing the prescription.
PRESCRIPTION_MACHINE: Final = StateMachine(
    name="prescription",
    moves={
        CREATED: frozenset({S.DRAFT}),
        S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
        S.SUBMITTED: frozenset(
            {S.AWAITING_AGREEMENT, S.AWAITING_REGISTRATION, S.APPROVED, S.CANCELLED}
        ),
        # REGION-2, then REGION-3: each waiting state moves on to the next check. PRESC-6 no
        # longer waits here: the adaptation is signed on its work order, before delivery.
        S.AWAITING_AGREEMENT: frozenset({S.AWAITING_REGISTRATION, S.APPROVED, S.CANCELLED}),
        S.AWAITING_REGISTRATION: frozenset({S.APPROVED, S.CANCELLED}),
        S.APPROVED: frozenset(),
        S.CANCELLED: frozenset(),
    },
    history_model=PrescriptionTransition,
    subject_field="prescription",
    refuse=_prescription_refused,
)

# States in which the prescriber still waits for something, shown as "open" cases.
OPEN_STATES: Final = frozenset(
    {S.DRAFT, S.SUBMITTED, S.AWAITING_AGREEMENT, S.AWAITING_REGISTRATION}
)


def _registration_refused(
    registration: SupplyRegistration, from_state: str, to_state: str
) -> Exception:
    if to_state == R.CLEARED:
        return StateNotAllowed(_("This registration is not waiting to be cleared."))
    return StateNotAllowed(
        _("This registration is %(state)s and cannot become %(to)s.")
        % {"state": R(from_state).label, "to": R(to_state).label}
    )


# REGION-3: customer service clears a requested registration; REGION-4: a live one (requested
# or cleared) is deactivated after invoicing. A returning patient gets a new registration.
REGISTRATION_MACHINE: Final = StateMachine(
    name="supply registration",
    moves={
        CREATED: frozenset({R.REQUESTED}),
        R.REQUESTED: frozenset({R.CLEARED, R.DEACTIVATED}),
        R.CLEARED: frozenset({R.DEACTIVATED}),
        R.DEACTIVATED: frozenset(),
    },
    history_model=SupplyRegistrationTransition,
    subject_field="registration",
    refuse=_registration_refused,
)


def prescription_transition_apply(
    *, prescription: Prescription, to_state: str, actor: Any | None, note: str = ""
) -> PrescriptionTransition:
    """Move a locked prescription to ``to_state`` and record who did it (None: the product).
    The floor's thin wrapper on the machine: it stamps when the prescription was submitted
    and when it was decided (approved or cancelled)."""
    now = timezone.now()
    fields: dict[str, Any] = {}
    if to_state == S.SUBMITTED:
        fields["submitted_at"] = now
    if to_state in (S.APPROVED, S.CANCELLED):
        fields["decided_at"] = now
    row = transition_apply(
        machine=PRESCRIPTION_MACHINE,
        obj=prescription,
        to_state=to_state,
        by=actor,
        note=note,
        **fields,
    )
    assert isinstance(row, PrescriptionTransition)
    if to_state not in OPEN_STATES:
        # ACCESS-8: the unit may have no open case left for the patient (an approved
        # prescription's order, on the logistics floor, keeps it open until delivered).
        case_closed_record(patient_id=prescription.patient_id, unit_id=prescription.unit_id)
    return row


def prescription_history_note(
    *, prescription: Prescription, actor: Any | None, note: str
) -> PrescriptionTransition:
    """A history row for a change that is not a change of state (from and to the same state),
    such as PRESC-2 moving a delivery to the unit."""
    row = history_record(
        machine=PRESCRIPTION_MACHINE,
        obj=prescription,
        from_state=prescription.state,
        to_state=prescription.state,
        by=actor,
        note=note,
    )
    assert isinstance(row, PrescriptionTransition)
    return row


def prescription_draft_for_update(*, ctx: AccessContext, reference: str) -> Prescription:
    """The user's prescription, locked (``prescription_for_update``), which must still be a
    draft: only a draft's lines, details and delivery change."""
    prescription = prescription_for_update(ctx, reference)
    if prescription.state != S.DRAFT:
        raise StateNotAllowed(
            _("Prescription %(number)s is no longer a draft.") % {"number": prescription.reference}
        )
    return prescription

"""The prescription's state machine as data (house style 4).

``TRANSITIONS`` lists every allowed move; :func:`prescription_transition_apply` is the one
function that changes ``Prescription.state``, and it writes the history row (who, when, from,
to). Callers hold the prescription locked (``select_for_update``) in their transaction.
"""

from __future__ import annotations

from typing import Any, Final

from django.utils import timezone
from django.utils.translation import gettext as _

from prescriptions.models import Prescription, PrescriptionState, PrescriptionTransition
from prescriptions.services.errors import StateNotAllowed

S = PrescriptionState

# from -> the states it may move to. APPROVED and CANCELLED are final on this floor: a device
# handed out comes back by a pickup order (PRESC-9), not by undoing the prescription.
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset(
        {S.AWAITING_AGREEMENT, S.AWAITING_REGISTRATION, S.AWAITING_SIGNATURE, S.APPROVED}
        | {S.CANCELLED}
    ),
    # REGION-2, then REGION-3, then PRESC-6: each waiting state moves on to the next check.
    S.AWAITING_AGREEMENT: frozenset(
        {S.AWAITING_REGISTRATION, S.AWAITING_SIGNATURE, S.APPROVED, S.CANCELLED}
    ),
    S.AWAITING_REGISTRATION: frozenset({S.AWAITING_SIGNATURE, S.APPROVED, S.CANCELLED}),
    S.AWAITING_SIGNATURE: frozenset({S.APPROVED, S.CANCELLED}),
    S.APPROVED: frozenset(),
    S.CANCELLED: frozenset(),
}

# States in which the prescriber still waits for something, shown as "open" cases.
OPEN_STATES: Final = frozenset(
    {S.DRAFT, S.SUBMITTED, S.AWAITING_AGREEMENT, S.AWAITING_REGISTRATION, S.AWAITING_SIGNATURE}
)


def transition_allowed(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def prescription_transition_apply(
    *, prescription: Prescription, to_state: str, actor: Any | None, note: str = ""
) -> PrescriptionTransition:
    """Move a locked prescription to ``to_state`` and record who did it (None: the product)."""
    from_state = prescription.state
    if not transition_allowed(from_state, to_state):
        raise StateNotAllowed(
            _("Prescription %(number)s is %(state)s and cannot become %(to)s.")
            % {
                "number": prescription.reference,
                "state": PrescriptionState(from_state).label,
                "to": PrescriptionState(to_state).label,
            }
        )
    prescription.state = to_state
    fields = ["state"]
    now = timezone.now()
    if to_state == S.SUBMITTED:
        prescription.submitted_at = now
        fields.append("submitted_at")
    if to_state in (S.APPROVED, S.CANCELLED):
        prescription.decided_at = now
        fields.append("decided_at")
    prescription.save(update_fields=fields)
    return PrescriptionTransition.objects.create(
        prescription=prescription,
        from_state=from_state,
        to_state=to_state,
        actor=actor if actor is not None and actor.is_authenticated else None,
        note=note[:300],
    )


def prescription_history_note(
    *, prescription: Prescription, actor: Any | None, note: str
) -> PrescriptionTransition:
    """A history row for a change that is not a change of state (from and to the same state),
    such as PRESC-2 moving a delivery to the unit."""
    return PrescriptionTransition.objects.create(
        prescription=prescription,
        from_state=prescription.state,
        to_state=prescription.state,
        actor=actor if actor is not None and actor.is_authenticated else None,
        note=note[:300],
    )

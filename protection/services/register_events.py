"""Register events (PROT-3, PROT-4): what the Navet import changed is told to the people
responsible, and a patient newly protected is handed to the higher floors (PRINT-3, PRESC-2).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from patients.models import Patient, RegisterEvent, RegisterEventKind
from protection.permissions import PROTECTION_ADMIN_PERMISSION, unit_managers, users_with_permission
from protection.registry import protection_added_on_commit
from protection.selectors import grants_in_force
from protection.services.notify import notify_each_once


def _event_protection_removed(patient: Patient) -> None:
    """PROT-4: the register dropped the protection; the import held it. The people who work
    with the patient (grant holders, their managers) and the administrators are told."""
    if not patient.is_protected:
        return  # already released by a decision: nothing left to review
    holders = get_user_model().objects.filter(
        pk__in=grants_in_force().filter(patient=patient).values("user_id")
    )
    units = set(
        holders.filter(staff_profile__unit_id__isnull=False).values_list(
            "staff_profile__unit_id", flat=True
        )
    )
    notify_each_once(
        [*holders, *unit_managers(units), *users_with_permission(PROTECTION_ADMIN_PERMISSION)],
        subject=_("Patient %(reference)s: the register no longer reports protection")
        % {"reference": patient.reference},
        body=_(
            "The population register no longer reports protected identity for patient "
            "%(reference)s. The patient stays protected until a protection administrator has "
            "reviewed the case; until then, handle the patient as protected."
        )
        % {"reference": patient.reference},
    )


def _event_deceased(patient: Patient) -> None:
    """PROT-3: a death ends the special routine but reveals nothing by itself."""
    if not patient.is_protected:
        return
    notify_each_once(
        users_with_permission(PROTECTION_ADMIN_PERMISSION),
        subject=_("Patient %(reference)s: deceased, protection kept")
        % {"reference": patient.reference},
        body=_(
            "The population register reports that protected patient %(reference)s has died. "
            "The special routine ends, but nothing is revealed: the protection stays until a "
            "protection administrator records a decision."
        )
        % {"reference": patient.reference},
    )


def _event_protection_added(patient: Patient) -> None:
    protection_added_on_commit(patient.pk)  # PRINT-3, PRESC-2: protection_added_handlers
    notify_each_once(
        users_with_permission(PROTECTION_ADMIN_PERMISSION),
        subject=_("Patient %(reference)s: protection added by the register")
        % {"reference": patient.reference},
        body=_(
            "The population register now reports protected identity for patient "
            "%(reference)s. Review who needs access to the patient."
        )
        % {"reference": patient.reference},
    )


_EVENT_ACTIONS: dict[str, Callable[[Patient], None]] = {
    RegisterEventKind.PROTECTION_REMOVED: _event_protection_removed,
    RegisterEventKind.DECEASED: _event_deceased,
    RegisterEventKind.PROTECTION_ADDED: _event_protection_added,
}


def register_events_handle(*, batch_size: int = 200) -> int:
    """Act on unhandled register events, one locked batch per transaction; returns how many.

    ``handled_at`` is this floor's marker only. Later floors read the same events through their
    own tasks (PRINT-3 acts on ``protection_added`` too) and, where they need to remember what
    they did, add a marker of their own: nothing here consumes an event for them. Kinds with
    nothing to do on this floor (emigrated, number changed) are marked all the same.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED``: two runs at once take different rows, and
    the mark is written in the same transaction as the messages, so a run that fails sends
    nothing and a run after a success finds nothing to do.
    """
    handled = 0
    while True:
        with transaction.atomic():
            events = list(
                RegisterEvent.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(handled_at__isnull=True)
                .select_related("patient")
                .order_by("pk")[:batch_size]
            )
            for event in events:
                action = _EVENT_ACTIONS.get(event.kind)
                if action is not None:
                    action(event.patient)
            RegisterEvent.objects.filter(
                pk__in=[event.pk for event in events], handled_at__isnull=True
            ).update(handled_at=Now())
        handled += len(events)
        if len(events) < batch_size:
            return handled

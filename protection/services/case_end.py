"""ACCESS-8: when a unit's last open case for a protected patient closes, the grants given for
it end and their holders are told.

A grant is tied to a case through its request: the request names the unit that asked (and the
case number), and the grant is for the request's patient. So "the grants given for that case"
are the open grants whose request came from the unit, for the patient. The cases themselves
live on higher floors (prescriptions, orders, pickups, work orders), which this floor never
imports: they record a :class:`~protection.models.CaseClosure` in the transaction that closes
a case, and they answer through ``protection.registry.unit_case_open_checks`` whether the unit
still has one open. The closure is handled after the commit, by a task that gets no argument
(LEAK-1) and claims the rows it handles, and again by the periodic sweep if the task's message
was lost, so nothing is done twice.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from patients.services import Actor, notification_send
from patients.tasking import task_send_on_commit
from protection.models import CaseClosure, Grant
from protection.registry import unit_has_open_case
from protection.services.grants import grant_end

HANDLE_BATCH = 200
HANDLE_TASK = "protection.tasks.handle_case_closures"


def _grants_of_unit(*, patient_id: int, unit_id: int) -> list[int]:
    return list(
        Grant.objects.filter(
            patient_id=patient_id, request__unit_id=unit_id, ended_at__isnull=True
        ).values_list("pk", flat=True)
    )


def case_closed_record(*, patient_id: int | None, unit_id: int | None) -> CaseClosure | None:
    """A higher floor closed a case of ``unit_id`` for ``patient_id``: call inside the
    transaction that closed it. Records the closure only when the unit's requests gave grants
    for the patient that are still open (otherwise nothing can end), and has it handled once
    the transaction commits."""
    if patient_id is None or unit_id is None:
        return None
    if not _grants_of_unit(patient_id=patient_id, unit_id=unit_id):
        return None
    closure = CaseClosure.objects.create(patient_id=patient_id, unit_id=unit_id)
    # By the task's name, with no argument (LEAK-1: it reads the closures from the database).
    task_send_on_commit(HANDLE_TASK, what="case closures")
    return closure


def case_closures_handle() -> int:
    """Handle each closure not yet handled; returns how many grants ended."""
    ended = 0
    while True:
        with transaction.atomic():
            # The claim: locked rows are skipped by a run that overlaps this one.
            batch = list(
                CaseClosure.objects.select_for_update(skip_locked=True)
                .filter(handled_at__isnull=True)
                .order_by("recorded_at", "pk")[:HANDLE_BATCH]
            )
            if not batch:
                return ended
            done: set[tuple[int, int]] = set()
            for closure in batch:
                key = (closure.patient_id, closure.unit_id)
                if key not in done:
                    done.add(key)
                    ended += _grants_end_if_last_case(patient_id=key[0], unit_id=key[1])
            CaseClosure.objects.filter(pk__in=[c.pk for c in batch]).update(handled_at=Now())


def _grants_end_if_last_case(*, patient_id: int, unit_id: int) -> int:
    if unit_has_open_case(patient_id=patient_id, unit_id=unit_id):
        return 0
    ended = 0
    for grant_id in _grants_of_unit(patient_id=patient_id, unit_id=unit_id):
        grant = grant_end(
            actor=Actor.system(), ended_by=None, grant_id=grant_id, reason="case closed"
        )
        assert grant.request is not None
        # LEAK-2: the subject carries the case number only, never the patient.
        notification_send(
            user=grant.user,
            subject=_("Access for case %(case)s has ended")
            % {"case": grant.request.case_reference},
            body=_(
                "The unit's last open case for the patient is closed, so the access given for "
                "it has ended. If the patient needs the unit again, ask your manager to request "
                "new access."
            ),
        )
        ended += 1
    return ended

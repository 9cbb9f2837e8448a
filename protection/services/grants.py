"""Grant requests, their decision, and the end of grants (ACCESS-2, -3, -5, -6).

A request moves through :data:`GRANT_REQUEST` (``patients.transitions``): created as
*requested*, then *granted* or *refused* once, each move with a history row. A grant is
mirrored as a guardian object permission on the patient; the gate asks both the permission and
``protection.selectors.grants_in_force``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from guardian.shortcuts import assign_perm, remove_perm

from patients.identity import contains_identity_number
from patients.models import AccessAction, AccessOutcome, Patient
from patients.roles import BILLING
from patients.services import Actor, access_entry_record, notification_send
from patients.transitions import CREATED, StateMachine, transition_apply, transition_created
from protection.freetext import case_number_canonical, free_text_refusal
from protection.gate import PROTECTED_PERMISSION, AccessContext
from protection.models import (
    Grant,
    GrantRequest,
    GrantRequestStatus,
    GrantRequestTransition,
)
from protection.permissions import (
    PROTECTION_ADMIN_PERMISSION,
    UNIT_MANAGER_PERMISSION,
    holds_role_permission,
    users_with_permission,
)
from protection.selectors import grants_open
from protection.services import ProtectionError


def _already_decided(request: GrantRequest, from_state: str, to_state: str) -> ProtectionError:
    del to_state  # whatever was asked, the request is no longer open to a decision
    return ProtectionError(
        _(
            "This request has already been decided (%(status)s). If access is still needed, "
            "the unit manager makes a new request."
        )
        % {"status": dict(GrantRequestStatus.choices).get(from_state, from_state)}
    )


def _billing_staff_refusal(staff: Sequence[Any]) -> ProtectionError | None:
    """ACCESS-9: billing staff get no grant to a protected patient, whatever else they do: they
    work with the secret customer number and the manual-invoicing list (BILL-2)."""
    billing = [user for user in staff if user.groups.filter(name=BILLING).exists()]
    if not billing:
        return None
    return ProtectionError(
        _(
            "Staff: %(names)s work in billing, and billing staff get no access to protected "
            "patients. Billing works with the secret customer number and the manual-invoicing "
            "list instead."
        )
        % {"names": ", ".join(user.get_full_name() or user.get_username() for user in billing)}
    )


# ACCESS-3: a request is decided once, granted or refused, by a protection administrator.
GRANT_REQUEST = StateMachine(
    name="grant request",
    moves={
        CREATED: frozenset({GrantRequestStatus.REQUESTED}),
        GrantRequestStatus.REQUESTED: frozenset(
            {GrantRequestStatus.GRANTED, GrantRequestStatus.REFUSED}
        ),
    },
    history_model=GrantRequestTransition,
    subject_field="request",
    state_field="status",
    refuse=_already_decided,
)


@transaction.atomic
def grant_request_create(
    *,
    ctx: AccessContext,
    patient: Patient,
    unit_id: int,
    staff: Sequence[Any],
    case_reference: str,
    starts_on: date,
    ends_on: date,
    reason: str,
) -> GrantRequest:
    """ACCESS-3: a unit manager asks for named staff to get access to a protected patient."""
    if not holds_role_permission(ctx.user, UNIT_MANAGER_PERMISSION):
        raise ProtectionError(_("Only a unit manager can request access for staff."))
    # Free text read by people without a grant, and sent in notifications (ACCESS-3, LEAK-2):
    # the case number is a case or order number and nothing else, the reason names nobody.
    case_number = case_number_canonical(case_reference)
    if case_number is None:
        raise ProtectionError(
            _(
                "Case or order number: give the case number (such as ÄR-2026-0042) or the "
                "order number (F- and eight characters), nothing else."
            )
        )
    case_reference = case_number
    if not staff:
        raise ProtectionError(_("Staff: choose at least one person."))
    billing_refusal = _billing_staff_refusal(staff)
    if billing_refusal is not None:
        raise billing_refusal
    refusal = free_text_refusal(reason, field=_("Reason"), patient_ids=[patient.pk])
    if refusal is not None:
        raise ProtectionError(refusal)
    _check_period(patient, starts_on, ends_on)
    request = GrantRequest.objects.create(
        patient=patient,
        unit_id=unit_id,
        requested_by=ctx.user,
        case_reference=case_reference,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason.strip(),
    )
    transition_created(machine=GRANT_REQUEST, obj=request, by=ctx.user)
    request.staff.set(staff)
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.GRANT,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type="grant_request",
        object_id=str(request.pk),
    )
    for admin in users_with_permission(PROTECTION_ADMIN_PERMISSION):
        notification_send(
            user=admin,
            subject=_("Access request for case %(case)s") % {"case": case_reference},
            body=ngettext(
                "A unit manager asks for access for %(count)s person.",
                "A unit manager asks for access for %(count)s people.",
                len(staff),
            )
            % {"count": len(staff)},
        )
    return request


# A grant starts soon: requests far ahead would chain one-year grants past the ACCESS-2 limit.
MAX_START_AHEAD = timedelta(days=31)


def _check_period(patient: Patient, starts_on: date, ends_on: date) -> None:
    if starts_on > timezone.localdate() + MAX_START_AHEAD:
        raise ProtectionError(_("From: a grant starts within a month of the request."))
    if ends_on < starts_on:
        raise ProtectionError(_("Until: the end date is before the start date."))
    if ends_on > _add_year(starts_on):
        raise ProtectionError(_("Until: a grant lasts at most one year at a time."))
    limit = patient.local_protection_until
    if patient.local_protection and limit is not None and ends_on > limit:
        raise ProtectionError(
            _("Until: under local protection a grant ends at the latest on %(date)s.")
            % {"date": limit.isoformat()}
        )


def _add_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@transaction.atomic
def grant_request_opened(*, ctx: AccessContext, grant_request: GrantRequest) -> None:
    """AUDIT-1: the decision page reads about the patient (who holds grants, linked persons,
    other units' cases), so opening it is an access to that patient, logged as such."""
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.READ,
        outcome=AccessOutcome.ALLOWED,
        patient=grant_request.patient,
        object_type="grant_request",
        object_id=str(grant_request.pk),
    )


@transaction.atomic
def grant_request_decide(
    *,
    ctx: AccessContext,
    request_id: int,
    approve: bool,
    note: str = "",
    confirm_excess: bool = False,
) -> GrantRequest:
    """A protection administrator grants or refuses. Lock, then check (the request may have
    been decided by someone else meanwhile)."""
    if not holds_role_permission(ctx.user, PROTECTION_ADMIN_PERMISSION):
        raise ProtectionError(_("Only a protection administrator can decide access requests."))
    if contains_identity_number(note):
        raise ProtectionError(_("Note: do not write the patient's personnummer or name."))
    request = GrantRequest.objects.select_for_update().get(pk=request_id)
    decision = GrantRequestStatus.GRANTED if approve else GrantRequestStatus.REFUSED
    # Asked first, so that a request decided meanwhile says so rather than anything else; the
    # move itself comes last, once the grants are written (transition_apply checks it again).
    GRANT_REQUEST.check(request, request.status, decision)
    if request.requested_by_id == ctx.user.pk:
        raise ProtectionError(_("Someone other than the requester must decide the request."))
    patient = Patient.objects.select_for_update().get(pk=request.patient_id)
    staff = list(request.staff.all())
    if any(user.pk == ctx.user.pk for user in staff):
        raise ProtectionError(_("You are among the staff of this request: someone else decides."))
    if approve:
        # ACCESS-9 again at the decision: a person may have joined billing since the request.
        billing_refusal = _billing_staff_refusal(staff)
        if billing_refusal is not None:
            raise billing_refusal
        _check_period(patient, request.starts_on, request.ends_on)
        limit = settings.PROTECTION_MAX_GRANTS_PER_PATIENT
        # Grants still to come count against ACCESS-6 as well as those in force.
        held = grants_open().filter(patient=patient).count()
        if held + len(staff) > limit and not confirm_excess:
            raise ProtectionError(
                _(
                    "This would give more than %(limit)s people access to the patient. "
                    "Confirm that every one of them needs it."
                )
                % {"limit": limit}
            )
        for user in staff:
            grant = Grant.objects.create(
                request=request,
                user=user,
                patient=patient,
                starts_at=_day_start(request.starts_on),
                ends_at=_day_start(request.ends_on + timedelta(days=1)),
            )
            assign_perm(PROTECTED_PERMISSION, user, patient)
            access_entry_record(
                actor=ctx.actor,
                action=AccessAction.GRANT,
                outcome=AccessOutcome.ALLOWED,
                patient=patient,
                object_type="grant",
                object_id=str(grant.pk),
            )
    transition_apply(
        machine=GRANT_REQUEST,
        obj=request,
        to_state=decision,
        by=ctx.user,
        note=note.strip(),
        decided_by=ctx.user,
        decided_at=timezone.now(),
        decision_note=note.strip(),
        # ACCESS-6: the confirmation is kept with the request, and only where it granted.
        excess_confirmed=approve and confirm_excess,
    )
    if not approve:
        access_entry_record(
            actor=ctx.actor,
            action=AccessAction.GRANT,
            outcome=AccessOutcome.DENIED,
            patient=patient,
            object_type="grant_request",
            object_id=str(request.pk),
        )
    notification_send(
        user=request.requested_by,
        subject=_("Access request for case %(case)s: %(status)s")
        % {"case": request.case_reference, "status": request.get_status_display()},
        body=note.strip(),
    )
    return request


@transaction.atomic
def grant_end(*, actor: Actor, ended_by: Any, grant_id: int, reason: str) -> Grant:
    """End one grant now (ACCESS-5 revoke, expiry, deactivated user). Idempotent."""
    grant = Grant.objects.select_for_update().get(pk=grant_id)
    if grant.ended_at is not None:
        return grant
    grant.ended_at = timezone.now()
    grant.ended_by = ended_by
    grant.end_reason = reason[:200]
    grant.save(update_fields=["ended_at", "ended_by", "end_reason"])
    # Another grant of the same user to the same patient, in force or to come, keeps the
    # permission the gate asks for alongside it.
    if not grants_open().filter(user_id=grant.user_id, patient_id=grant.patient_id).exists():
        remove_perm(PROTECTED_PERMISSION, grant.user, grant.patient)
    access_entry_record(
        actor=actor,
        action=AccessAction.GRANT,
        outcome=AccessOutcome.DENIED,
        patient=grant.patient,
        object_type="grant",
        object_id=str(grant.pk),
    )
    return grant


def grants_end_lapsed() -> int:
    """The daily clean-up: grants past their end, or of deactivated users, are ended.

    Access was already refused by the gate's date check; this keeps the permission table and the
    review pages in step (ACCESS-2, ACCESS-5)."""
    now = timezone.now()
    ids = list(
        Grant.objects.filter(ended_at__isnull=True)
        .filter(Q(ends_at__lte=now) | Q(user__is_active=False))
        .values_list("pk", "user__is_active")
    )
    for grant_id, active in ids:
        grant_end(
            actor=Actor.system(),
            ended_by=None,
            grant_id=grant_id,
            reason="expired" if active else "user deactivated",
        )
    return len(ids)


@transaction.atomic
def staff_deactivate(*, ctx: AccessContext, user_id: int) -> int:
    """ACCESS-5: deactivating a user ends their grants at once."""
    user = get_user_model().objects.select_for_update().get(pk=user_id)
    return locked_user_deactivate(actor=ctx.actor, ended_by=ctx.user, user=user)


def locked_user_deactivate(*, actor: Actor, ended_by: Any, user: Any) -> int:
    """Deactivate ``user`` (locked by the caller, in its transaction) and end their grants
    (ACCESS-5); the save goes through the model, so the account change is recorded
    (ACCESS-10). Returns the number of grants ended."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = 0
    for grant_id in Grant.objects.filter(user=user, ended_at__isnull=True).values_list(
        "pk", flat=True
    ):
        grant_end(actor=actor, ended_by=ended_by, grant_id=grant_id, reason="user deactivated")
        ended += 1
    return ended


@transaction.atomic
def billing_staff_grants_end(*, user_id: int, actor_id: int | None) -> int:
    """ACCESS-9: a grant holder who joins billing keeps no grant. The request and the decision
    refuse billing staff, but a prescriber given the billing role afterwards would otherwise
    keep opening the patient; the grants end as the role is added (``protection.account_watch``
    tells of it). Returns the number of grants ended."""
    user = get_user_model().objects.select_for_update().filter(pk=user_id).first()
    if user is None or not user.groups.filter(name=BILLING).exists():
        return 0
    actor = Actor(user_id=actor_id, unit_id=None, ip_address=None, session_ref="")
    ended_by = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    grant_ids = list(
        Grant.objects.filter(user=user, ended_at__isnull=True).values_list("pk", flat=True)
    )
    for grant_id in grant_ids:
        grant_end(actor=actor, ended_by=ended_by, grant_id=grant_id, reason="joined billing")
    return len(grant_ids)

"""Writes on the protection floor: step-up, emergency access, grant requests and grants.

Each service locks what it changes, checks, then writes, and records an access entry for every
grant change (AUDIT-1). Messages carry case numbers and internal references, never a person
(LEAK-2).
"""

from __future__ import annotations

import enum
import time
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
from patients.services import Actor, access_entry_record, notification_send
from protection.gate import PROTECTED_PERMISSION, STEP_UP_SESSION_KEY, AccessContext
from protection.models import EmergencyAccess, Grant, GrantRequest, GrantRequestStatus
from protection.permissions import holds_role_permission


class ProtectionError(Exception):
    """A request the rules refuse; the message tells the user what to do instead."""


STEP_UP_FAILURES_SESSION_KEY = "protection_step_up_failures"
# ACCESS-4 exists for a session someone else may be using: it must not become a place to guess
# the password. After this many wrong answers the session is ended.
STEP_UP_MAX_FAILURES = 5


class StepUp(enum.Enum):
    CONFIRMED = "confirmed"
    WRONG = "wrong"
    SIGNED_OUT = "signed_out"  # too many wrong answers: the caller must end the session


def step_up_confirm(*, ctx: AccessContext, password: str) -> StepUp:
    """ACCESS-4: the user re-enters their password; on success the session may open protected
    patients for the configured window."""
    ok = bool(ctx.user.is_authenticated and ctx.user.check_password(password))
    with transaction.atomic():
        access_entry_record(
            actor=ctx.actor,
            action=AccessAction.STEP_UP,
            outcome=AccessOutcome.ALLOWED if ok else AccessOutcome.DENIED,
        )
    if ctx.session is None:
        return StepUp.CONFIRMED if ok else StepUp.WRONG
    if ok:
        ctx.session[STEP_UP_SESSION_KEY] = time.time()
        ctx.session.pop(STEP_UP_FAILURES_SESSION_KEY, None)
        return StepUp.CONFIRMED
    failures = int(ctx.session.get(STEP_UP_FAILURES_SESSION_KEY, 0)) + 1
    ctx.session[STEP_UP_FAILURES_SESSION_KEY] = failures
    return StepUp.SIGNED_OUT if failures >= STEP_UP_MAX_FAILURES else StepUp.WRONG


@transaction.atomic
def emergency_access_open(*, ctx: AccessContext, patient: Patient, reason: str) -> EmergencyAccess:
    """ACCESS-7: break the glass. Logged, flagged and reported to protection administrators."""
    if not holds_role_permission(ctx.user, "protection.add_emergencyaccess"):
        raise ProtectionError(_("Emergency access is for care staff in an acute situation."))
    reason = reason.strip()
    if len(reason) < 10:
        raise ProtectionError(_("State the reason for emergency access in a few words."))
    if contains_identity_number(reason):
        # The reason is read on the log review by people without a grant (LEAK-1).
        raise ProtectionError(_("Do not write the patient's personnummer."))
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    minutes = settings.PROTECTION_EMERGENCY_MINUTES
    access = EmergencyAccess.objects.create(
        user=ctx.user,
        patient=patient,
        reason=reason,
        ends_at=timezone.now() + timedelta(minutes=minutes),
    )
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.BREAK_GLASS,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type="emergency_access",
        object_id=str(access.pk),
    )
    for admin in _protection_admins():
        notification_send(
            user=admin,
            subject=_("Emergency access %(id)s to review") % {"id": access.pk},
            body=_(
                "A user opened patient %(reference)s with emergency access. "
                "Review it on the log review page."
            )
            % {"reference": patient.reference},
        )
    return access


def _protection_admins() -> list[Any]:
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__permissions__codename="change_grantrequest")
        .distinct()
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
    if not holds_role_permission(ctx.user, "protection.add_grantrequest"):
        raise ProtectionError(_("Only a unit manager can request access for staff."))
    case_reference = case_reference.strip()
    # Free text read by people without a grant, and sent in notifications (ACCESS-3, LEAK-2).
    if contains_identity_number(case_reference):
        raise ProtectionError(
            _("Case or order number: give the case or order number, never a personnummer.")
        )
    if not staff:
        raise ProtectionError(_("Staff: choose at least one person."))
    if contains_identity_number(reason):
        raise ProtectionError(_("Reason: do not write the patient's personnummer or name."))
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
    request.staff.set(staff)
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.GRANT,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type="grant_request",
        object_id=str(request.pk),
    )
    for admin in _protection_admins():
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


def grants_in_force_count(patient: Patient) -> int:
    """Grants in force or still to come: a grant dated ahead counts against ACCESS-6 too."""
    return Grant.objects.filter(
        patient=patient, ended_at__isnull=True, ends_at__gt=timezone.now()
    ).count()


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
    if not holds_role_permission(ctx.user, "protection.change_grantrequest"):
        raise ProtectionError(_("Only a protection administrator can decide access requests."))
    if contains_identity_number(note):
        raise ProtectionError(_("Note: do not write the patient's personnummer or name."))
    request = GrantRequest.objects.select_for_update().get(pk=request_id)
    if request.status != GrantRequestStatus.REQUESTED:
        raise ProtectionError(_("This request has already been decided."))
    if request.requested_by_id == ctx.user.pk:
        raise ProtectionError(_("Someone other than the requester must decide the request."))
    patient = Patient.objects.select_for_update().get(pk=request.patient_id)
    staff = list(request.staff.all())
    if any(user.pk == ctx.user.pk for user in staff):
        raise ProtectionError(_("You are among the staff of this request: someone else decides."))
    if approve:
        _check_period(patient, request.starts_on, request.ends_on)
        limit = settings.PROTECTION_MAX_GRANTS_PER_PATIENT
        if grants_in_force_count(patient) + len(staff) > limit and not confirm_excess:
            raise ProtectionError(
                _(
                    "This would give more than %(limit)s people access to the patient. "
                    "Confirm that every one of them needs it."
                )
                % {"limit": limit}
            )
        request.excess_confirmed = confirm_excess
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
    request.status = GrantRequestStatus.GRANTED if approve else GrantRequestStatus.REFUSED
    request.decided_by = ctx.user
    request.decided_at = timezone.now()
    request.decision_note = note.strip()
    request.save()
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
    still_in_force = Grant.objects.filter(
        user_id=grant.user_id,
        patient_id=grant.patient_id,
        ended_at__isnull=True,
        ends_at__gt=timezone.now(),
    ).exists()
    if not still_in_force:
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
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = 0
    for grant_id in Grant.objects.filter(user=user, ended_at__isnull=True).values_list(
        "pk", flat=True
    ):
        grant_end(actor=ctx.actor, ended_by=ctx.user, grant_id=grant_id, reason="user deactivated")
        ended += 1
    return ended

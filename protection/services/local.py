"""Local protection (PROT-1, PROT-6): a unit manager decides it with a reason for at most three
months; it ends by itself at its end date unless renewed (the manager is reminded first, see
``protection.services.reminders``). ACCESS-2 limits grants under local protection to its end.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.models import Patient
from patients.services import Actor
from protection.gate import AccessContext
from protection.models import LocalProtection
from protection.registry import protection_added_on_commit
from protection.services import ProtectionError
from protection.services.decisions import (
    change_record,
    flags_apply,
    own_unit_require,
    patient_lock,
    reason_check,
    role_require,
)

LOCAL_PROTECTION_MONTHS = 3  # PROT-1


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day. Public so
    that the tests of PROT-1 compute the last allowed day the same way as the rule does."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _local_flags_recompute(patient: Patient) -> Patient:
    """The patient is locally protected while any decision is in force; the latest end counts
    (ACCESS-2 limits grants under local protection to it)."""
    today = timezone.localdate()
    latest = LocalProtection.objects.filter(
        patient_id=patient.pk, ended_at__isnull=True, starts_on__lte=today, ends_on__gte=today
    ).aggregate(until=Max("ends_on"))["until"]
    return flags_apply(patient, local_protection=latest is not None, local_protection_until=latest)


def _check_local_end(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise ProtectionError(
            _("Until: the end date is before %(date)s.") % {"date": starts_on.isoformat()}
        )
    limit = add_months(starts_on, LOCAL_PROTECTION_MONTHS)
    if ends_on > limit:
        raise ProtectionError(
            _(
                "Until: local protection lasts at most three months at a time; "
                "choose %(date)s or earlier."
            )
            % {"date": limit.isoformat()}
        )


@transaction.atomic
def local_protection_decide(
    *, ctx: AccessContext, patient: Patient, unit_id: int, reason: str, ends_on: date
) -> LocalProtection:
    """PROT-1: a unit manager protects a patient locally from today until ``ends_on``."""
    role_require(
        ctx,
        "protection.add_localprotection",
        _("Only a unit manager may decide local protection."),
    )
    own_unit_require(ctx, unit_id)
    reason = reason_check(reason)
    today = timezone.localdate()
    _check_local_end(today, ends_on)
    locked = patient_lock(patient.pk)
    in_force = LocalProtection.objects.filter(
        patient=locked, unit_id=unit_id, ended_at__isnull=True, ends_on__gte=today
    )
    if in_force.exists():
        raise ProtectionError(
            _("Your unit already protects this patient locally; renew that decision instead.")
        )
    protection = LocalProtection.objects.create(
        patient=locked,
        unit_id=unit_id,
        decided_by=ctx.user,
        reason=reason,
        starts_on=today,
        ends_on=ends_on,
    )
    locked = _local_flags_recompute(locked)
    change_record(ctx.actor, locked, "local_protection", protection.pk)
    protection_added_on_commit(locked.pk)  # PRINT-3, PRESC-2: protection_added_handlers
    return protection


def _local_protection_for_change(
    ctx: AccessContext, protection_id: int
) -> tuple[LocalProtection, Patient]:
    """Lock the patient, then the decision, and check that this manager may change it."""
    role_require(
        ctx,
        "protection.change_localprotection",
        _("Only a unit manager may renew or end local protection."),
    )
    patient_id = LocalProtection.objects.values_list("patient_id", flat=True).get(pk=protection_id)
    patient = patient_lock(patient_id)
    protection = LocalProtection.objects.select_for_update().get(pk=protection_id)
    own_unit_require(ctx, protection.unit_id)
    return protection, patient


@transaction.atomic
def local_protection_renew(
    *, ctx: AccessContext, protection_id: int, ends_on: date
) -> LocalProtection:
    """PROT-6: a renewal is a new decision of at most three months from today; the manager is
    reminded again before the new end."""
    protection, patient = _local_protection_for_change(ctx, protection_id)
    today = timezone.localdate()
    if protection.ended_at is not None or protection.ends_on < today:
        raise ProtectionError(
            _("This local protection has ended; decide a new one if the patient needs it.")
        )
    if ends_on <= protection.ends_on:
        raise ProtectionError(
            _("Until: a renewal ends after the current end, %(date)s; to end earlier, end it.")
            % {"date": protection.ends_on.isoformat()}
        )
    _check_local_end(today, ends_on)
    protection.ends_on = ends_on
    protection.reminded_at = None
    protection.save(update_fields=["ends_on", "reminded_at"])
    patient = _local_flags_recompute(patient)
    change_record(ctx.actor, patient, "local_protection", protection.pk)
    return protection


def _local_protection_close(
    protection: LocalProtection, patient: Patient, *, actor: Actor, ended_by: Any, reason: str
) -> None:
    """End a locked decision and recompute the locked patient's flags."""
    protection.ended_at = timezone.now()
    protection.ended_by = ended_by
    protection.end_reason = reason[:200]
    protection.save(update_fields=["ended_at", "ended_by", "end_reason"])
    # The entry is written before the flags change, so it is marked as concerning a protected
    # patient (AUDIT-1): the decision was about one.
    change_record(actor, patient, "local_protection", protection.pk)
    _local_flags_recompute(patient)


@transaction.atomic
def local_protection_end(*, ctx: AccessContext, protection_id: int, reason: str) -> LocalProtection:
    """A unit manager ends a local protection before its end date. Idempotent."""
    protection, patient = _local_protection_for_change(ctx, protection_id)
    if protection.ended_at is None:
        _local_protection_close(
            protection,
            patient,
            actor=ctx.actor,
            ended_by=ctx.user,
            reason=reason.strip() or _("Ended by the unit"),
        )
    return protection


def local_protections_lapse() -> int:
    """PROT-6: a local protection ends by itself once its end date has passed (it protects
    through the whole of its last day). Returns how many ended."""
    today = timezone.localdate()
    ended = 0
    lapsed = LocalProtection.objects.filter(ended_at__isnull=True, ends_on__lt=today)
    for protection_id, patient_id in list(lapsed.values_list("pk", "patient_id")):
        with transaction.atomic():
            patient = patient_lock(patient_id)
            protection = LocalProtection.objects.select_for_update().get(pk=protection_id)
            # Re-checked under the lock: a renewal or an end may have come first.
            if protection.ended_at is not None or protection.ends_on >= today:
                continue
            _local_protection_close(
                protection, patient, actor=Actor.system(), ended_by=None, reason="expired"
            )
            ended += 1
    return ended

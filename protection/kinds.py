"""The kinds of protection decided in health care, and the life cycle of every kind.

- Local protection (PROT-1, PROT-6): a unit manager decides it with a reason for at most three
  months; it ends by itself at its end date unless renewed, and the manager is reminded first.
- Reservnummer protection (PROT-1): the prescribing unit decides it; it lasts until ended.
- Held protection (PROT-3, PROT-4): the register dropping protection, or a death, never
  unprotects by itself; a protection administrator lifts the hold with a recorded decision.
- Register events: what the Navet import changed is told to the people responsible (PROT-4).
- The daily maintenance: lapsed grants and local protections end, reminders go out (ACCESS-2/5).

The patient row carries the flags every access check reads (``Patient.is_protected`` is
generated from them); the decisions live here. Each write locks the patient row first, then the
decision, so that two writers on one patient queue instead of deadlocking, and recomputes the
flags from the decisions in force. Messages name the internal reference only (LEAK-2).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.identity import contains_identity_number
from patients.models import (
    AccessAction,
    AccessOutcome,
    Patient,
    PatientIdentity,
    PatientStatus,
    RegisterEvent,
    RegisterEventKind,
)
from patients.services import Actor, access_entry_record, notification_send
from protection.gate import AccessContext
from protection.models import (
    Grant,
    GrantReminder,
    LocalProtection,
    ProtectionReview,
    ReserveNumberProtection,
)
from protection.permissions import holds_role_permission
from protection.registry import protection_added_on_commit
from protection.services import ProtectionError, _protection_admins

LOCAL_PROTECTION_MONTHS = 3  # PROT-1
GRANT_REMINDER_DAYS = 14
# The register events that put a patient under protection or hold it there (PROT-3/PROT-4).
HOLD_CAUSES = (
    RegisterEventKind.PROTECTION_ADDED,
    RegisterEventKind.PROTECTION_REMOVED,
    RegisterEventKind.DECEASED,
)


# --- helpers -------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _users_with_perm(perm: str) -> QuerySet[Any]:
    app_label, codename = perm.split(".", 1)
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__permissions__in=permission) | Q(user_permissions__in=permission))
        .distinct()
    )


def _unit_managers(unit_ids: set[int]) -> list[Any]:
    """Unit managers are the users who may request grants for their unit (ACCESS-3)."""
    if not unit_ids:
        return []
    return list(
        _users_with_perm("protection.add_grantrequest").filter(staff_profile__unit_id__in=unit_ids)
    )


def _lock_patient(patient_id: int) -> Patient:
    return Patient.objects.select_for_update().get(pk=patient_id)


def _flags_apply(patient: Patient, **flags: object) -> Patient:
    """Write the protection flags of a locked patient and return it re-read.

    PROT-3: a deceased patient who is protected never becomes unprotected by a kind ending (a
    local protection lapsing, say): the protection is held until a protection administrator
    records a decision. ``protection_hold_release`` is that decision and writes the flag
    itself."""
    columns = (
        "confidentiality_marking",
        "protected_registration",
        "protection_held",
        "local_protection",
        "reserve_number_protection",
    )
    still_protected = any(bool(flags.get(column, getattr(patient, column))) for column in columns)
    if patient.is_protected and not still_protected and patient.status == PatientStatus.DECEASED:
        flags["protection_held"] = True
    Patient.objects.filter(pk=patient.pk).update(**flags, updated_at=timezone.now())
    patient.refresh_from_db()
    return patient


def _local_flags_recompute(patient: Patient) -> Patient:
    """The patient is locally protected while any decision is in force; the latest end counts
    (ACCESS-2 limits grants under local protection to it)."""
    today = timezone.localdate()
    latest = LocalProtection.objects.filter(
        patient_id=patient.pk, ended_at__isnull=True, starts_on__lte=today, ends_on__gte=today
    ).aggregate(until=Max("ends_on"))["until"]
    return _flags_apply(patient, local_protection=latest is not None, local_protection_until=latest)


def _record_change(actor: Actor, patient: Patient, object_type: str, object_id: int) -> None:
    access_entry_record(
        actor=actor,
        action=AccessAction.CHANGE,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type=object_type,
        object_id=str(object_id),
    )


def _require(ctx: AccessContext, perm: str, message: str) -> None:
    if not holds_role_permission(ctx.user, perm):
        raise ProtectionError(message)


def _require_own_unit(ctx: AccessContext, unit_id: int) -> None:
    if ctx.actor.unit_id is None or ctx.actor.unit_id != unit_id:
        raise ProtectionError(_("Unit: you can decide only for the unit you work for."))


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 10:
        raise ProtectionError(_("Reason: state in a few words why the patient needs protection."))
    if contains_identity_number(reason):
        # Read on the unit's page by managers who may hold no grant (LEAK-1).
        raise ProtectionError(_("Reason: do not write the patient's personnummer or name."))
    return reason


def _check_local_end(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise ProtectionError(
            _("Until: the end date is before %(date)s.") % {"date": starts_on.isoformat()}
        )
    limit = _add_months(starts_on, LOCAL_PROTECTION_MONTHS)
    if ends_on > limit:
        raise ProtectionError(
            _(
                "Until: local protection lasts at most three months at a time; "
                "choose %(date)s or earlier."
            )
            % {"date": limit.isoformat()}
        )


# --- local protection (PROT-1, PROT-6) -------------------------------------------------------


@transaction.atomic
def local_protection_decide(
    *, ctx: AccessContext, patient: Patient, unit_id: int, reason: str, ends_on: date
) -> LocalProtection:
    """PROT-1: a unit manager protects a patient locally from today until ``ends_on``."""
    _require(
        ctx,
        "protection.add_localprotection",
        _("Only a unit manager may decide local protection."),
    )
    _require_own_unit(ctx, unit_id)
    reason = _check_reason(reason)
    today = timezone.localdate()
    _check_local_end(today, ends_on)
    locked = _lock_patient(patient.pk)
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
    _record_change(ctx.actor, locked, "local_protection", protection.pk)
    protection_added_on_commit(locked.pk)  # PRINT-3, PRESC-2: protection_added_handlers
    return protection


def _local_protection_for_change(
    ctx: AccessContext, protection_id: int
) -> tuple[LocalProtection, Patient]:
    """Lock the patient, then the decision, and check that this manager may change it."""
    _require(
        ctx,
        "protection.change_localprotection",
        _("Only a unit manager may renew or end local protection."),
    )
    patient_id = LocalProtection.objects.values_list("patient_id", flat=True).get(pk=protection_id)
    patient = _lock_patient(patient_id)
    protection = LocalProtection.objects.select_for_update().get(pk=protection_id)
    _require_own_unit(ctx, protection.unit_id)
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
    _record_change(ctx.actor, patient, "local_protection", protection.pk)
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
    _record_change(actor, patient, "local_protection", protection.pk)
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


# --- reservnummer protection (PROT-1) -------------------------------------------------------


@transaction.atomic
def reserve_number_protection_decide(
    *, ctx: AccessContext, patient: Patient, unit_id: int, reason: str
) -> ReserveNumberProtection:
    """PROT-1: the prescribing unit protects a patient with a reservnummer (threat from inside
    health care)."""
    _require(
        ctx,
        "protection.add_reservenumberprotection",
        _("Only a unit manager may decide reservnummer protection."),
    )
    _require_own_unit(ctx, unit_id)
    reason = _check_reason(reason)
    locked = _lock_patient(patient.pk)
    # Only whether there is one: the number itself is never read here.
    has_reserve_number = (
        PatientIdentity.objects.filter(patient_id=locked.pk, reserve_number__isnull=False)
        .exclude(reserve_number="")
        .exists()
    )
    if not has_reserve_number:
        raise ProtectionError(
            _("Reservnummer: the patient has no reservnummer; register one first.")
        )
    if ReserveNumberProtection.objects.filter(patient=locked, ended_at__isnull=True).exists():
        raise ProtectionError(_("The patient already has reservnummer protection."))
    protection = ReserveNumberProtection.objects.create(
        patient=locked, unit_id=unit_id, decided_by=ctx.user, reason=reason
    )
    locked = _flags_apply(locked, reserve_number_protection=True)
    _record_change(ctx.actor, locked, "reserve_number_protection", protection.pk)
    protection_added_on_commit(locked.pk)  # PRINT-3, PRESC-2: protection_added_handlers
    return protection


@transaction.atomic
def reserve_number_protection_end(
    *, ctx: AccessContext, protection_id: int
) -> ReserveNumberProtection:
    """The deciding unit ends reservnummer protection. Idempotent."""
    _require(
        ctx,
        "protection.change_reservenumberprotection",
        _("Only a unit manager may end reservnummer protection."),
    )
    patient_id = ReserveNumberProtection.objects.values_list("patient_id", flat=True).get(
        pk=protection_id
    )
    patient = _lock_patient(patient_id)
    protection = ReserveNumberProtection.objects.select_for_update().get(pk=protection_id)
    _require_own_unit(ctx, protection.unit_id)
    if protection.ended_at is not None:
        return protection
    protection.ended_at = timezone.now()
    protection.ended_by = ctx.user
    protection.save(update_fields=["ended_at", "ended_by"])
    _record_change(ctx.actor, patient, "reserve_number_protection", protection.pk)
    # At most one decision is open per patient (a constraint), and this one just ended.
    _flags_apply(patient, reserve_number_protection=False)
    return protection


# --- held protection (PROT-3, PROT-4) -------------------------------------------------------


def hold_cause(patient_id: int) -> RegisterEvent | None:
    """The latest register event that protected or held the patient, if any."""
    return (
        RegisterEvent.objects.filter(patient_id=patient_id, kind__in=HOLD_CAUSES)
        .order_by("-created_at", "-pk")
        .first()
    )


@transaction.atomic
def protection_hold_release(*, ctx: AccessContext, patient: Patient, note: str) -> ProtectionReview:
    """PROT-3/PROT-4: a protection administrator records the decision that lifts the hold the
    register could not lift by itself. Other kinds in force still protect the patient."""
    _require(
        ctx,
        "protection.add_protectionreview",
        _("Only a protection administrator may release a held protection."),
    )
    note = note.strip()
    if len(note) < 10:
        raise ProtectionError(_("Note: record in a few words why the protection may be lifted."))
    if contains_identity_number(note):
        raise ProtectionError(_("Note: do not write the patient's personnummer or name."))
    locked = _lock_patient(patient.pk)
    if not locked.protection_held:
        raise ProtectionError(
            _("Patient %(reference)s has no held protection to release.")
            % {"reference": locked.reference}
        )
    if locked.confidentiality_marking or locked.protected_registration:
        raise ProtectionError(
            _(
                "The register still reports sekretessmarkering or skyddad folkbokföring for "
                "patient %(reference)s; the hold can be released only once it no longer does."
            )
            % {"reference": locked.reference}
        )
    review = ProtectionReview.objects.create(
        patient=locked, decided_by=ctx.user, note=note, register_event=hold_cause(locked.pk)
    )
    _record_change(ctx.actor, locked, "protection_review", review.pk)
    # Written directly, not through _flags_apply: this is the recorded decision PROT-3 asks for.
    Patient.objects.filter(pk=locked.pk).update(protection_held=False, updated_at=timezone.now())
    return review


# --- register events (PROT-3, PROT-4) -------------------------------------------------------


def _grant_holders(patient: Patient) -> QuerySet[Any]:
    now = timezone.now()
    holder_ids = Grant.objects.filter(
        patient=patient, ended_at__isnull=True, starts_at__lte=now, ends_at__gt=now
    ).values("user_id")
    return get_user_model().objects.filter(pk__in=holder_ids, is_active=True)


def _notify(users: list[Any], *, subject: str, body: str) -> None:
    seen: set[int] = set()
    for user in users:
        if user.pk not in seen:
            seen.add(user.pk)
            notification_send(user=user, subject=subject, body=body)


def _event_protection_removed(patient: Patient) -> None:
    """PROT-4: the register dropped the protection; the import held it. The people who work
    with the patient (grant holders, their managers) and the administrators are told."""
    if not patient.is_protected:
        return  # already released by a decision: nothing left to review
    holders = _grant_holders(patient)
    units = set(
        holders.filter(staff_profile__unit_id__isnull=False).values_list(
            "staff_profile__unit_id", flat=True
        )
    )
    _notify(
        [*holders, *_unit_managers(units), *_protection_admins()],
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
    _notify(
        _protection_admins(),
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
    _notify(
        _protection_admins(),
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


# --- daily maintenance (PROT-6, ACCESS-2, ACCESS-5) -----------------------------------------


def local_protections_lapse() -> int:
    """PROT-6: a local protection ends by itself once its end date has passed (it protects
    through the whole of its last day). Returns how many ended."""
    today = timezone.localdate()
    ended = 0
    lapsed = LocalProtection.objects.filter(ended_at__isnull=True, ends_on__lt=today)
    for protection_id, patient_id in list(lapsed.values_list("pk", "patient_id")):
        with transaction.atomic():
            patient = _lock_patient(patient_id)
            protection = LocalProtection.objects.select_for_update().get(pk=protection_id)
            # Re-checked under the lock: a renewal or an end may have come first.
            if protection.ended_at is not None or protection.ends_on >= today:
                continue
            _local_protection_close(
                protection, patient, actor=Actor.system(), ended_by=None, reason="expired"
            )
            ended += 1
    return ended


def local_protections_remind() -> int:
    """PROT-6: the deciding manager is told once, the configured number of days before the
    end, that the local protection ends unless renewed."""
    today = timezone.localdate()
    horizon = today + timedelta(days=settings.PROTECTION_LOCAL_REMINDER_DAYS)
    sent = 0
    candidates = LocalProtection.objects.filter(
        ended_at__isnull=True, reminded_at__isnull=True, ends_on__gte=today, ends_on__lte=horizon
    ).select_related("patient", "decided_by")
    for protection in candidates:
        with transaction.atomic():
            # The claim: only the run whose update changed the row sends the reminder.
            claimed = LocalProtection.objects.filter(
                pk=protection.pk, reminded_at__isnull=True, ended_at__isnull=True
            ).update(reminded_at=Now())
            if not claimed:
                continue
            manager = protection.decided_by
            recipients = [manager] if manager.is_active else _unit_managers({protection.unit_id})
            _notify(
                recipients,
                subject=_("Local protection for patient %(reference)s ends on %(date)s")
                % {
                    "reference": protection.patient.reference,
                    "date": protection.ends_on.isoformat(),
                },
                body=_(
                    "The local protection ends by itself after %(date)s. If the patient still "
                    "needs it, renew it on the unit's protections page."
                )
                % {"date": protection.ends_on.isoformat()},
            )
            sent += 1
    return sent


def grants_remind_before_end() -> int:
    """ACCESS-2/5: the holder and the requesting manager are told once that a grant ends
    within two weeks, so that a new one can be requested in time."""
    now = timezone.now()
    sent = 0
    candidates = (
        Grant.objects.filter(
            ended_at__isnull=True,
            ends_at__gt=now,
            ends_at__lte=now + timedelta(days=GRANT_REMINDER_DAYS),
            user__is_active=True,
        )
        .exclude(pk__in=GrantReminder.objects.values("grant_id"))
        .select_related("user", "patient", "request", "request__requested_by")
    )
    for grant in candidates:
        with transaction.atomic():
            # The claim: the primary key makes a second reminder for one grant impossible.
            if not GrantReminder.objects.get_or_create(grant_id=grant.pk)[1]:
                continue
            ends = timezone.localtime(grant.ends_at).strftime("%Y-%m-%d %H:%M")
            if grant.request is not None:
                subject = _("Access for case %(case)s ends at %(when)s") % {
                    "case": grant.request.case_reference,
                    "when": ends,
                }
            else:
                subject = _("Access to patient %(reference)s ends at %(when)s") % {
                    "reference": grant.patient.reference,
                    "when": ends,
                }
            notification_send(
                user=grant.user,
                subject=subject,
                body=_(
                    "Your access to patient %(reference)s ends. If you still need it, ask "
                    "your unit manager to request a new grant."
                )
                % {"reference": grant.patient.reference},
            )
            if grant.request is not None and grant.request.requested_by_id != grant.user_id:
                notification_send(
                    user=grant.request.requested_by,
                    subject=subject,
                    body=_(
                        "The access of %(user)s to patient %(reference)s ends. Request a new "
                        "grant if it is still needed."
                    )
                    % {"user": grant.user.get_username(), "reference": grant.patient.reference},
                )
            sent += 1
    return sent

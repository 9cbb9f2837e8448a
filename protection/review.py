"""Log review (AUDIT-3): reads of the access log for unit managers and protection administrators.

A protection administrator sees every entry; a unit manager sees the entries of their unit's
staff and the entries made on behalf of their unit; nobody else sees the log. Each row carries
four highlights, computed in the database so that a page of rows is one query:

- ``without_grant``: an allowed access to a protected patient while the user held no grant in
  force at that moment (emergency access, or a bug in the gate);
- ``denied``: the gate refused;
- ``emergency``: a break-the-glass entry, or an access made while an emergency access was open
  for that user and patient (ACCESS-7);
- ``out_of_hours``: outside ``AUDIT_OFFICE_HOURS`` local time, or on a Saturday or Sunday.

Changes to accounts (ACCESS-10: new accounts, passwords set by someone else, roles, units,
permissions, lockouts after failed logins) are listed beside the log, every one highlighted, and
so are the accounts suspended until a protection administrator confirms them.

Rows show patients by internal reference and birth year only (LEAK-1): nothing here reads
``PatientIdentity``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, Random

from patients.models import AccessAction, AccessEntry, AccessOutcome, StaffProfile
from protection.models import AccountEvent, AccountSuspension, EmergencyAccess
from protection.permissions import PROTECTION_ADMIN_PERMISSION, holds_role_permission
from protection.selectors import grants_in_force_at, open_suspensions

ADMIN_PERMISSION = PROTECTION_ADMIN_PERMISSION
MANAGER_PERMISSION = "protection.view_grant"

# Entries about administering access (requests, grants, emergency accesses and their review)
# concern a protected patient but show nothing of them; the administrator needs no grant for
# them, so they are never "without a valid grant".
_ADMINISTRATION_OBJECTS = ("grant", "grant_request", "emergency_access")

# setseed() takes a double in [-1, 1]; seeds are integers in [0, SEED_LIMIT) mapped onto [0, 1).
SEED_LIMIT = 2**31


def _local_zone() -> ZoneInfo:
    # The region's local time (Europe/Stockholm): office hours and review periods are local.
    return ZoneInfo(settings.TIME_ZONE)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_local_zone())


def _scoped_entries(user: Any) -> QuerySet[AccessEntry]:
    """The entries this user may review; PermissionDenied for anyone without a review role."""
    if not (user.is_authenticated and user.is_active):
        raise PermissionDenied
    if holds_role_permission(user, ADMIN_PERMISSION):
        return AccessEntry.objects.all()
    if holds_role_permission(user, MANAGER_PERMISSION):
        # Entries made in the manager's unit, by the unit each entry recorded: not by who works
        # there now, which would follow a person's earlier accesses from other units. A
        # subquery keeps the rows one query; a manager without a unit compares with NULL and
        # sees nothing.
        unit = Subquery(StaffProfile.objects.filter(user_id=user.pk).values("unit_id")[:1])
        return AccessEntry.objects.filter(unit_id=unit)
    raise PermissionDenied


def _boolean(condition: Any) -> ExpressionWrapper[Any]:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _with_highlights(entries: QuerySet[AccessEntry]) -> QuerySet[AccessEntry]:
    at = OuterRef("at")
    # In force at the moment of the access, not now: a grant ended later still covered it,
    # one ended earlier did not (ACCESS-2).
    grant_in_force = grants_in_force_at(at).filter(
        user_id=OuterRef("user_id"), patient_id=OuterRef("patient_id")
    )
    emergency_in_force = EmergencyAccess.objects.filter(
        user_id=OuterRef("user_id"),
        patient_id=OuterRef("patient_id"),
        starts_at__lte=at,
        ends_at__gt=at,
    )
    opens, closes = settings.AUDIT_OFFICE_HOURS
    return entries.alias(
        local_hour=ExtractHour("at", tzinfo=_local_zone()),
        local_weekday=ExtractIsoWeekDay("at", tzinfo=_local_zone()),
    ).annotate(
        without_grant=_boolean(
            Q(patient_protected=True, outcome=AccessOutcome.ALLOWED)
            & ~Q(object_type__in=_ADMINISTRATION_OBJECTS)
            & ~Exists(grant_in_force)
        ),
        denied=_boolean(Q(outcome=AccessOutcome.DENIED)),
        emergency=_boolean(Q(action=AccessAction.BREAK_GLASS) | Exists(emergency_in_force)),
        out_of_hours=_boolean(
            Q(local_hour__lt=opens) | Q(local_hour__gte=closes) | Q(local_weekday__gte=6)
        ),
    )


def _in_period(
    entries: QuerySet[AccessEntry], date_from: date | None, date_to: date | None
) -> QuerySet[AccessEntry]:
    """Whole local days, both ends included."""
    if date_from is not None:
        entries = entries.filter(at__gte=_day_start(date_from))
    if date_to is not None:
        entries = entries.filter(at__lt=_day_start(date_to + timedelta(days=1)))
    return entries


def access_entries_list_for_user(
    *,
    user: Any,
    patient_reference: str | None = None,
    username: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    only_flagged: bool = False,
    limit: int = 200,
) -> QuerySet[AccessEntry]:
    """The newest entries in the user's scope, filtered, with their highlights (one query)."""
    entries = _scoped_entries(user)
    if patient_reference:
        entries = entries.filter(patient__reference=patient_reference)
    if username:
        entries = entries.filter(user__username=username)
    entries = _with_highlights(_in_period(entries, date_from, date_to))
    if only_flagged:
        entries = entries.filter(
            Q(without_grant=True) | Q(denied=True) | Q(emergency=True) | Q(out_of_hours=True)
        )
    return entries.select_related("user", "unit", "patient").order_by("-at", "-pk")[:limit]


@dataclass(frozen=True)
class ReviewSample:
    """A random sample for the systematic review, with what is needed to say how it was drawn."""

    rows: list[AccessEntry]
    seed: int
    population: int


def access_entries_sample_for_user(
    *,
    user: Any,
    date_from: date,
    date_to: date,
    size: int = 20,
    seed: int | None = None,
) -> ReviewSample:
    """At most ``size`` entries drawn at random from the user's scope within the period.

    ORDER BY random() rather than TABLESAMPLE: TABLESAMPLE draws from the whole table before
    the period and scope are applied, so it returns a varying number of rows (often none for a
    small unit's week) and SYSTEM sampling picks whole pages, which cluster by time. The period
    narrows the scan through the index on ``at``, and ORDER BY random() with a LIMIT is a
    top-N sort that keeps only ``size`` rows in memory, so it stays cheap for a review period.

    Without a seed one is drawn here and returned, so the reviewer can note it; setseed() then
    makes random() repeat its sequence, and the same seed draws the same sample again from the
    same entries (random() follows the order the rows are read in, so a changed query plan could
    draw differently). setseed() acts on the database session: the transaction keeps it and the
    query on one connection even behind a transaction-pooling proxy.
    """
    if seed is None:
        seed = secrets.randbelow(SEED_LIMIT)
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError("seed out of range")
    entries = _in_period(_scoped_entries(user), date_from, date_to)
    with transaction.atomic():
        population = entries.count()
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [seed / SEED_LIMIT])
        rows = list(
            _with_highlights(entries)
            .select_related("user", "unit", "patient")
            .order_by(Random())[:size]
        )
    rows.sort(key=lambda entry: (entry.at, entry.pk))
    return ReviewSample(rows=rows, seed=seed, population=population)


def emergency_accesses_to_review(*, user: Any) -> QuerySet[EmergencyAccess]:
    """ACCESS-7: emergency accesses not yet reviewed, newest first, in the user's scope."""
    if not (user.is_authenticated and user.is_active):
        raise PermissionDenied
    accesses = EmergencyAccess.objects.filter(reviewed_at__isnull=True)
    if not holds_role_permission(user, ADMIN_PERMISSION):
        if not holds_role_permission(user, MANAGER_PERMISSION):
            raise PermissionDenied
        unit = Subquery(StaffProfile.objects.filter(user_id=user.pk).values("unit_id")[:1])
        accesses = accesses.filter(
            user_id__in=StaffProfile.objects.filter(unit_id=unit).values("user_id")
        )
    return accesses.select_related("user", "patient").order_by("-starts_at", "-pk")


def _unit_staff_ids(user: Any) -> QuerySet[StaffProfile, Any]:
    """The users who work in this manager's unit now (none for a manager without a unit)."""
    unit = Subquery(StaffProfile.objects.filter(user_id=user.pk).values("unit_id")[:1])
    return StaffProfile.objects.filter(unit_id=unit).values("user_id")


def account_events_list_for_user(*, user: Any, limit: int = 50) -> QuerySet[AccountEvent]:
    """ACCESS-10: the newest changes to accounts, every one highlighted on the review. A
    protection administrator sees all; a unit manager those of the accounts of their unit."""
    if not (user.is_authenticated and user.is_active):
        raise PermissionDenied
    events = AccountEvent.objects.all()
    if not holds_role_permission(user, ADMIN_PERMISSION):
        if not holds_role_permission(user, MANAGER_PERMISSION):
            raise PermissionDenied
        events = events.filter(subject_id__in=_unit_staff_ids(user))
    return events.select_related("actor", "subject").order_by("-at", "-pk")[:limit]


def account_suspensions_list_for_user(*, user: Any) -> QuerySet[AccountSuspension]:
    """ACCESS-10: accounts suspended because someone else set their password, oldest first, in
    the user's scope (as :func:`account_events_list_for_user`)."""
    if not (user.is_authenticated and user.is_active):
        raise PermissionDenied
    suspensions = open_suspensions()
    if not holds_role_permission(user, ADMIN_PERMISSION):
        if not holds_role_permission(user, MANAGER_PERMISSION):
            raise PermissionDenied
        suspensions = suspensions.filter(user_id__in=_unit_staff_ids(user))
    return suspensions.select_related("user", "event__actor").order_by("started_at", "pk")

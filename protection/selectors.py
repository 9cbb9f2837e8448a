"""Reads of the protection floor: which grants count, defined once (ACCESS-2, ACCESS-5, ACCESS-6).

A grant is *in force* from its start until its end, unless it was ended before (revoked, or its
user deactivated), and only while its user is active. Every place that asks whether a grant
opens a patient, or who holds one, builds on :func:`grants_in_force`; the places that also
count grants still to come (the ACCESS-6 limit, the review that lets a manager revoke them
before they start) build on :func:`grants_open`, of which it is a part.

The database keeps its own copy of the same condition in SQL, for row-level security (the
function ``hjm_identity_visible`` of migration 0004_row_level_security, see ``protection.rls``):
it mirrors :func:`grants_in_force` and must change with it. It leaves out the user's activity:
an inactive user has no session, so no request of theirs names them to the database.

A user whose password someone else set is suspended (ACCESS-10): none of their grants is in
force, nor any emergency access, until the suspension is lifted (:func:`suspended_user_ids`;
in SQL since migration 0014_account_changes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Now

from protection.models import AccountSuspension, Grant


def open_suspensions() -> QuerySet[AccountSuspension]:
    """ACCESS-10: suspensions not yet lifted: their users' grants and emergency accesses open
    nothing."""
    return AccountSuspension.objects.filter(lifted_at__isnull=True)


def is_suspended(user_id: int) -> bool:
    return open_suspensions().filter(user_id=user_id).exists()


def not_suspended(user_field: str = "user_id") -> Any:
    """A condition for a queryset whose rows name a user in ``user_field``: that user is not
    suspended (ACCESS-10)."""
    return ~Exists(open_suspensions().filter(user_id=OuterRef(user_field)))


def grants_open() -> QuerySet[Grant]:
    """Grants not ended whose end is still ahead, of active users: in force now, or dated to
    start later. What ACCESS-6 counts against the limit and what the grant review lists."""
    return Grant.objects.filter(ended_at__isnull=True, ends_at__gt=Now(), user__is_active=True)


def grants_in_force() -> QuerySet[Grant]:
    """Grants that open their patient now (ACCESS-2): started, not at their end, not ended,
    their user active. Checked at every access, so an expired grant opens nothing even before
    the daily clean-up ends it, and a grant dated ahead opens nothing before its start. Nor
    does the grant of a suspended user (ACCESS-10)."""
    return grants_open().filter(not_suspended(), starts_at__lte=Now())


def grants_in_force_at(moment: datetime | Any) -> QuerySet[Grant]:
    """Grants that were in force at a past ``moment`` (a datetime or an expression such as
    ``OuterRef("at")``): the log review asks it of the moment of each access (AUDIT-3). A grant
    ended later still covered that moment, so it counts the end by ``ended_at`` rather than by
    whether it is set; and whether its user is active now says nothing of then (deactivation
    ends the grants, which ``ended_at`` records)."""
    return Grant.objects.filter(starts_at__lte=moment, ends_at__gt=moment).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=moment)
    )

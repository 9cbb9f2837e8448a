"""STAFF-2: accounts nobody uses are told, then deactivated, by the daily maintenance.

An account is unused since its last login, or since it was made if nobody ever logged in to
it. ``STAFF_INACTIVE_MONTHS`` after that it is deactivated and its grants end with it
(ACCESS-5), but never before its user (and the unit's managers, who can reach a person who
does not log in) have been told at least ``STAFF_INACTIVE_NOTICE_DAYS`` before: an account
that is already overdue when this is switched on is told first and deactivated later.

Both steps claim their rows: the notice by its unique key (user, period of disuse), the
deactivation by locking the user and checking again that it is active and still unused, so an
overlapping run or a retry tells nobody twice and deactivates nothing twice.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.models import StaffProfile
from patients.services import Actor
from protection.models import InactivityNotice
from protection.permissions import unit_managers
from protection.services.grants import locked_user_deactivate
from protection.services.notify import notify_each_once


def months_later(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months; the 31st becomes the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _users_with_last_use() -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .annotate(unused_since=Coalesce("last_login", "date_joined", output_field=DateTimeField()))
    )


def accounts_unused_notify() -> int:
    """Tell each user whose account will reach the limit within the notice period, once per
    period of disuse. Returns how many users were told."""
    now = timezone.now()
    notice = timedelta(days=settings.STAFF_INACTIVE_NOTICE_DAYS)
    months = settings.STAFF_INACTIVE_MONTHS
    # Unused since this moment or earlier: the limit falls within the notice period.
    horizon = months_later(now + notice, -months)
    candidates = (
        _users_with_last_use()
        .filter(unused_since__lte=horizon)
        .exclude(
            Exists(
                InactivityNotice.objects.filter(
                    user_id=OuterRef("pk"), unused_since=OuterRef("unused_since")
                )
            )
        )
    )
    told = 0
    for user in candidates:
        due = timezone.localtime(months_later(user.unused_since, months)).date()
        deactivates_on = max(due, timezone.localdate(now + notice))
        if _notice_claim(user=user, deactivates_on=deactivates_on):
            told += 1
    return told


def _notice_claim(*, user: Any, deactivates_on: date) -> bool:
    try:
        with transaction.atomic():
            # The claim: the unique key refuses a second notice for this period of disuse.
            InactivityNotice.objects.create(
                user=user, unused_since=user.unused_since, deactivates_on=deactivates_on
            )
            unit_id = (
                StaffProfile.objects.filter(user_id=user.pk)
                .values_list("unit_id", flat=True)
                .first()
            )
            when = deactivates_on.isoformat()
            # LEAK-2: the subject names no person, only the date.
            notify_each_once(
                [user],
                subject=_("Your account will be deactivated on %(date)s") % {"date": when},
                body=_(
                    "Nobody has logged in to your account for a long time. Log in before "
                    "%(date)s to keep it; after that only an administrator can open it again."
                )
                % {"date": when},
            )
            managers = [m for m in unit_managers({unit_id} if unit_id else set()) if m != user]
            notify_each_once(
                managers,
                subject=_("An account of your unit will be deactivated on %(date)s")
                % {"date": when},
                body=_(
                    "The account %(username)s has not been used for a long time and will be "
                    "deactivated on %(date)s unless its user logs in before then."
                )
                % {"username": user.get_username(), "date": when},
            )
    except IntegrityError:
        return False
    return True


def accounts_unused_deactivate() -> int:
    """Deactivate the accounts past the limit whose users were told long enough ago, ending
    their grants (ACCESS-5). Returns how many accounts were deactivated."""
    now = timezone.now()
    cutoff = months_later(now, -settings.STAFF_INACTIVE_MONTHS)
    told_before = now - timedelta(days=settings.STAFF_INACTIVE_NOTICE_DAYS)
    due = _users_with_last_use().filter(
        unused_since__lte=cutoff,
        pk__in=InactivityNotice.objects.filter(notified_at__lte=told_before).values("user_id"),
    )
    deactivated = 0
    for user_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            # Lock, then check again: another run may have deactivated the user, or the user
            # may have logged in since the list was read.
            user = (
                _users_with_last_use()
                .select_for_update(of=("self",))
                .filter(pk=user_id, unused_since__lte=cutoff)
                .first()
            )
            if (
                user is None
                or not InactivityNotice.objects.filter(
                    user_id=user_id, unused_since=user.unused_since, notified_at__lte=told_before
                ).exists()
            ):
                continue
            locked_user_deactivate(actor=Actor.system(), ended_by=None, user=user)
            deactivated += 1
    return deactivated

"""Reminders before things end (PROT-6, ACCESS-5), sent once each by the daily maintenance.

Each reminder is claimed before it is sent (a conditional update, or a row whose primary key
is the grant), so an overlapping run or a retry never sends one twice.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.services import notification_send
from protection.models import GrantReminder, LocalProtection
from protection.permissions import unit_managers
from protection.selectors import grants_in_force
from protection.services.notify import notify_each_once

GRANT_REMINDER_DAYS = 14


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
            recipients = [manager] if manager.is_active else unit_managers({protection.unit_id})
            notify_each_once(
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
    sent = 0
    candidates = (
        grants_in_force()
        .filter(ends_at__lte=timezone.now() + timedelta(days=GRANT_REMINDER_DAYS))
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

"""What the patients floor puts on the start page (``patients.startpage``): the user's unread
messages, customer service's quarantined register records, and the administration for staff."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from patients.models import Notification, QuarantinedRecord
from patients.startpage import StartItem, StartSection, start_section_register


def _messages(user: Any) -> Sequence[StartItem]:
    # Every logged-in user has messages; the count uses the partial index of unread ones.
    unread = Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()
    return [StartItem(_("Unread messages"), reverse("messages:list"), unread)]


def _register(user: Any) -> Sequence[StartItem] | None:
    # The quarantine is handled in the admin, which asks Django's own permission.
    if not (user.is_staff and user.has_perm("patients.view_quarantinedrecord")):
        return None
    waiting = QuarantinedRecord.objects.filter(resolved_at__isnull=True).count()
    return [
        StartItem(
            _("Quarantined register records to handle"),
            reverse("admin:patients_quarantinedrecord_changelist") + "?resolved_at__isnull=True",
            waiting,
        )
    ]


def _administration(user: Any) -> Sequence[StartItem] | None:
    if not user.is_staff:
        return None
    return [StartItem(_("Administration"), reverse("admin:index"))]


def register() -> None:
    start_section_register(StartSection("register", _("Patient register"), 40, _register))
    start_section_register(StartSection("messages", _("Messages"), 80, _messages))
    start_section_register(StartSection("administration", _("Administration"), 90, _administration))

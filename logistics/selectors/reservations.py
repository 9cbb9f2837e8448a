"""LOG-1: what a prescriber's drafts hold reserved, and what lapsed recently. The patient is
never read: each row names its prescription by number only. Two queries."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from logistics.models import Reservation, ReservationState

RECENT_LAPSES = datetime.timedelta(days=14)


def reservations_for_prescriber(*, user: Any) -> tuple[list[Reservation], list[Reservation]]:
    """(active reservations of the user's drafts, those lapsed in the last two weeks)."""
    base = Reservation.objects.filter(holder=user, prescription_line__isnull=False).select_related(
        "article", "prescription_line__prescription"
    )
    active = list(
        base.filter(
            state=ReservationState.ACTIVE, prescription_line__prescription__state="draft"
        ).order_by("lapses_at", "pk")
    )
    lapsed = list(
        base.filter(
            state=ReservationState.LAPSED, ended_at__gte=timezone.now() - RECENT_LAPSES
        ).order_by("-ended_at", "pk")[:100]
    )
    return active, lapsed

"""LOG-1: the goods a prescriber's draft (the cart) holds reserved in the region's central store.

``reservations_sync_for_draft`` is registered in ``prescriptions.registry.draft_changed_handlers``
and runs in the transaction that changed the draft (the prescription is locked by then):

- a draft: each line holds one reservation of min(quantity, available) in the central store of
  the prescription's region, lapsing ``RESERVATION_LAPSE_HOURS`` after it was made; a changed
  quantity or article remakes it, a removed line's reservation is released;
- submitted, waiting or approved: the reservations stay and stop lapsing (the customer order
  takes them over, ``reservation_end(state=CONVERTED)``);
- cancelled: all are released.

A removed line's reservation has lost its line (``SET_NULL``); it is found as the holder's
active reservation with neither a draft line nor an order line, which only a removed draft line
leaves behind. Three queries when nothing changes; the stock service's row locks per changed line.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import LocationKind, Reservation, ReservationState, StockLevel, StockLocation
from logistics.services.stock import reservation_end, reservation_make
from patients.services import notification_send
from prescriptions.models import Prescription, PrescriptionLine, PrescriptionState

S = PrescriptionState
# Sent on, no longer lapsing: the customer order takes the reservations over.
_KEPT_STATES = frozenset({S.SUBMITTED, S.AWAITING_AGREEMENT, S.AWAITING_REGISTRATION, S.APPROVED})


def lapse_after() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.RESERVATION_LAPSE_HOURS)


def _central_store() -> Subquery:
    return Subquery(
        StockLocation.objects.filter(
            kind=LocationKind.CENTRAL, region_id=OuterRef("unit__unit__region_id"), active=True
        )
        .order_by("pk")
        .values("pk")[:1]
    )


def _held(prescription_id: int, holder_id: int) -> list[Reservation]:
    return list(
        Reservation.objects.filter(state=ReservationState.ACTIVE).filter(
            Q(prescription_line__prescription_id=prescription_id)
            | Q(holder_id=holder_id, prescription_line__isnull=True, order_line__isnull=True)
        )
    )


def reservations_sync_for_draft(prescription_id: int) -> None:
    """Bring the draft's reservations in line with its lines (see the module docstring)."""
    row = (
        Prescription.objects.filter(pk=prescription_id)
        .annotate(central_id=_central_store())
        .values("state", "prescriber_id", "central_id")
        .first()
    )
    if row is None:
        return
    state, holder_id, central_id = row["state"], row["prescriber_id"], row["central_id"]
    if state in _KEPT_STATES:
        Reservation.objects.filter(
            state=ReservationState.ACTIVE,
            prescription_line__prescription_id=prescription_id,
            lapses_at__isnull=False,
        ).update(lapses_at=None)
        return
    held = _held(prescription_id, holder_id)
    if state != S.DRAFT or central_id is None:
        for reservation in held:
            reservation_end(reservation=reservation, state=ReservationState.RELEASED)
        return
    lines = list(
        PrescriptionLine.objects.filter(prescription_id=prescription_id)
        .annotate(
            available=Subquery(
                StockLevel.objects.filter(
                    location_id=central_id, article_id=OuterRef("article_id")
                ).values("available")[:1]
            )
        )
        .values("pk", "article_id", "quantity", "available")
    )
    by_line: dict[int | None, list[Reservation]] = defaultdict(list)
    for reservation in held:
        by_line[reservation.prescription_line_id].append(reservation)
    lapses_at = timezone.now() + lapse_after()
    for line in lines:
        current = by_line.pop(line["pk"], [])
        kept = [
            r for r in current if r.article_id == line["article_id"] and r.location_id == central_id
        ]
        if len(kept) == 1 and len(current) == 1:
            have = kept[0].quantity
            if have == line["quantity"] or (
                have < line["quantity"] and (line["available"] or 0) <= 0
            ):
                continue  # as it should be, or nothing more to take
        elif not current and not (line["available"] or 0) > 0:
            continue  # nothing held and nothing to hold
        for reservation in current:
            reservation_end(reservation=reservation, state=ReservationState.RELEASED)
        reservation_make(
            article_id=line["article_id"],
            location_id=central_id,
            quantity=line["quantity"],
            holder=_user(holder_id),
            prescription_line_id=line["pk"],
            lapses_at=lapses_at,
            partial=True,
        )
    for leftovers in by_line.values():  # removed lines
        for reservation in leftovers:
            reservation_end(reservation=reservation, state=ReservationState.RELEASED)


def _user(user_id: int) -> Any:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    return user_model(pk=user_id)


@transaction.atomic
def reservation_release(*, user: Any, reservation_id: int) -> bool:
    """LOG-1: the prescriber releases one of their own draft's reservations (avreservera).
    False when it is not theirs, not active or not a draft's."""
    reservation = (
        Reservation.objects.filter(
            pk=reservation_id,
            holder=user,
            state=ReservationState.ACTIVE,
            prescription_line__prescription__state=S.DRAFT,
        )
        .select_for_update(of=("self",))
        .first()
    )
    if reservation is None:
        return False
    return reservation_end(reservation=reservation, state=ReservationState.RELEASED, by=user)


@transaction.atomic
def reservations_release_all(*, user: Any) -> int:
    """LOG-1: release every reservation the user's drafts hold (avreservera kvarglömda)."""
    reservations = list(
        Reservation.objects.filter(
            holder=user,
            state=ReservationState.ACTIVE,
            prescription_line__prescription__state=S.DRAFT,
        ).order_by("location_id", "article_id", "pk")
    )
    return sum(
        reservation_end(reservation=r, state=ReservationState.RELEASED, by=user)
        for r in reservations
    )


def reservations_lapse(*, now: datetime.datetime | None = None) -> int:
    """LOG-1: end the lapsed reservations of drafts never submitted and tell each prescriber
    once per prescription (subject: the prescription's number only, LEAK-2). One transaction per
    prescription, which is locked first (as the prescriptions floor locks it) and must still be
    a draft; each reservation is claimed by ``reservation_end``'s conditional UPDATE, and the
    notice by a conditional UPDATE of ``lapse_notified_at``, so a second run does nothing."""
    now = now or timezone.now()
    due = Q(state=ReservationState.ACTIVE, lapses_at__lte=now)
    prescriptions = set(
        Reservation.objects.filter(due, prescription_line__isnull=False).values_list(
            "prescription_line__prescription_id", flat=True
        )
    )
    prescriptions |= set(
        Reservation.objects.filter(
            state=ReservationState.LAPSED,
            lapse_notified_at__isnull=True,
            prescription_line__isnull=False,
        ).values_list("prescription_line__prescription_id", flat=True)
    )
    told = 0
    for prescription_id in sorted(prescriptions):
        with transaction.atomic():
            prescription = (
                Prescription.objects.select_for_update()
                .select_related("prescriber")
                .filter(pk=prescription_id)
                .first()
            )
            if prescription is None:
                continue
            if prescription.state == S.DRAFT:
                for reservation in Reservation.objects.filter(
                    due, prescription_line__prescription_id=prescription_id
                ).order_by("location_id", "article_id", "pk"):
                    reservation_end(reservation=reservation, state=ReservationState.LAPSED)
            told += _lapse_notice(prescription, now)
    return told


def _lapse_notice(prescription: Prescription, now: datetime.datetime) -> int:
    unnoticed = Reservation.objects.filter(
        state=ReservationState.LAPSED,
        lapse_notified_at__isnull=True,
        prescription_line__prescription_id=prescription.pk,
    )
    rows = list(unnoticed.select_related("article").order_by("article__article_number", "pk"))
    claimed = unnoticed.filter(pk__in=[r.pk for r in rows]).update(lapse_notified_at=now)
    if not claimed:
        return 0
    articles = "\n".join(
        f"- {r.article.article_number} {r.article.name} ({r.quantity})" for r in rows
    )
    notification_send(
        user=prescription.prescriber,
        subject=_("Reserved articles lapsed: %(number)s") % {"number": prescription.reference},
        body=_(
            "The reservations of draft %(number)s lapsed because it was not submitted. "
            "These articles are no longer reserved:\n%(articles)s"
        )
        % {"number": prescription.reference, "articles": articles},
    )
    return 1

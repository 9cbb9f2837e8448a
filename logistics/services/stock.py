"""The stock figures, changed in one place: every change locks the article's row in the store
first (house style 3) and writes the new figures in the caller's transaction. The database
refuses negative figures and a reservation beyond what is physically there."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import Reservation, ReservationState, StockLevel
from logistics.services.errors import NotEnoughStock


def level_locked(*, article_id: int, location_id: int) -> StockLevel:
    """The article's row in the store, locked for this transaction (made at zero if new)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stock: lock a level inside a transaction")
    StockLevel.objects.get_or_create(article_id=article_id, location_id=location_id)
    return StockLevel.objects.select_for_update().get(
        article_id=article_id, location_id=location_id
    )


def level_change(
    *,
    level: StockLevel,
    physical: int = 0,
    reserved: int = 0,
    backordered: int = 0,
    on_order: int = 0,
) -> StockLevel:
    """Add the given amounts (negative to take away) to a locked level, and read it back."""
    StockLevel.objects.filter(pk=level.pk).update(
        physical=F("physical") + physical,
        reserved=F("reserved") + reserved,
        backordered=F("backordered") + backordered,
        on_order=F("on_order") + on_order,
    )
    level.refresh_from_db()
    return level


def reservation_make(
    *,
    article_id: int,
    location_id: int,
    quantity: int,
    holder: Any = None,
    prescription_line_id: int | None = None,
    order_line_id: int | None = None,
    lapses_at: Any = None,
    partial: bool = False,
) -> Reservation | None:
    """Reserve ``quantity`` of what is available in the store. With ``partial`` what is there
    is reserved (None when nothing is); without it, too little raises NotEnoughStock."""
    level = level_locked(article_id=article_id, location_id=location_id)
    take = min(quantity, max(level.available, 0)) if partial else quantity
    if take <= 0:
        return None
    if take > level.available:
        raise NotEnoughStock(
            _("Only %(available)s available of the article in %(store)s.")
            % {"available": level.available, "store": level.location.name}
        )
    level_change(level=level, reserved=take)
    return Reservation.objects.create(
        article_id=article_id,
        location_id=location_id,
        quantity=take,
        holder=holder,
        prescription_line_id=prescription_line_id,
        order_line_id=order_line_id,
        lapses_at=lapses_at,
    )


def reservation_end(*, reservation: Reservation, state: str, by: Any = None) -> bool:
    """End an active reservation (released, lapsed, moved to the order, or picked) and give
    its quantity back to the store's available figure. Claimed with a conditional UPDATE, so
    two ends of the same reservation count once; False when it had already ended.

    A picked reservation (``consumed``) leaves the physical figure to the caller, who takes the
    goods out of the store in the same transaction."""
    level = level_locked(article_id=reservation.article_id, location_id=reservation.location_id)
    ended = Reservation.objects.filter(pk=reservation.pk, state=ReservationState.ACTIVE).update(
        state=state,
        ended_at=timezone.now(),
        ended_by=by if getattr(by, "is_authenticated", False) else None,
    )
    if ended != 1:
        return False
    level_change(level=level, reserved=-reservation.quantity)
    reservation.refresh_from_db()
    return True

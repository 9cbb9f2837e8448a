"""LOG-2: a unit orders replenishment of its buffer store from the central store, and the
delivered lines are put into the buffer store once (``replenishment_received``, called by
delivery)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.calendar import working_days_after
from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DestinationKind,
    LineState,
    LocationKind,
    OrderKind,
    ReplenishmentStocked,
    StockLocation,
)
from logistics.models.orders import new_replenishment_number
from logistics.services.errors import LogisticsError
from logistics.services.state import line_created, order_created
from logistics.services.stock import level_change, level_locked
from patients.models import StaffProfile
from prescriptions.models import Article, PrescriberProfile, PrescribingUnit
from protection.permissions import holds_role_permission

ORDER_REPLENISHMENT = "logistics.order_replenishment"


def user_unit_ids(user: Any) -> set[int]:
    """The units the user works for: the unit they act for and the units they prescribe for."""
    ids = set(
        StaffProfile.objects.filter(user_id=user.pk, unit__isnull=False).values_list(
            "unit_id", flat=True
        )
    )
    ids |= set(
        PrescriberProfile.objects.filter(user_id=user.pk).values_list("units__unit_id", flat=True)
    )
    return {unit_id for unit_id in ids if unit_id is not None}


def buffer_store_for_user(user: Any, code: str) -> StockLocation | None:
    """A buffer store of one of the user's units, if they may order its replenishment; None
    otherwise (another unit's store and a missing one alike)."""
    if not holds_role_permission(user, ORDER_REPLENISHMENT):
        return None
    return (
        StockLocation.objects.filter(
            code=code, kind=LocationKind.BUFFER, active=True, unit_id__in=user_unit_ids(user)
        )
        .select_related("unit")
        .first()
    )


@transaction.atomic
def replenishment_order(
    *,
    user: Any,
    location_code: str,
    lines: list[tuple[str, int]],
    today: datetime.date | None = None,
) -> CustomerOrder:
    """A replenishment order (LOG-2) for the buffer store: lines of (article number, quantity);
    a serial-numbered article gets one line per device."""
    store = buffer_store_for_user(user, location_code)
    if store is None or store.unit_id is None:
        raise LogisticsError(_("No such buffer store of your unit."))
    central = StockLocation.objects.filter(
        kind=LocationKind.CENTRAL, region_id=store.region_id, active=True
    ).first()
    if central is None:
        raise LogisticsError(_("The region has no central store to replenish from."))
    unit = PrescribingUnit.objects.filter(unit_id=store.unit_id).first()
    if unit is None:
        raise LogisticsError(_("The unit has no delivery address."))
    if not lines:
        raise LogisticsError(_("Give at least one article and quantity."))
    day = today or timezone.localdate()
    planned: list[tuple[Article, int, datetime.date]] = []
    for number, quantity in lines:
        article = Article.objects.filter(article_number=number, in_assortment=True).first()
        if article is None:
            raise LogisticsError(
                _("Article %(article)s is not in the assortment.") % {"article": number}
            )
        if quantity < 1:
            raise LogisticsError(_("Article %(article)s: order at least 1.") % {"article": number})
        promise = working_days_after(day, article.assortment_days)
        if article.serial_numbered:
            planned.extend((article, 1, promise) for _ in range(quantity))
        else:
            planned.append((article, quantity, promise))
    order = CustomerOrder.objects.create(
        number=new_replenishment_number(),
        kind=OrderKind.REPLENISHMENT,
        unit=unit,
        orderer=user,
        destination_kind=DestinationKind.UNIT,
        delivery_unit=unit,
        delivery_contact=user,
        to_location=store,
        from_location=central,
        agreement_type=unit.agreement_type,
        promised_on=max(promise for _a, _q, promise in planned),
    )
    order_created(order=order, by=user)
    for position, (article, quantity, promise) in enumerate(planned, start=1):
        line = CustomerOrderLine.objects.create(
            order=order,
            position=position,
            article=article,
            quantity=quantity,
            supply=article.supply,
            promised_on=promise,
        )
        line_created(line=line, by=user)
    return order


@transaction.atomic
def replenishment_received(*, order_id: int, by: Any) -> int:
    """Put the delivered lines of a replenishment into its buffer store: physical up under the
    level lock, once per line (a ReplenishmentStocked row each, so a second call adds nothing).
    Returns the number of units added."""
    order = CustomerOrder.objects.select_for_update().get(pk=order_id)
    if order.kind != OrderKind.REPLENISHMENT or order.to_location_id is None:
        raise LogisticsError(
            _("Order %(number)s is not a replenishment.") % {"number": order.number}
        )
    done = set(
        ReplenishmentStocked.objects.filter(line__order_id=order_id).values_list(
            "line_id", flat=True
        )
    )
    lines = [
        line
        for line in CustomerOrderLine.objects.filter(
            order_id=order_id, state=LineState.DELIVERED
        ).order_by("article_id", "pk")
        if line.pk not in done
    ]
    added = 0
    for line in lines:
        level = level_locked(article_id=line.article_id, location_id=order.to_location_id)
        level_change(level=level, physical=line.quantity)
        ReplenishmentStocked.objects.create(
            line=line, location_id=order.to_location_id, quantity=line.quantity
        )
        added += line.quantity
    return added

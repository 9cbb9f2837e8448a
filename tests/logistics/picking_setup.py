"""Allocated orders for the picking and delivery tests, made directly on the core models (the
order-creation part of the floor is built elsewhere): an ordinary patient's, a protected
patient's (to the unit, the prescriber as contact) and a replenishment of a buffer store."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DeliveryArea,
    DestinationKind,
    LineState,
    LocationKind,
    OrderKind,
    Reservation,
    ReservationState,
    StockLocation,
)
from logistics.services.state import line_created, line_move, order_created, order_state_sync
from logistics.services.stock import (
    level_change,
    level_locked,
    reservation_end,
    reservation_make,
)
from prescriptions.models import AgreementType, Article, PickupPoint, PrescribingUnit, Prescription

PROMISE = datetime.date(2026, 12, 18)


def area_all_week(name: str = "Malmö", postal_from: str = "20000", postal_to: str = "23999"):
    return DeliveryArea.objects.create(
        name=name, postal_from=postal_from, postal_to=postal_to, weekdays=[0, 1, 2, 3, 4]
    )


def stocked(article: Article, store: StockLocation, quantity: int = 10) -> None:
    with transaction.atomic():
        level_change(
            level=level_locked(article_id=article.pk, location_id=store.pk), physical=quantity
        )


def _lines(order: CustomerOrder, articles: tuple[Article, ...], store: StockLocation) -> None:
    for position, article in enumerate(articles, start=1):
        line = CustomerOrderLine.objects.create(
            order=order,
            position=position,
            article=article,
            quantity=1,
            supply="rent",
            promised_on=PROMISE,
        )
        line_created(line=line)
        reservation_make(
            article_id=article.pk, location_id=store.pk, quantity=1, order_line_id=line.pk
        )
        line_move(line=line, to_state=LineState.ALLOCATED)
    order_state_sync(order_id=order.pk)


@transaction.atomic
def allocated_order(
    prescription: Prescription,
    store: StockLocation,
    *articles: Article,
    protected: bool = False,
    pickup_point: PickupPoint | None = None,
) -> CustomerOrder:
    """An allocated customer order of the approved prescription: to the patient's address, a
    pickup point, or (protected) the unit with the prescriber as contact."""
    unit: PrescribingUnit = prescription.unit
    if protected:
        destination: dict[str, Any] = {
            "destination_kind": DestinationKind.UNIT,
            "delivery_unit": unit,
            "delivery_contact": prescription.prescriber,
        }
    elif pickup_point is not None:
        destination = {
            "destination_kind": DestinationKind.PICKUP_POINT,
            "pickup_point": pickup_point,
        }
    else:
        destination = {"destination_kind": DestinationKind.PATIENT_ADDRESS}
    # As the order's creation does: the draft's reservations (LOG-1) move to the order.
    for held in Reservation.objects.filter(
        prescription_line__prescription=prescription, state=ReservationState.ACTIVE
    ):
        reservation_end(reservation=held, state=ReservationState.CONVERTED)
    order = CustomerOrder.objects.create(
        number=prescription.reference,
        kind=OrderKind.CUSTOMER,
        prescription=prescription,
        patient=prescription.patient,
        unit=unit,
        orderer=prescription.prescriber,
        patient_protected=protected,
        from_location=store,
        agreement_type=AgreementType.COOPERATION,
        promised_on=PROMISE,
        **destination,
    )
    order_created(order=order)
    _lines(order, articles, store)
    return order


@transaction.atomic
def allocated_replenishment(
    unit: PrescribingUnit, orderer: Any, store: StockLocation, *articles: Article
) -> CustomerOrder:
    buffer, _created = StockLocation.objects.get_or_create(
        code=f"buffer-{unit.pk}",
        defaults={
            "name": f"Buffert {unit.unit.name}",
            "kind": LocationKind.BUFFER,
            "region_id": store.region_id,
            "unit": unit.unit,
        },
    )
    order = CustomerOrder.objects.create(
        number=f"L-{unit.pk:08d}"[:12],
        kind=OrderKind.REPLENISHMENT,
        unit=unit,
        orderer=orderer,
        destination_kind=DestinationKind.UNIT,
        delivery_unit=unit,
        delivery_contact=orderer,
        to_location=buffer,
        from_location=store,
        agreement_type=AgreementType.COOPERATION,
        promised_on=PROMISE,
    )
    order_created(order=order)
    _lines(order, articles, store)
    return order

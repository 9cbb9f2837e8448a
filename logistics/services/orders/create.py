"""An approved prescription becomes a customer order (its ``OrderRelease`` is the event).

The release is claimed with a conditional UPDATE of ``taken_at`` (row count checked), so a task
run twice makes one order. The order carries the prescription's number, its patient by internal
id, the unit and the prescriber; the destination is the prescription's computed delivery
(PRESC-2): the unit, the patient's address (read by the papers when they are made, never copied
here), a pickup point (LOG-4), or, for a special agreement, the unit with the prescriber as
contact (the prescriber hands over per the agreement; logistics never holds its details). A
guarded patient's order goes to the unit with the prescriber as contact and never to a supplier
(LOG-3); the database refuses anything else, and that refusal is turned into
:class:`Presc2Refused` naming the order number only.

The right store: the unit's active customer store (kundlager) when it holds every article of
the order available in the full quantity, else the central store of the unit's region.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.calendar import working_days_after
from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DestinationKind,
    LocationKind,
    OrderKind,
    Reservation,
    ReservationState,
    StockLevel,
    StockLocation,
    UrgentFee,
)
from logistics.services.direct import direct_deliveries_order
from logistics.services.errors import LogisticsError
from logistics.services.state import line_created, order_created
from logistics.services.stock import reservation_end
from prescriptions.models import (
    DeliveryKind,
    OrderRelease,
    Prescription,
    PrescriptionLine,
    Urgency,
)
from prescriptions.services.access import patient_guarded

# A release no task took within this long is sent again by the sweep (a lost message).
RELEASE_RETRY_AFTER = datetime.timedelta(minutes=5)


class Presc2Refused(LogisticsError):
    """PRESC-2 / LOG-3: the database refused a protected patient's order anywhere but the unit."""

    rule = "PRESC-2"


@contextmanager
def presc2_enforced(number: str) -> Iterator[None]:
    """The database's refusal (CHECK ``log_protected_order_to_unit`` or the trigger) as a domain
    error with the order number only; the driver's DETAIL holds the row and is dropped."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        text = str(error)
        if "PRESC-2" not in text and "log_protected_order_to_unit" not in text:
            raise
        raise Presc2Refused(
            _(
                "Order %(number)s: a patient with protected identity is supplied only through "
                "the prescriber's unit by the region."
            )
            % {"number": number}
        ) from None


def promise_for(*, day: datetime.date, assortment_days: int, urgent: bool) -> datetime.date:
    """The delivery promise on the working-day calendar: 7 or 17 working days after the order
    day, or the next working day (within 24 hours) when urgent."""
    return working_days_after(day, 1 if urgent else assortment_days)


def _central_store(unit_region_id: str) -> StockLocation:
    stores = StockLocation.objects.filter(kind=LocationKind.CENTRAL, active=True)
    store = stores.filter(region_id=unit_region_id).order_by("pk").first() or (
        stores.order_by("pk").first()
    )
    if store is None:
        raise LogisticsError(_("There is no central store to supply orders from."))
    return store


def store_for(*, unit_id: int, region_id: str, needed: dict[int, int]) -> StockLocation:
    """The right store: the unit's customer store when it holds all of ``needed`` (article id
    -> quantity) available, else the central store."""
    customer = (
        StockLocation.objects.filter(kind=LocationKind.CUSTOMER, unit_id=unit_id, active=True)
        .order_by("pk")
        .first()
    )
    if customer is not None and needed:
        available = dict(
            StockLevel.objects.filter(location=customer, article_id__in=needed)
            .values_list("article_id")
            .annotate(total=Sum("available"))
            .values_list("article_id", "total")
        )
        if all(available.get(article, 0) >= quantity for article, quantity in needed.items()):
            return customer
    return _central_store(region_id)


def _destination(prescription: Prescription, guarded: bool) -> dict[str, object]:
    to_unit = {
        "destination_kind": DestinationKind.UNIT,
        "delivery_unit_id": prescription.unit_id,
        "delivery_contact_id": prescription.prescriber_id,
        "pickup_point_id": None,
    }
    if guarded or prescription.delivery_kind in (DeliveryKind.UNIT, DeliveryKind.SPECIAL_AGREEMENT):
        return to_unit
    if prescription.delivery_kind == DeliveryKind.PICKUP_POINT and prescription.pickup_point_id:
        return {
            "destination_kind": DestinationKind.PICKUP_POINT,
            "delivery_unit_id": None,
            "delivery_contact_id": None,
            "pickup_point_id": prescription.pickup_point_id,
        }
    if prescription.delivery_kind == DeliveryKind.PATIENT_ADDRESS:
        return {
            "destination_kind": DestinationKind.PATIENT_ADDRESS,
            "delivery_unit_id": None,
            "delivery_contact_id": None,
            "pickup_point_id": None,
        }
    return to_unit


def order_create(*, prescription: Prescription) -> CustomerOrder:
    """The customer order of an approved prescription, in the caller's transaction: lines (a
    serial-numbered article one line per unit), promises, the urgent fee, the draft's
    reservations moved to the order and the lines allocated fresh."""
    from logistics.services.orders.allocation import orders_allocate

    existing = CustomerOrder.objects.filter(prescription=prescription).first()
    if existing is not None:
        return existing
    lines = list(
        PrescriptionLine.objects.filter(prescription=prescription)
        .select_related("article")
        .order_by("position")
    )
    guarded = patient_guarded(prescription.patient_id)
    destination = _destination(prescription, guarded)
    if guarded and destination["destination_kind"] != DestinationKind.UNIT:
        raise Presc2Refused(_("Order %(number)s: PRESC-2.") % {"number": prescription.reference})
    urgent = prescription.urgency == Urgency.URGENT
    today = timezone.localdate()
    needed: dict[int, int] = {}
    for line in lines:
        needed[line.article_id] = needed.get(line.article_id, 0) + line.quantity
    unit = prescription.unit.unit
    store = store_for(unit_id=unit.pk, region_id=unit.region_id, needed=needed)
    promises = {
        line.pk: promise_for(day=today, assortment_days=line.article.assortment_days, urgent=urgent)
        for line in lines
    }
    with presc2_enforced(prescription.reference):
        order = CustomerOrder.objects.create(
            number=prescription.reference,
            kind=OrderKind.CUSTOMER,
            prescription=prescription,
            patient_id=prescription.patient_id,
            unit_id=prescription.unit_id,
            orderer_id=prescription.prescriber_id,
            patient_protected=guarded,
            from_location=store,
            urgent=urgent,
            agreement_type=prescription.unit.agreement_type,
            supplier_direct=bool(lines)
            and not guarded
            and all(line.article.supplier_delivers for line in lines),
            promised_on=max(promises.values(), default=today),
            **destination,
        )
    order_created(
        order=order, note=_("Made from prescription %(number)s") % {"number": order.number}
    )
    position = 0
    for line in lines:
        copies = line.quantity if line.article.serial_numbered else 1
        for _copy in range(copies):
            position += 1
            made = CustomerOrderLine.objects.create(
                order=order,
                position=position,
                article_id=line.article_id,
                quantity=1 if line.article.serial_numbered else line.quantity,
                supply=line.supply,
                prescription_line=line,
                promised_on=promises[line.pk],
            )
            line_created(line=made)
    if urgent:
        UrgentFee.objects.create(
            order=order, amount_sek=Decimal(settings.URGENT_FEE_SEK).quantize(Decimal("0.01"))
        )
    drafts = Reservation.objects.filter(
        prescription_line__prescription=prescription, state=ReservationState.ACTIVE
    ).order_by("location_id", "article_id", "pk")
    for reservation in drafts:
        reservation_end(reservation=reservation, state=ReservationState.CONVERTED)
    # LOG-3: what its supplier delivers directly goes to the supplier; the rest is allocated.
    direct_deliveries_order(order=order)
    orders_allocate(order_ids=[order.pk])
    return order


@transaction.atomic
def order_create_from_release(*, prescription_id: int) -> CustomerOrder | None:
    """Claim the release (conditional UPDATE, safe twice) and make the order; None when the
    release was already taken or does not exist."""
    claimed = OrderRelease.objects.filter(
        prescription_id=prescription_id, taken_at__isnull=True
    ).update(taken_at=timezone.now())
    if claimed != 1:
        return None
    prescription = (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("unit__unit")
        .get(pk=prescription_id)
    )
    return order_create(prescription=prescription)


def order_releases_sweep() -> list[int]:
    """The prescriptions whose release no task took within a few minutes (a lost message)."""
    before = timezone.now() - RELEASE_RETRY_AFTER
    return list(
        OrderRelease.objects.filter(taken_at__isnull=True, released_at__lt=before)
        .order_by("released_at")
        .values_list("prescription_id", flat=True)[:500]
    )

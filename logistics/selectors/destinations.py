"""Where an order goes, as logistics may see it, read at the moment it is needed (nothing is
copied onto logistics' rows): the prescriber's unit with the prescriber as contact, a pickup
point (LOG-4), or an ordinary patient's registered address, read through the patients floor's
identity table as the user (row-level security hides every guarded patient's row). A
protected patient's order only ever has the unit (PRESC-2, enforced by the database).

The postal code decides the delivery area; an order's delivery day is the first of its area's
days on or after the day its lines are ready, on the working-day calendar."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from logistics.calendar import is_working_day
from logistics.models import CustomerOrder, DeliveryArea, DestinationKind, OrderKind
from patients.models import AccessAction, AccessEntry, AccessOutcome, PatientIdentity
from protection.documents.letters import address_lines
from protection.gate import AccessContext

# At most this many days ahead is searched for an area's next day (holidays included).
_HORIZON_DAYS = 60


@dataclass(frozen=True)
class Destination:
    kind: str
    label: str  # what kind of place, for the user ("the prescriber's unit", "pickup point")
    lines: list[str]  # the address as envelope lines; empty when it cannot be read
    postal_code: str  # five digits, or "" when unknown
    contact: str = ""  # the prescriber, for a delivery to the unit
    # The ordinary patient whose registered address this is (for the access log); else None.
    patient_id: int | None = None
    notes: list[str] = field(default_factory=list)


def _postal(code: object) -> str:
    digits = "".join(ch for ch in str(code or "") if ch.isdigit())
    return digits if len(digits) == 5 else ""


def _person(user: object) -> str:
    full = getattr(user, "get_full_name", lambda: "")()
    return str(full or getattr(user, "get_username", lambda: "")())


def _addresses_for(orders: Sequence[CustomerOrder]) -> dict[int, dict[str, object]]:
    """The registered addresses of the ordinary patients among ``orders`` whose delivery goes
    to their address: one query, read as the user (a guarded patient's row is not returned)."""
    ids = [
        order.patient_id
        for order in orders
        if order.destination_kind == DestinationKind.PATIENT_ADDRESS
        and not order.patient_protected
        and order.patient_id is not None
    ]
    if not ids:
        return {}
    found: dict[int, dict[str, object]] = {}
    for identity in PatientIdentity.objects.filter(patient_id__in=ids).only(
        "patient_id", "registered_address"
    ):
        if isinstance(identity.registered_address, dict):
            found[identity.patient_id] = identity.registered_address
    return found


def destinations_for(orders: Sequence[CustomerOrder]) -> dict[int, Destination]:
    """Each order's destination by order id. The orders are loaded with ``delivery_unit__unit``,
    ``delivery_contact`` and ``pickup_point`` (see :data:`DESTINATION_RELATED`)."""
    addresses = _addresses_for(orders)
    result: dict[int, Destination] = {}
    for order in orders:
        result[order.pk] = _destination(order, addresses)
    return result


def destinations_read(
    *, ctx: AccessContext, orders: Sequence[CustomerOrder]
) -> dict[int, Destination]:
    """:func:`destinations_for` for a page: each patient's address shown is a read of patient
    data and goes to the access log, one entry per order, as the order pages log theirs. A
    unit or pickup point (every protected patient's order) reads no patient: nothing logged."""
    destinations = destinations_for(orders)
    AccessEntry.objects.bulk_create(
        [
            AccessEntry(
                user_id=ctx.actor.user_id,
                unit_id=ctx.actor.unit_id,
                action=AccessAction.READ,
                outcome=AccessOutcome.ALLOWED,
                patient_id=destination.patient_id,
                patient_protected=False,
                object_type="delivery address",
                object_id=order.number,
                ip_address=ctx.actor.ip_address,
                session_ref=ctx.actor.session_ref,
            )
            for order in orders
            if (destination := destinations[order.pk]).patient_id is not None
        ]
    )
    return destinations


DESTINATION_RELATED = ("delivery_unit__unit", "delivery_contact", "pickup_point", "unit__unit")


def _destination(order: CustomerOrder, addresses: dict[int, dict[str, object]]) -> Destination:
    kind = order.destination_kind
    if kind == DestinationKind.UNIT or order.patient_protected:
        unit = order.delivery_unit or order.unit
        postal = _postal(unit.delivery_postal_code)
        return Destination(
            kind=DestinationKind.UNIT,
            label=str(DestinationKind.UNIT.label)
            if order.kind == OrderKind.CUSTOMER
            else _("the unit's buffer store"),
            lines=[
                unit.unit.name,
                unit.delivery_street,
                f"{postal[:3]} {postal[3:]} {unit.delivery_town}".strip(),
            ],
            postal_code=postal,
            contact=_person(order.delivery_contact or order.orderer),
            notes=[unit.delivery_note] if unit.delivery_note else [],
        )
    if kind == DestinationKind.PICKUP_POINT and order.pickup_point is not None:
        point = order.pickup_point
        postal = _postal(point.postal_code)
        return Destination(
            kind=kind,
            label=str(DestinationKind.PICKUP_POINT.label),
            lines=[point.name, point.street, f"{postal[:3]} {postal[3:]} {point.town}".strip()],
            postal_code=postal,
            notes=[point.opening_hours] if point.opening_hours else [],
        )
    address = addresses.get(order.patient_id or 0)
    return Destination(
        kind=DestinationKind.PATIENT_ADDRESS,
        label=str(DestinationKind.PATIENT_ADDRESS.label),
        lines=address_lines(address) if address else [],
        postal_code=_postal(address.get("postal_code")) if address else "",
        patient_id=order.patient_id if address else None,
    )


def area_for_postal_code(postal_code: str, areas: Iterable[DeliveryArea]) -> DeliveryArea | None:
    """The active area whose range holds the postal code (the narrowest, should two overlap)."""
    if not postal_code:
        return None
    matching = [
        area for area in areas if area.active and area.postal_from <= postal_code <= area.postal_to
    ]
    if not matching:
        return None
    return min(matching, key=lambda area: (int(area.postal_to) - int(area.postal_from), area.pk))


def area_next_day(area: DeliveryArea, ready_on: datetime.date) -> datetime.date | None:
    """The first of the area's days on or after ``ready_on`` that is a working day."""
    day = ready_on
    for _step in range(_HORIZON_DAYS):
        if day.weekday() in area.weekdays and is_working_day(day):
            return day
        day += datetime.timedelta(days=1)
    return None


def area_day_after(area: DeliveryArea, day: datetime.date) -> datetime.date | None:
    """The area's next route day after ``day`` (a new attempt after a failed delivery)."""
    return area_next_day(area, day + datetime.timedelta(days=1))


def areas_all() -> list[DeliveryArea]:
    return list(DeliveryArea.objects.filter(active=True))


def order_by_scan(scanned: str) -> CustomerOrder | None:
    """The order a scan names: its order number (the label's DataMatrix or printed number), a
    package number, or a device's GS1 code (GTIN and serial) picked for one of its lines."""
    from logistics.models import CustomerOrderLine, Package

    text = scanned.strip().replace("\x1d", "")
    if not text:
        return None
    order = CustomerOrder.objects.filter(number__iexact=text).first()
    if order is not None:
        return order
    package = Package.objects.filter(number__iexact=text).select_related("order").first()
    if package is not None:
        return package.order
    if text.startswith("01") and len(text) > 18 and text[16:18] == "21":
        line = (
            CustomerOrderLine.objects.filter(
                device__gtin=text[2:16], device__serial_number=text[18:]
            )
            .select_related("order")
            .order_by("-pk")
            .first()
        )
        if line is not None:
            return line.order
    return None

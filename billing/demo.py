"""The billing floor's demo data, run by ``seed_demo`` after the floors below: the price list
(rent per day for every product area, the hourly labour rate) and a billing account for every
region, with demo organisation numbers in the regions' 2321 range (valid check digit, not a real
region's) and a default buyer reference, so that ``billing_run`` can issue the out-of-region
charges the demo holds. Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from billing.models import AccountKind, BillingAccount, Tariff, TariffKind
from logistics import demo as logistics_demo
from logistics.calendar import next_working_day
from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    Device,
    DeviceStatus,
    LineState,
    StockLocation,
)
from logistics.services.orders import orders_allocate
from logistics.services.picking import orders_routed, waves_create
from billing.seller import luhn_valid
from patients.models import Region
from prescriptions.models import ProductArea

SINCE = datetime.date(2025, 1, 1)
DAY_RATE = Decimal("4.50")
LABOUR_RATE = Decimal("650.00")


def demo_organisation_number(county_code: str) -> str:
    """``23219900`` + the county code, the last digit chosen to make the Luhn check pass."""
    stem = f"2321990{county_code}"[:9]
    return next(stem + str(d) for d in range(10) if luhn_valid(stem + str(d)))


@transaction.atomic
def demo_seed(*, shared_dir: Path, password: str) -> list[str]:
    if not Tariff.objects.filter(kind=TariffKind.LABOUR_HOUR).exists():
        Tariff.objects.create(kind=TariffKind.LABOUR_HOUR, price_sek=LABOUR_RATE, valid_from=SINCE)
    priced = set(
        Tariff.objects.filter(kind=TariffKind.RENT_DAY, product_area__isnull=False).values_list(
            "product_area_id", flat=True
        )
    )
    Tariff.objects.bulk_create(
        Tariff(kind=TariffKind.RENT_DAY, product_area=area, price_sek=DAY_RATE, valid_from=SINCE)
        for area in ProductArea.objects.exclude(pk__in=priced)
    )
    for region in Region.objects.all():
        BillingAccount.objects.get_or_create(
            kind=AccountKind.REGION,
            region=region,
            defaults={
                "customer_number": f"R{region.county_code}",
                "name": region.name,
                "organisation_number": demo_organisation_number(region.county_code),
                "street": "Box 1",
                "postal_code": "10000",
                "city": region.name.removeprefix("Region "),
                "email": f"faktura.{region.county_code}@demo.example",
                "default_buyer_reference": f"HJM-{region.county_code}",
            },
        )
    month_note = _demo_month()
    return [
        month_note,
        "Billing: a price list and every region's billing account; "
        "run `manage.py billing_run --month YYYY-MM --dry-run` to preview a month."
    ]


# Olof Berg, registered in Stockholm (county 01): the demo's out-of-region patient (REGION-1).
OLOF = "194203027018"
DEMO_MONTH_DAY = 3


def previous_month(today: datetime.date) -> datetime.date:
    """The first day of the month before ``today``'s: the demo's billing month."""
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def _demo_month() -> str:
    """The previous month's deliveries: Olof Berg's rollator (out of region, invoiced to his
    home region), and the rentals already delivered on the logistics demo (among them Maria Ek's
    recalled rollator: a charge that concerns a protected patient, to her prescribing unit).

    The delivery services stamp today's date; a demo month needs last month's, so the delivery
    day (``CustomerOrderLine.delivered_on``, the only date the charge derivation reads for rent)
    is written directly afterwards. Idempotent: once Olof Berg has an order, nothing is made."""
    month = previous_month(timezone.localdate())
    users = get_user_model().objects.in_bulk(["prescriber", "logistics"], field_name="username")
    if len(users) < 2:
        return "billing: the demo month needs the logistics demo's users"
    petra, leo = users["prescriber"], users["logistics"]
    if CustomerOrder.objects.filter(patient__identity__personal_identity_number=OLOF).exists():
        return f"billing: the demo month {month:%Y-%m} is already in place"
    try:
        prescription = logistics_demo._approved(petra, OLOF, logistics_demo.ROLLATOR)
        order = logistics_demo._order(prescription)
        orders_allocate(by=leo)
        central = StockLocation.objects.get(code=logistics_demo.CENTRAL)
        routed, _unrouted = orders_routed([order], next_working_day(timezone.localdate()))
        waves_create(store_id=central.pk, delivery_on=routed[order.pk][1], by=leo)
        # The lowest free serial: the README's walk picks the highest ones.
        serial = (
            Device.objects.filter(
                article__article_number=logistics_demo.ROLLATOR,
                status=DeviceStatus.IN_STOCK,
                location=central,
            )
            .order_by("serial_number")
            .values_list("serial_number", flat=True)
            .first()
        )
        logistics_demo._delivered_with(order, leo, serial or "")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('hjm.user_id', '', false)")
    delivered = month.replace(day=DEMO_MONTH_DAY)
    CustomerOrderLine.objects.filter(state=LineState.DELIVERED, delivered_on__gt=delivered).update(
        delivered_on=delivered
    )
    return (
        f"billing: the demo month {month:%Y-%m}: Olof Berg's rollator (order {order.number}, "
        "invoiced to Region Stockholm) and the demo's rentals delivered on "
        f"{delivered:%Y-%m-%d}; run `manage.py billing_run --month {month:%Y-%m} --user billing`"
    )

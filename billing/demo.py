"""The billing floor's demo data, run by ``seed_demo`` after the floors below: the price list
(rent per day for every product area, the hourly labour rate) and a billing account for every
region, with demo organisation numbers in the regions' 2321 range (valid check digit, not a real
region's) and a default buyer reference, so that ``billing_run`` can issue the out-of-region
charges the demo holds. Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from billing.models import (
    AccountKind,
    BillingAccount,
    ChargeEvent,
    ChargeKind,
    PayerKind,
    Tariff,
    TariffKind,
)
from billing.models.charges import UnitCode
from billing.seller import luhn_valid
from logistics import demo as logistics_demo
from logistics.calendar import next_working_day
from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    Device,
    DeviceStatus,
    LineState,
    StockLevel,
    StockLocation,
    UrgentFee,
    WorkOrder,
)
from logistics.services.losses import loss_case_decide, loss_report
from logistics.services.orders import orders_allocate
from logistics.services.picking import orders_routed, waves_create
from logistics.services.workorders import (
    work_order_create,
    work_order_finish,
    work_order_part_use,
    work_order_start,
    work_order_time_record,
)
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
        "run `manage.py billing_run --month YYYY-MM --dry-run` to preview a month.",
    ]


# Olof Berg, registered in Stockholm (county 01): the demo's out-of-region patient (REGION-1).
OLOF = "194203027018"
DEMO_MONTH_DAY = 3
# The rollator Olof Berg lost (BILL-4), in the demo's GL-2024 series of devices lent earlier.
LOST_SERIAL = "GL-2024-0190"
# Karl Lindqvist, an ordinary resident: the demo's patient invoice (BILL-5).
KARL = logistics_demo.KARL
KARL_FEE = Decimal("150.00")


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
    users = get_user_model().objects.in_bulk(
        ["prescriber", "logistics", "technician"], field_name="username"
    )
    if len(users) < 3:
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
        delivered = month.replace(day=DEMO_MONTH_DAY)
        CustomerOrderLine.objects.filter(
            state=LineState.DELIVERED, delivered_on__gt=delivered
        ).update(delivered_on=delivered)
        # Eva Holm's urgent fee (a protected patient's charge, to her prescribing unit): recorded
        # today by the ordering service, it belongs to the month her order was placed in.
        UrgentFee.objects.filter(recorded_at__date__gt=delivered).update(
            recorded_at=timezone.make_aware(datetime.datetime.combine(delivered, datetime.time(9)))
        )
        repair = _repair_done(month, order, users["technician"])
        loss = _loss_decided(month, order, central, leo)
        _karl_fee(month)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('hjm.user_id', '', false)")
    return (
        f"billing: the demo month {month:%Y-%m}: Olof Berg's rollator (order {order.number}, "
        "invoiced to Region Stockholm), the demo's rentals delivered on "
        f"{delivered:%Y-%m-%d}, Eva Holm's urgent fee, repair {repair} of Olof Berg's "
        f"rollator done with time and a part, loss case {loss} debited, Karl Lindqvist's "
        "patient fee (invoiced to him by letter on the patient invoices page); run "
        f"`manage.py billing_run --month {month:%Y-%m} --user billing`"
    )


def _karl_fee(month: datetime.date) -> None:
    """BILL-5: an ordinary patient's own fee in the demo month, so that the README's "Patient
    invoices" step issues PA1 to Karl Lindqvist. Written as the charge derivation writes a fee
    (the demo has no patient who pays their own prescriptions), under its own key, which
    ``charges_compute`` never derives and so leaves alone."""
    karl = (
        CustomerOrder.objects.filter(patient__identity__personal_identity_number=KARL)
        .select_related("patient")
        .order_by("pk")
        .first()
    )
    if karl is None:
        return
    day = month.replace(day=DEMO_MONTH_DAY)
    ChargeEvent.objects.get_or_create(
        idempotency_key="demo:patientfee:karl",
        defaults={
            "kind": ChargeKind.PATIENT_FEE,
            "payer_kind": PayerKind.PATIENT,
            "patient": karl.patient,
            "month": month,
            "period_start": day,
            "period_end": day,
            "quantity": Decimal(1),
            "unit_code": UnitCode.EACH,
            "unit_price_sek": KARL_FEE,
            "amount_sek": KARL_FEE,
            "text": "Patientavgift",
            "order_number": karl.number,
        },
    )


def _repair_done(month: datetime.date, order: CustomerOrder, technician: Any) -> str:
    """A repair of Olof Berg's rollator through the workshop's services: 45 minutes and one
    part, paid like the delivery by his home region (BILL-6: the full cost, labour included).
    ``finished_at`` (what the labour and parts charges read) is moved to last month."""
    device = Device.objects.get(order_lines__order=order)
    work_order = work_order_create(
        kind="repair",
        by=technician,
        device_id=device.pk,
        technician=technician,
        description="Bromsvajern har gått av.",
    )
    work_order_start(work_order_id=work_order.pk, by=technician)
    work_order_time_record(work_order_id=work_order.pk, minutes=45, by=technician)
    # A spare part the workshop has plenty of, so that no other demo story runs short.
    part = (
        StockLevel.objects.filter(
            location_id=work_order.workshop_id,
            available__gt=1,
            article__serial_numbered=False,
        )
        .order_by("-available", "article__article_number")
        .values_list("article_id", flat=True)
        .first()
    )
    if part is not None:
        work_order_part_use(work_order_id=work_order.pk, article_id=part, quantity=1, by=technician)
    work_order_finish(work_order_id=work_order.pk, result="Bromsvajer bytt.", by=technician)
    finished = timezone.make_aware(
        datetime.datetime.combine(month.replace(day=20), datetime.time(14))
    )
    WorkOrder.objects.filter(pk=work_order.pk).update(finished_at=finished)
    return work_order.number


def _loss_decided(
    month: datetime.date, order: CustomerOrder, central: StockLocation, by: Any
) -> str:
    """A rollator lent to Olof Berg a year ago, reported lost and decided by BILL-4 on days of
    last month (the services take the day): debited to his prescribing unit. The logistics
    demo's own loss case stays undecided for the README's walk."""
    device = logistics_demo._lent_earlier(LOST_SERIAL, OLOF, central)
    case = loss_report(
        device_id=device.pk, unit_id=order.unit_id, by=by, today=month.replace(day=10)
    )
    loss_case_decide(case_id=case.pk, by=by, today=month.replace(day=24))
    return case.number

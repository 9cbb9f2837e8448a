"""The billing floor's demo data, run by ``seed_demo`` after the floors below: the price list
(rent per day for every product area, the hourly labour rate) and a billing account for every
region, with demo organisation numbers in the regions' 2321 range (valid check digit, not a real
region's) and a default buyer reference, so that ``billing_run`` can issue the out-of-region
charges the demo holds. Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from billing.models import AccountKind, BillingAccount, Tariff, TariffKind
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
    return [
        "Billing: a price list and every region's billing account; "
        "run `manage.py billing_run --month YYYY-MM --dry-run` to preview a month."
    ]

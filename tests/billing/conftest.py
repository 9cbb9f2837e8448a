"""Fixtures of the billing floor's tests: devices lent through the logistics floor's services,
out-of-region prescriptions marked for the home region (REGION-1), the home region's billing
account and the price list. Identity numbers are Skatteverket's test numbers (IDENT-4)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from billing.models import AccountKind, BillingAccount, Tariff, TariffKind
from logistics.models import CustomerOrder, CustomerOrderLine, Device
from patients.models import Region
from prescriptions.models import Article, HomeRegionAgreement, InvoiceMark
from prescriptions.models.catalogue import Supply
from prescriptions.models.region import Payer
from tests.factories import UserFactory
from tests.logistics.conftest import central, rollator  # noqa: F401 - shared fixtures
from tests.logistics.devices_helpers import lent
from tests.prescriptions.conftest import (  # noqa: F401 - shared fixtures
    all_areas,
    customer_service,
    ordinary,
    protected_patient,
    rx,
)

HOME_REGION = "06"
DELIVERED = datetime.date(2026, 2, 2)


@pytest.fixture(autouse=True)
def _english() -> Any:
    """The tests match the services' English messages; the product speaks Swedish (LANGUAGE_CODE),
    so with the compiled catalogue the messages would be Swedish. Documents render in the
    product's language whatever is active (the pipeline overrides it)."""
    with translation.override("en"):
        yield


@pytest.fixture
def billing_officer() -> Any:
    return UserFactory(username="fakturering", role="billing")


@pytest.fixture
def home_account() -> BillingAccount:
    region = Region.objects.get(pk=HOME_REGION)
    return BillingAccount.objects.create(
        kind=AccountKind.REGION,
        customer_number=f"R{HOME_REGION}",
        region=region,
        name=region.name,
        # A demo number in the regions' range with a valid check digit.
        organisation_number="2321000016",
        street="Box 1024",
        postal_code="55111",
        city="Jönköping",
        email="faktura@region06.example",
        default_buyer_reference="HJM-06",
    )


@pytest.fixture
def tariffs(rollator: Article) -> list[Tariff]:  # noqa: F811
    since = datetime.date(2025, 1, 1)
    return [
        Tariff.objects.create(
            kind=TariffKind.RENT_DAY, article=rollator, price_sek=Decimal("4.50"), valid_from=since
        ),
        Tariff.objects.create(
            kind=TariffKind.LABOUR_HOUR, price_sek=Decimal("650.00"), valid_from=since
        ),
    ]


def order_of(device: Device) -> CustomerOrder:
    return CustomerOrderLine.objects.select_related("order").get(device=device).order


def out_of_region(
    device: Device, *, deactivate: bool = False, reference: str | None = None
) -> InvoiceMark:
    """Mark the device's prescription for the home region (REGION-1), as the prescriptions
    floor does for a patient registered elsewhere, with the agreement's reference (BT-10)."""
    order = order_of(device)
    assert order.prescription is not None
    mark = InvoiceMark.objects.create(
        prescription=order.prescription,
        payer=Payer.HOME_REGION,
        region_id=HOME_REGION,
        amount_sek=Decimal("2900.00"),
        rule="REGION-1",
        deactivate_after_invoicing=deactivate,
    )
    if reference:
        HomeRegionAgreement.objects.create(
            prescription=order.prescription,
            issuing_region_id=HOME_REGION,
            reference=reference,
            issued_on=DELIVERED,
            supply=Supply.RENT,
            document_name="avtal.pdf",
            document_content_type="application/pdf",
            document_size=100,
            recorded_by=order.orderer,
        )
    return mark


@pytest.fixture
def lent_device(rx: Any, ordinary: Any, rollator: Article, central: Any) -> Device:  # noqa: F811
    return lent(rx, ordinary, rollator, central)

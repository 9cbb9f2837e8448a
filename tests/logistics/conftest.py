"""Fixtures of the logistics floor's tests: the central store with stock, prescribers and
patients from the prescriptions floor's fixtures, and approved prescriptions to supply.

Identity numbers are Skatteverket's test numbers (IDENT-4)."""

from __future__ import annotations

from typing import Any

import pytest

from logistics.models import StockLocation
from patients.models import Patient
from prescriptions.models import Article, Prescription, PrescriptionState
from tests.factories import UserFactory
from tests.logistics.factories import StockLocationFactory
from tests.prescriptions.conftest import (  # noqa: F401 - fixtures shared with that floor
    all_areas,
    article,
    customer_service,
    hidden,
    ordinary,
    protected_patient,
    rx,
    rx_client,
)
from tests.prescriptions.drafting import draft_with, submit


@pytest.fixture
def central() -> StockLocation:
    return StockLocationFactory()


@pytest.fixture
def store_worker() -> Any:
    """A member of the logistics role (no grants: they never see a protected patient)."""
    return UserFactory(username="lager", role="logistics")


@pytest.fixture
def rollator() -> Article:
    return article("2900", serial_numbered=True, gtin="07340000000017")


@pytest.fixture
def pads() -> Article:
    return article("120", area_code="mobility", assortment_days=17)


def approved(
    user: Any, patient: Patient, *articles: Article, stepped_up: bool = False
) -> Prescription:
    """A prescription drafted, submitted and approved through the prescriptions floor's
    services (which write the OrderRelease the logistics floor takes)."""
    reference = draft_with(user, patient, *articles, stepped_up=stepped_up)
    prescription = submit(user, reference, stepped_up=stepped_up)
    assert prescription.state == PrescriptionState.APPROVED, prescription.state
    return prescription

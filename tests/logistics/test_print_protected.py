"""PRINT-1 on the logistics pages that name a patient: the prescriber's open orders, one order's
page and the reserved articles. A page showing a protected patient (or one the register links
to a protected patient, PROT-5, shown in full after the grant and step-up) loads the print
sheet that prints only the notice, and carries that notice; a page of ordinary patients does
neither."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.test import Client
from django.urls import reverse

from patients.models import Patient, PatientIdentity
from tests.factories import PatientIdentityFactory, PatientRelationFactory
from tests.logistics.factories import StockLevelFactory
from tests.logistics.test_order_pages import make
from tests.personas import PROTECTED_NUMBER, logged_in
from tests.prescriptions.drafting import draft_with

pytestmark = pytest.mark.django_db

PRINT_SHEET = "css/print-protected.css"
NOTICE = 'class="print-notice"'
GUARDIAN_NUMBER = "197501079292"


@pytest.fixture
def guardian(hidden: Patient) -> Patient:
    """Not protected themself, but linked by the register to the protected patient (PROT-5)."""
    identity = cast(
        PatientIdentity,
        PatientIdentityFactory(personal_identity_number=GUARDIAN_NUMBER, surname="Föräldersson"),
    )
    PatientRelationFactory(patient=identity.patient, related_identity_number=PROTECTED_NUMBER)
    assert not identity.patient.is_protected
    return identity.patient


def _page(client: Client, rx: Any, url: str) -> str:
    response = logged_in(client, rx, stepped_up=True).get(url)
    assert response.status_code == 200
    return response.content.decode()


def _prints_only_notice(text: str) -> bool:
    return PRINT_SHEET in text and NOTICE in text


@pytest.mark.parametrize("who", ["hidden", "guardian"])
def test_print_1_open_orders_list_prints_only_a_notice_for_a_protected_or_linked_patient(
    client: Client, rx, who, request, central, pads
):
    patient = request.getfixturevalue(who)
    make(rx, patient, pads, stepped_up=True)
    text = _page(client, rx, reverse("logistics:orders_mine"))
    assert patient.identity.surname in text  # shown in full after step-up
    assert _prints_only_notice(text)


def test_print_1_open_orders_list_of_ordinary_patients_prints(
    client: Client, rx, ordinary, central, pads
):
    make(rx, ordinary, pads)
    text = _page(client, rx, reverse("logistics:orders_mine"))
    assert ordinary.identity.surname in text
    assert PRINT_SHEET not in text
    assert NOTICE not in text


@pytest.mark.parametrize("who", ["hidden", "guardian"])
def test_print_1_order_page_prints_only_a_notice_for_a_protected_or_linked_patient(
    client: Client, rx, who, request, central, pads
):
    patient = request.getfixturevalue(who)
    order = make(rx, patient, pads, stepped_up=True)
    text = _page(client, rx, reverse("logistics:order", args=[order.number]))
    assert patient.identity.surname in text
    assert _prints_only_notice(text)


def test_print_1_order_page_of_an_ordinary_patient_prints(
    client: Client, rx, ordinary, central, pads
):
    order = make(rx, ordinary, pads)
    text = _page(client, rx, reverse("logistics:order", args=[order.number]))
    assert ordinary.identity.surname in text
    assert PRINT_SHEET not in text
    assert NOTICE not in text


@pytest.mark.parametrize("who", ["hidden", "guardian"])
def test_print_1_reservations_print_only_a_notice_for_a_protected_or_linked_patient(
    client: Client, rx, who, request, central, rollator
):
    patient = request.getfixturevalue(who)
    StockLevelFactory(article=rollator, location=central, physical=3)
    draft_with(rx, patient, rollator, stepped_up=True)
    text = _page(client, rx, "/logistics/reservations/")
    assert patient.identity.surname in text
    assert _prints_only_notice(text)


def test_print_1_reservations_of_an_ordinary_patient_print(
    client: Client, rx, ordinary, central, rollator
):
    StockLevelFactory(article=rollator, location=central, physical=3)
    draft_with(rx, ordinary, rollator)
    text = _page(client, rx, "/logistics/reservations/")
    assert ordinary.identity.surname in text
    assert PRINT_SHEET not in text
    assert NOTICE not in text

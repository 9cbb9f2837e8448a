"""The customer order pages: the prescriber's open orders and one order's page, denied with the
same 404 for another unit, another role or a missing number; query counts pinned; a protected
patient's name shown on the list only after step-up, and to logistics staff only the order,
unit and prescriber."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from logistics.models import CustomerOrder, OrderState
from logistics.services.orders import order_create_from_release
from patients.models import AccessEntry, Patient
from tests.factories import UserFactory
from tests.logistics.conftest import approved
from tests.personas import logged_in

pytestmark = pytest.mark.django_db


def make(rx: Any, patient: Patient, *articles: Any, stepped_up: bool = False) -> CustomerOrder:
    order = order_create_from_release(
        prescription_id=approved(rx, patient, *articles, stepped_up=stepped_up).pk
    )
    assert order is not None
    return order


def test_the_prescriber_sees_their_open_orders_with_promise_and_name(
    rx_client: Client, rx, ordinary, central, pads, django_assert_max_num_queries
):
    orders = [make(rx, ordinary, pads) for _ in range(3)]
    with django_assert_max_num_queries(14):
        response = rx_client.get(reverse("logistics:orders_mine"))
    assert response.status_code == 200
    text = response.content.decode()
    for order in orders:
        assert order.number in text
    assert ordinary.identity.surname in text
    assert ordinary.reference in text
    logged = AccessEntry.objects.filter(object_type="customer order", patient=ordinary)
    assert sorted(logged.values_list("object_id", flat=True)) == sorted(o.number for o in orders)


def test_access_4_the_list_names_a_protected_patient_only_after_step_up(
    client: Client, rx, hidden, central, pads
):
    """The grant holder sees "Protected identity" and the birth year, not the name nor the
    reference, until the password is confirmed; then the name, logged as a read (AUDIT-1)."""
    order = make(rx, hidden, pads, stepped_up=True)
    surname = hidden.identity.surname
    text = logged_in(client, rx).get(reverse("logistics:orders_mine")).content.decode()
    assert order.number in text
    assert surname not in text
    assert hidden.reference not in text
    assert f"Protected identity</strong>, born {hidden.birth_year}" in text
    # AUDIT-1: the masked row is logged too, as the gate logs a masked read.
    masked_entry = AccessEntry.objects.get(object_type="customer order", patient=hidden)
    assert masked_entry.outcome == "denied"
    client.logout()
    text = (
        logged_in(client, rx, stepped_up=True)
        .get(reverse("logistics:orders_mine"))
        .content.decode()
    )
    assert surname in text
    assert text.index(surname) < text.index(hidden.reference)
    assert AccessEntry.objects.filter(
        object_type="customer order", object_id=order.number, patient=hidden, outcome="allowed"
    ).exists()


def test_the_order_page_shows_lines_history_and_cancels_after_confirmation(
    rx_client: Client, rx, ordinary, central, pads
):
    order = make(rx, ordinary, pads)
    url = reverse("logistics:order", args=[order.number])
    page = rx_client.get(url)
    assert page.status_code == 200
    assert order.number in page.content.decode()
    cancel = reverse("logistics:order_cancel", args=[order.number])
    unconfirmed = rx_client.post(cancel, {"reason": "Fel storlek"})
    assert unconfirmed.status_code == 400
    done = rx_client.post(cancel, {"reason": "Fel storlek", "confirm": "on"})
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED


def test_denied_another_unit_another_role_and_a_missing_number_get_the_same_404(
    client: Client, rx, ordinary, central, pads
):
    order = make(rx, ordinary, pads)
    stranger = UserFactory(username="annan", role="technician")
    logged_in(client, stranger)
    url = reverse("logistics:order", args=[order.number])
    assert client.get(url).status_code == 404
    assert client.get(reverse("logistics:order", args=["F-NOTHERE"])).status_code == 404
    assert (
        client.post(
            reverse("logistics:order_cancel", args=[order.number]),
            {"reason": "x", "confirm": "on"},
        ).status_code
        == 404
    )
    other_prescriber = UserFactory(username="annan2", role="prescriber")
    logged_in(client, other_prescriber)
    assert client.get(url).status_code == 404


def test_logistics_staff_see_a_protected_patients_order_by_number_unit_and_prescriber_only(
    client: Client, rx, hidden, central, pads, store_worker
):
    order = make(rx, hidden, pads, stepped_up=True)
    logged_in(client, store_worker)
    text = client.get(reverse("logistics:order", args=[order.number])).content.decode()
    assert order.number in text
    for secret in (hidden.identity.surname, hidden.reference, str(hidden.birth_year)):
        assert secret not in text
    assert "protection-label" not in text


def test_logistics_staff_see_an_ordinary_patient_by_internal_reference(
    client: Client, rx, ordinary, central, pads, store_worker
):
    order = make(rx, ordinary, pads)
    logged_in(client, store_worker)
    text = client.get(reverse("logistics:order", args=[order.number])).content.decode()
    assert ordinary.reference in text
    assert ordinary.identity.surname not in text


def test_the_prescription_page_links_to_its_order_with_state_and_promise(
    rx_client: Client, rx, ordinary, central, pads
):
    """A prescriber follows the order from the prescription it came from (the logistics floor
    answers through the prescriptions registry; the prescriptions floor imports nothing of it)."""
    prescription = approved(rx, ordinary, pads)
    url = reverse("prescriptions:detail", args=[prescription.reference])
    before = rx_client.get(url).content.decode()
    assert reverse("logistics:order", args=[prescription.reference]) not in before
    order = order_create_from_release(prescription_id=prescription.pk)
    assert order is not None
    order.refresh_from_db()
    text = rx_client.get(url).content.decode()
    assert f'href="{reverse("logistics:order", args=[order.number])}"' in text
    assert order.promised_on is not None
    assert order.promised_on.isoformat() in text
    with translation.override("en"):  # the page answers in the client's English
        assert str(order.get_state_display()).capitalize() in text

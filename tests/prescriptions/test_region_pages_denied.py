"""The region and special delivery pages refused: every URL for every kind of user who may not
use it (house style 5), and LEAK-1: nothing of the agreement or the registration reaches a
user without a grant, on a page, in the admin or in the log."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from patients.models import Patient
from prescriptions.models import (
    Prescription,
    ResidenceAbroad,
    SpecialDeliveryAgreement,
    SupplyRegistration,
)
from tests.factories import UserFactory
from tests.personas import logged_in
from tests.prescriptions.factories import PrescriberProfileFactory
from tests.prescriptions.leaks import AGREEMENT, leaks
from tests.prescriptions.pages import awaiting_registration, record_agreement, staff, start

pytestmark = pytest.mark.django_db


# --- denied -------------------------------------------------------------------------------------


@pytest.fixture
def world(rx: Any, hidden: Patient, out_of_region: Patient) -> dict[str, str]:
    """A protected patient's draft with an agreement and a registration, and an ordinary
    out-of-region patient's prescription waiting for registration; all by ``rx``."""
    client = logged_in(Client(), rx, stepped_up=True)
    protected_number = awaiting_registration(client, hidden)
    client.post(f"/prescriptions/{protected_number}/registration/", {"name": "Hemlig Gömdasson"})
    record_agreement(client, hidden)
    draft = start(client, hidden)
    client.post(f"/prescriptions/{draft}/special-delivery/", {"kind": "special_agreement"})
    ordinary_number = awaiting_registration(client, out_of_region)
    return {"protected": protected_number, "draft": draft, "ordinary": ordinary_number}


def every_url(world: dict[str, str], hidden: Patient, ordinary: Patient) -> list[str]:
    return [
        f"/prescriptions/{world['protected']}/registration/",
        f"/prescriptions/{world['ordinary']}/registration/",
        f"/prescriptions/{world['draft']}/special-delivery/",
        f"/prescriptions/patients/{hidden.reference}/special-delivery/",
        f"/prescriptions/patients/{hidden.reference}/abroad/",
        f"/prescriptions/patients/{ordinary.reference}/abroad/",
    ]


def assert_unchanged() -> None:
    assert SpecialDeliveryAgreement.objects.count() == 1
    assert SupplyRegistration.objects.count() == 1
    assert not ResidenceAbroad.objects.exists()


def test_denied_anonymous_is_sent_to_login(client, world, hidden, out_of_region):
    for url in every_url(world, hidden, out_of_region):
        for method in ("get", "post"):
            response = getattr(client, method)(url, {})
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/?next="), url
    assert_unchanged()


@pytest.mark.parametrize(
    "role", ["logistics", "technician", "billing", "unit_manager", "customer_service"]
)
def test_denied_roles_without_prescribing_get_403(client, world, hidden, out_of_region, role):
    logged_in(client, UserFactory(role=role), stepped_up=True)
    for url in every_url(world, hidden, out_of_region):
        assert client.get(url).status_code == 403, url
        assert client.post(url, AGREEMENT).status_code == 403, url
    assert_unchanged()


def test_denied_superuser_gets_no_silent_access(client, world, hidden, out_of_region):
    logged_in(client, UserFactory(is_superuser=True, is_staff=True), stepped_up=True)
    for url in every_url(world, hidden, out_of_region):
        assert client.get(url).status_code == 403, url
        assert client.post(url, AGREEMENT).status_code == 403, url
    assert_unchanged()


def test_denied_prescriber_of_another_unit_gets_404(client, world, hidden, out_of_region):
    """House style 5: another unit's prescriptions answer as missing ones; the protected
    patient, without a grant, is not found either."""
    logged_in(client, PrescriberProfileFactory().user, stepped_up=True)
    for url in every_url(world, hidden, out_of_region)[:5]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "X", **AGREEMENT}).status_code == 404, url
    assert client.get("/prescriptions/F-ZZZZZZZZ/registration/").status_code == 404
    assert_unchanged()


def test_denied_same_unit_colleague_without_grant_gets_404_for_the_protected_patient(
    client, rx, world, hidden, out_of_region
):
    """ACCESS-1/LEAK-3: a colleague at the prescriber's own unit, without a grant, gets the
    same 404 for every page of the protected patient, and the ordinary patient's page works."""
    unit = rx.prescriber_profile.units.get()
    colleague = PrescriberProfileFactory(
        user=UserFactory(role="prescriber", unit=rx.staff_profile.unit), units=[unit]
    ).user
    logged_in(client, colleague, stepped_up=True)
    urls = every_url(world, hidden, out_of_region)
    for url in urls[:5]:
        if url == urls[1]:
            continue
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "X", **AGREEMENT}).status_code == 404, url
    assert client.get(urls[1]).status_code == 200
    assert_unchanged()


def test_denied_grant_holder_without_step_up_is_sent_to_step_up(client, rx, world, hidden):
    logged_in(client, rx)
    urls = every_url(world, hidden, hidden)
    for url in (urls[0], urls[2], urls[3], urls[4]):
        for method in ("get", "post"):
            response = getattr(client, method)(url, AGREEMENT)
            assert response.status_code == 302, url
            assert response["Location"] == "/protection/step-up/?" + urlencode({"next": url}), url
    assert_unchanged()


def test_denied_put_is_not_allowed(rx_client, world):
    response = rx_client.put(f"/prescriptions/{world['ordinary']}/registration/")
    assert response.status_code == 405


# --- LEAK-1 -------------------------------------------------------------------------------------


def test_leak_1_no_agreement_or_registration_content_without_a_grant(
    client, rx, world, hidden, out_of_region, customer_service, caplog
):
    """LEAK-1/LEAK-3: customer service, a superuser and a same-unit colleague, none holding a
    grant, see that the protected patient's delivery follows an agreement and that a
    registration exists, never what they contain: pages, admin lists, change and history pages
    and the log lines of all of it."""
    caplog.set_level(logging.DEBUG)
    unit = rx.prescriber_profile.units.get()
    colleague = PrescriberProfileFactory(
        user=UserFactory(role="prescriber", unit=rx.staff_profile.unit), units=[unit]
    ).user
    draft = Prescription.objects.get(reference=world["draft"])
    registration = SupplyRegistration.objects.get()
    admin_urls = [
        "/admin/prescriptions/supplyregistration/",
        f"/admin/prescriptions/supplyregistration/{registration.pk}/change/",
        f"/admin/prescriptions/supplyregistration/{registration.pk}/history/",
        "/admin/prescriptions/prescription/",
        f"/admin/prescriptions/prescription/{draft.pk}/change/",
        f"/admin/prescriptions/prescription/?q={world['draft']}",
        "/admin/prescriptions/invoicemark/",
        "/admin/prescriptions/specialdeliveryagreement/",
    ]
    seen: list[str] = []
    for user in (staff(customer_service), UserFactory(is_superuser=True, is_staff=True)):
        logged_in(client, user, stepped_up=True)
        for url in admin_urls:
            response = client.get(url)
            seen += [f"{user} {url}: {s}" for s in leaks(response.content.decode())]
        content = client.get(f"/admin/prescriptions/prescription/{draft.pk}/change/")
        assert "special delivery agreement" in content.content.decode()
        listed = client.get("/admin/prescriptions/supplyregistration/").content.decode()
        assert f">{registration.pk}<" in listed or "Protected identity" in listed
    logged_in(client, colleague, stepped_up=True)
    for url in [*every_url(world, hidden, out_of_region), "/prescriptions/"]:
        response = client.get(url)
        seen += [f"colleague {url}: {s}" for s in leaks(response.content.decode())]
        seen += [f"colleague {url}: {s}" for s in leaks(response.get("Location", ""))]
    seen += [f"log: {s}" for record in caplog.records for s in leaks(record.getMessage())]
    assert seen == []


def test_leak_1_the_check_is_not_blind(client, rx, world, hidden):
    """The grant holder, stepped up, does see the agreement and the registration's name."""
    logged_in(client, rx, stepped_up=True)
    url = f"/prescriptions/patients/{hidden.reference}/special-delivery/"
    assert leaks(client.get(url).content.decode())
    registration = f"/prescriptions/{world['protected']}/registration/"
    assert "Gömdasson" in client.get(registration).content.decode()

"""The logistics admin for customer service: stores editable, the rest read-only; every admin
leading to a patient masks a protected patient's rows (ACCESS-1, LEAK-1, LEAK-5) and no list is
filtered by patient."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.utils import translation

from logistics.models import CustomerOrder, Device, Reservation, StockLevel, UrgentFee
from patients.admin_masking import MaskedRowsAdmin
from tests.logistics.devices_helpers import lent
from tests.prescriptions.leaks import leaks

pytestmark = pytest.mark.django_db


@pytest.fixture
def cs_client(client: Client, customer_service) -> Client:
    customer_service.is_staff = True
    customer_service.save()
    client.force_login(customer_service)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_leak_1_every_logistics_admin_about_a_patient_masks_its_rows() -> None:
    for model in (CustomerOrder, Device, UrgentFee, Reservation):
        assert isinstance(admin.site._registry[model], MaskedRowsAdmin), model
    assert not isinstance(admin.site._registry[StockLevel], MaskedRowsAdmin)


def test_device_1_leak_5_admin_pages_of_a_protected_patients_device_show_no_identity(
    cs_client: Client, rx, hidden, ordinary, rollator, central
) -> None:
    # The history notes are written in the language active when the device moves; the pages
    # below are read in English.
    with translation.override("en"):
        device = lent(rx, hidden, rollator, central)
        visible = lent(rx, ordinary, rollator, central)
    unit_name = rx.staff_profile.unit.name
    listing = cs_client.get("/admin/logistics/device/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert device.serial_number in html
    assert ordinary.reference in html  # the visible row by reference
    assert hidden.reference not in html
    assert leaks(html) == []
    page = cs_client.get(f"/admin/logistics/device/{device.pk}/change/").content.decode()
    assert device.serial_number in page
    assert hidden.reference not in page
    assert leaks(page) == []
    assert str(hidden.birth_year) not in page
    order = CustomerOrder.objects.get(patient=hidden)
    orders = cs_client.get("/admin/logistics/customerorder/").content.decode()
    assert order.number in orders
    assert hidden.reference not in orders
    assert leaks(orders) == []
    order_page = cs_client.get(f"/admin/logistics/customerorder/{order.pk}/change/")
    text = order_page.content.decode()
    assert order.number in text
    assert unit_name not in text
    assert hidden.reference not in text
    assert leaks(text) == []
    # The visible patient's device page shows the history.
    assert (
        "Received into"
        in cs_client.get(f"/admin/logistics/device/{visible.pk}/change/").content.decode()
    )


def test_leak_1_no_logistics_admin_list_is_filtered_by_patient(
    cs_client: Client, rx, hidden, rollator, central
) -> None:
    lent(rx, hidden, rollator, central)
    for url, lookup in (
        ("/admin/logistics/device/", "holder_patient__id__exact"),
        ("/admin/logistics/device/", "holder_patient_id"),
        ("/admin/logistics/customerorder/", "patient"),
        ("/admin/logistics/customerorder/", "prescription__patient_id"),
        ("/admin/logistics/urgentfee/", "order__patient"),
        ("/admin/logistics/reservation/", "order_line__order__patient"),
        ("/admin/logistics/reservation/", "prescription_line__prescription__patient"),
    ):
        assert cs_client.get(url, {lookup: hidden.pk}).status_code == 400, (url, lookup)


def test_device_1_stores_are_edited_and_the_rest_is_read_only(cs_client: Client, central) -> None:
    for name in ("stocklevel", "reservation", "customerorder", "device", "urgentfee"):
        assert cs_client.get(f"/admin/logistics/{name}/").status_code == 200, name
        assert cs_client.get(f"/admin/logistics/{name}/add/").status_code == 403, name
    assert cs_client.get("/admin/logistics/stocklocation/add/").status_code == 200
    response = cs_client.post(
        f"/admin/logistics/stocklocation/{central.pk}/change/",
        {
            "code": central.code,
            "name": "Centralförrådet",
            "kind": central.kind,
            "region": central.region_id,
            "unit": "",
            "active": "on",
        },
    )
    assert response.status_code == 302
    central.refresh_from_db()
    assert central.name == "Centralförrådet"


def test_device_1_denied_a_prescriber_gets_no_logistics_admin(client: Client, rx) -> None:
    client.force_login(rx)
    response = client.get("/admin/logistics/device/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")

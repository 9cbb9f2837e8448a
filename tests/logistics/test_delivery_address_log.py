"""The route and delivery pages read an ordinary patient's registered address for the stop:
each such read is in the access log, as the order pages' reads are. A protected patient's
stop shows the unit and the prescriber only (PRESC-2, PRINT-1 on screen) and logs nothing
that names the patient (no read of them happened)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from logistics.models import Package, PickItem
from logistics.services.picking import waves_create
from patients.models import AccessEntry
from tests.logistics.conftest import approved
from tests.logistics.factories import DeviceFactory
from tests.logistics.picking_setup import allocated_order, area_all_week, stocked
from tests.personas import logged_in
from tests.prescriptions.leaks import SECRET_ADDRESS, SECRET_NAME

pytestmark = pytest.mark.django_db


def _packed(client, order, central, rollator, store_worker) -> Package:
    from django.utils import timezone

    from logistics.calendar import next_working_day

    today = timezone.localdate()
    day = next_working_day(today)
    wave = waves_create(store_id=central.pk, delivery_on=day, by=store_worker, today=today).waves[0]
    item = PickItem.objects.get(wave=wave, line__order=order)
    device = DeviceFactory(article=rollator, location=central)
    client.post(
        reverse("logistics:pick", args=[wave.pk, item.pk]), {"serial": device.serial_number}
    )
    client.post(reverse("logistics:pack"), {"scan": order.number})
    return Package.objects.get(order=order)


def _entries(**kwargs):
    return AccessEntry.objects.filter(object_type="delivery address", **kwargs)


def test_the_route_and_delivery_pages_log_each_patient_address_shown(
    client, rx, ordinary, central, rollator, store_worker
):
    area_all_week()
    stocked(rollator, central, 2)
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    logged_in(client, store_worker)
    package = _packed(client, order, central, rollator, store_worker)
    before = _entries().count()
    page = client.get(reverse("logistics:routes"), {"day": package.delivery_on.isoformat()})
    assert order.number in page.content.decode()
    logged = _entries(patient_id=ordinary.pk, object_id=order.number, user_id=store_worker.pk)
    assert logged.count() == 1
    assert _entries().count() == before + 1
    client.post(
        reverse("logistics:dispatch"),
        {"day": package.delivery_on.isoformat(), "area": package.area_id},
    )
    client.get(reverse("logistics:deliveries"))
    assert logged.count() == 2


def test_a_protected_patients_stop_shows_unit_and_prescriber_and_logs_nothing_of_them(
    client, rx, hidden, central, rollator, store_worker
):
    """PRESC-2/PRINT-1 on screen."""
    area_all_week()
    stocked(rollator, central, 2)
    order = allocated_order(
        approved(rx, hidden, rollator, stepped_up=True), central, rollator, protected=True
    )
    logged_in(client, store_worker)
    package = _packed(client, order, central, rollator, store_worker)
    before = set(AccessEntry.objects.values_list("pk", flat=True))
    text = client.get(
        reverse("logistics:routes"), {"day": package.delivery_on.isoformat()}
    ).content.decode()
    assert order.unit.unit.name in text
    assert rx.last_name in text
    for secret in (*SECRET_NAME, SECRET_ADDRESS):
        assert secret.lower() not in text.lower()
    new = AccessEntry.objects.exclude(pk__in=before)
    assert not new.filter(patient_id=hidden.pk).exists()
    assert not new.filter(object_id=order.number).exists()
    assert not _entries().exists()

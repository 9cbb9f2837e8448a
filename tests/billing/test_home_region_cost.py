"""BILL-6: the full cost charged to an out-of-region patient's home region, labour included,
is shown to the prescriber on the patient page, and to nobody without the prescriber's role."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from billing.selectors import home_region_cost_for_patient
from billing.services.charges import charges_compute
from logistics.models import WorkOrder, WorkOrderKind
from logistics.services.workorders import work_order_create
from tests.billing.conftest import out_of_region
from tests.factories import UserFactory
from tests.personas import logged_in

pytestmark = pytest.mark.django_db
FEB = datetime.date(2026, 2, 1)


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def _repaired(device: Any, technician: Any, rx: Any) -> WorkOrder:
    work = work_order_create(
        kind=WorkOrderKind.REPAIR, by=technician, device_id=device.pk, prescriber=rx
    )
    WorkOrder.objects.filter(pk=work.pk).update(
        state="done",
        minutes_spent=90,
        finished_at=timezone.make_aware(datetime.datetime(2026, 2, 20, 14)),
    )
    return work


def test_bill_6_the_full_cost_includes_labour_and_rent(lent_device, tariffs, rx, ordinary):
    out_of_region(lent_device)
    technician = UserFactory(username="tekniker", role="technician")
    _repaired(lent_device, technician, rx)
    charges_compute(month=FEB)
    (cost,) = home_region_cost_for_patient(ordinary.pk)
    amounts = {row.label: row.amount_sek for row in cost.rows}
    assert amounts == {"rent": Decimal("121.50"), "labour": Decimal("975.00")}
    assert cost.total_sek == Decimal("1096.50")


def test_bill_6_the_prescriber_sees_the_home_regions_cost_on_the_patient_page(
    lent_device, tariffs, rx, ordinary, client: Client
):
    out_of_region(lent_device)
    charges_compute(month=FEB)
    logged_in(client, rx)
    page = client.get(f"/patients/{ordinary.reference}/").content.decode()
    assert "Cost charged to the home region" in page
    assert "121.50" in page


def test_bill_6_no_section_for_an_own_region_patient_or_without_the_prescribers_role(
    lent_device, tariffs, rx, ordinary, client: Client
):
    charges_compute(month=FEB)
    assert home_region_cost_for_patient(ordinary.pk) == []
    logged_in(client, rx)
    page = client.get(f"/patients/{ordinary.reference}/").content.decode()
    assert "Cost charged to the home region" not in page
    out_of_region(lent_device)
    other = UserFactory(username="kundtjanst2", role="customer_service")
    logged_in(client, other)
    response = client.get(f"/patients/{ordinary.reference}/")
    assert "Cost charged to the home region" not in response.content.decode()

"""The demo's pickups (README "Try the demo", logistics step 8): held devices, a pickup order for
Karl Lindqvist and one for Eva Holm (protected identity, at the unit), and a lost device in the
loss process."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from logistics.demo import HELD_SERIALS
from logistics.models import Device, DeviceStatus, LossCase, LossState, PickupOrder

pytestmark = pytest.mark.django_db


def test_presc_9_device_4_the_demo_holds_pickups_and_a_loss_case(shared_dir, monkeypatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "a-demo-password")
    out = StringIO()
    call_command("seed_demo", "--shared", str(shared_dir), stdout=out)
    orders = list(PickupOrder.objects.order_by("pk"))
    assert len(orders) == 2
    assert [order.patient_protected for order in orders] == [False, True]
    # README step 8 opens "Hämtningar på en tur": both are planned on a route.
    assert all(order.area_id is not None for order in orders)
    for order in orders:
        assert order.number in out.getvalue()
    lost = Device.objects.get(serial_number=HELD_SERIALS[2])
    assert lost.status == DeviceStatus.LOST
    assert LossCase.objects.get(device=lost).state == LossState.REPORTED

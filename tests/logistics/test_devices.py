"""DEVICE-1 selectors: the card's holder rule (LEAK-5) and the devices a patient holds."""

from __future__ import annotations

import pytest

from logistics.selectors.devices import (
    HolderShown,
    device_card_for_user,
    device_search,
    devices_held_by_patient,
)
from tests.logistics.devices_helpers import lent
from tests.logistics.factories import DeviceFactory
from tests.personas import ctx_for

pytestmark = pytest.mark.django_db


def test_device_1_a_device_in_store_is_held_by_the_store(store_worker, rollator, central) -> None:
    device = DeviceFactory(article=rollator, location=central)
    card = device_card_for_user(ctx=ctx_for(store_worker), device_id=device.pk)
    assert card.holder.shown is HolderShown.STORE
    assert card.holder.place == central.name
    assert card.lines == []


def test_device_1_leak_5_holder_rule_for_ordinary_and_protected_patients(
    store_worker, rx, ordinary, hidden, rollator, central
) -> None:
    shown = lent(rx, ordinary, rollator, central)
    masked = lent(rx, hidden, rollator, central)
    open_card = device_card_for_user(ctx=ctx_for(store_worker), device_id=shown.pk)
    assert open_card.holder.shown is HolderShown.PATIENT
    assert open_card.holder.card is not None
    assert not open_card.holder.card.masked
    closed = device_card_for_user(ctx=ctx_for(store_worker), device_id=masked.pk)
    assert closed.holder.shown is HolderShown.PATIENT_CONTACT
    assert closed.holder.card is None
    assert closed.holder.contact_unit == rx.staff_profile.unit.name
    assert closed.holder.contact_prescriber
    # Outside a request the database is asked as nobody: it shows no protected identity.
    assert (
        device_card_for_user(ctx=ctx_for(rx, stepped_up=True), device_id=masked.pk).holder.shown
        is HolderShown.PATIENT_CONTACT
    )


def test_device_1_the_patient_holds_what_was_delivered_since_the_delivery(
    rx, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    DeviceFactory(article=rollator, location=central)
    held = devices_held_by_patient(ordinary.pk)
    assert [h.device_id for h in held] == [device.pk]
    assert held[0].since is not None
    assert held[0].next_service_on == device.next_service_on


def test_device_1_search_needs_a_term(rollator, central) -> None:
    DeviceFactory(article=rollator, location=central)
    assert device_search().rows == []
    assert len(device_search(serial="SN").rows) == 1

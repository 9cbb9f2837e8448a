"""Devices lent to patients for the device register's tests: a device from the factory moved
through the one state service, and the order line it went out on."""

from __future__ import annotations

import datetime
from typing import Any

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DestinationKind,
    Device,
    DeviceStatus,
    HolderKind,
    LineState,
    OrderKind,
    StockLocation,
)
from logistics.services.state import device_move
from patients.models import Patient
from prescriptions.models import AgreementType, Article
from tests.logistics.conftest import approved
from tests.logistics.factories import DeviceFactory


def lent(
    user: Any, patient: Patient, article: Article, central: StockLocation, **kwargs: Any
) -> Device:
    """A device that went out on an order for ``patient`` (prescribed by ``user``) and is now
    lent to them, its history written by ``device_move``."""
    prescription = approved(user, patient, article, stepped_up=patient.is_protected)
    order = CustomerOrder.objects.create(
        number=prescription.reference,
        kind=OrderKind.CUSTOMER,
        prescription=prescription,
        patient=patient,
        unit=prescription.unit,
        orderer=user,
        patient_protected=patient.is_protected,
        destination_kind=DestinationKind.UNIT,
        delivery_unit=prescription.unit,
        delivery_contact=user,
        from_location=central,
        agreement_type=AgreementType.COOPERATION,
        promised_on=datetime.date(2026, 2, 2),
    )
    device = DeviceFactory(article=article, location=central, **kwargs)
    CustomerOrderLine.objects.create(
        order=order,
        position=1,
        article=article,
        quantity=1,
        supply="rent",
        state=LineState.DELIVERED,
        promised_on=datetime.date(2026, 2, 2),
        delivered_on=datetime.date(2026, 2, 2),
        device=device,
    )
    device_move(device=device, to_state=DeviceStatus.ALLOCATED, note=f"Order {order.number}")
    device_move(
        device=device,
        to_state=DeviceStatus.IN_TRANSIT,
        note=f"Order {order.number}",
        location=None,
        holder_kind=HolderKind.STORE,
    )
    device_move(
        device=device,
        to_state=DeviceStatus.ON_LOAN,
        note=f"Delivered, order {order.number}",
        holder_kind=HolderKind.PATIENT,
        holder_patient=patient,
    )
    device.refresh_from_db()
    return device

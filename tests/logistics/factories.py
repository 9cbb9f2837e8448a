"""Factories of the logistics floor's reference data: stores, stock and devices."""

from __future__ import annotations

import datetime
from typing import Any

import factory

from logistics.models import Device, LocationKind, StockLevel, StockLocation


class StockLocationFactory(factory.django.DjangoModelFactory[StockLocation]):
    class Meta:
        model = StockLocation
        django_get_or_create = ("code",)

    code = "central"
    name = "Hjälpmedelscentralen"
    kind = LocationKind.CENTRAL
    region_id = "12"
    unit = None


class StockLevelFactory(factory.django.DjangoModelFactory[StockLevel]):
    class Meta:
        model = StockLevel

    location = factory.SubFactory(StockLocationFactory)
    physical = 10


class DeviceFactory(factory.django.DjangoModelFactory[Device]):
    class Meta:
        model = Device

    serial_number = factory.Sequence(lambda n: f"SN{n:07d}")
    owner_region_id = "12"
    location = factory.SubFactory(StockLocationFactory)
    received_on = datetime.date(2026, 1, 15)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Device:
        # Registered through the one service, so that every device has its first history row.
        from logistics.services.devices import device_register

        return device_register(
            article=kwargs["article"],
            serial_number=kwargs["serial_number"],
            location=kwargs["location"],
            received_on=kwargs["received_on"],
            lot_number=kwargs.get("lot_number", ""),
        )

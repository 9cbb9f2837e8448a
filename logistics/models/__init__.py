"""The logistics floor: stores and stock, customer orders, picking and delivery, and the register
of individual devices. Reads the prescriptions floor below it; nothing below imports it."""

from logistics.models.devices import Device, DeviceEvent, DeviceStatus, HolderKind
from logistics.models.orders import (
    CustomerOrder,
    CustomerOrderLine,
    CustomerOrderTransition,
    DestinationKind,
    LineState,
    OrderKind,
    OrderLineTransition,
    OrderState,
    UrgentFee,
)
from logistics.models.stock import (
    LocationKind,
    Reservation,
    ReservationState,
    StockLevel,
    StockLocation,
)

__all__ = [
    "CustomerOrder",
    "CustomerOrderLine",
    "CustomerOrderTransition",
    "DestinationKind",
    "Device",
    "DeviceEvent",
    "DeviceStatus",
    "HolderKind",
    "LineState",
    "LocationKind",
    "OrderKind",
    "OrderLineTransition",
    "OrderState",
    "Reservation",
    "ReservationState",
    "StockLevel",
    "StockLocation",
    "UrgentFee",
]

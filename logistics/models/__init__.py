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
from logistics.models.purchasing import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    PurchaseOrderTransition,
    ReplenishmentStocked,
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
    "GoodsReceipt",
    "GoodsReceiptLine",
    "HolderKind",
    "LineState",
    "LocationKind",
    "OrderKind",
    "OrderLineTransition",
    "OrderState",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderState",
    "PurchaseOrderTransition",
    "ReplenishmentStocked",
    "Reservation",
    "ReservationState",
    "StockLevel",
    "StockLocation",
    "UrgentFee",
]

"""What the roles need on the logistics floor (gathered by patients.services.role_permissions).

Logistics staff hold no grants: they never see a protected patient, and the papers they print
for such a patient's order name only the order number, the unit and the prescriber (PRINT-1).
"""

from __future__ import annotations

from typing import Final

# Customer service's admin (logistics/admin.py): stores edited, the rest read.
LOGISTICS_ADMIN: Final = (
    "logistics.view_stocklocation",
    "logistics.add_stocklocation",
    "logistics.change_stocklocation",
    "logistics.view_stocklevel",
    "logistics.view_reservation",
    "logistics.view_customerorderline",
    "logistics.view_customerordertransition",
    "logistics.view_deviceevent",
    "logistics.view_urgentfee",
    "logistics.view_workorder",
    "logistics.view_workorderpart",
    "logistics.view_workordertransition",
)

ROLE_PERMISSIONS: Final[dict[str, tuple[str, ...]]] = {
    # The store's work: stock, goods receipt, orders, picking, packing, routes, deliveries.
    "logistics": (
        "logistics.work_orders",
        "logistics.view_kpi",
        "logistics.view_customerorder",
        "logistics.view_stocklevel",
        "logistics.view_device",
    ),
    # A prescriber follows their orders and sees what their drafts hold reserved (LOG-1).
    # LOG-2: a unit's prescribers and its manager order replenishment of its buffer store.
    "prescriber": ("logistics.view_reservation", "logistics.order_replenishment"),
    "unit_manager": ("logistics.order_replenishment",),
    # The workshop's queue and work orders (issue 11).
    "technician": ("logistics.view_device", "logistics.work_workorders"),
    "customer_service": (
        "logistics.view_customerorder",
        "logistics.view_device",
        # PRESC-10: customer service takes fault reports by phone.
        "logistics.report_faults",
        *LOGISTICS_ADMIN,
    ),
}

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
    # DEVICE-3: the articles' recirculation policies.
    "logistics.view_recirculationpolicy",
    "logistics.add_recirculationpolicy",
    "logistics.change_recirculationpolicy",
    "logistics.view_stocklevel",
    "logistics.view_reservation",
    "logistics.view_customerorderline",
    "logistics.view_customerordertransition",
    "logistics.view_deviceevent",
    "logistics.view_urgentfee",
    "logistics.view_deviation",
    "logistics.view_incident",
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
        "logistics.view_losscase",
        "logistics.change_losscase",
        # DEVICE-2: they publish safety notices and follow the campaigns.
        "logistics.manage_safetynotice",
        "logistics.view_safetynotice",
    ),
    # A prescriber follows their orders and sees what their drafts hold reserved (LOG-1).
    # LOG-2: a unit's prescribers and its manager order replenishment of its buffer store.
    # PRESC-9: a prescriber orders the pickup of a patient's devices.
    # DEVICE-5: the message board's safety notices, for everyone who meets devices.
    "prescriber": (
        "logistics.view_reservation",
        "logistics.order_replenishment",
        "logistics.order_pickup",
        "logistics.view_safetynotice",
    ),
    "unit_manager": ("logistics.order_replenishment", "logistics.view_safetynotice"),
    # STAFF-3: the orderer for a unit orders replenishment of its buffer store (LOG-2).
    "orderer": ("logistics.order_replenishment", "logistics.view_safetynotice"),
    # The workshop's queue and work orders (issue 11); QUAL-2: technicians raise an incident
    # from a device's card or a work order, and read it.
    "technician": (
        "logistics.view_device",
        "logistics.work_workorders",
        "logistics.add_incident",
        "logistics.view_incident",
        "logistics.view_safetynotice",
    ),
    # QUAL-1, QUAL-2: customer service handles deviations and incidents (the quality work).
    "customer_service": (
        "logistics.view_safetynotice",
        "logistics.view_customerorder",
        "logistics.view_device",
        # PRESC-9 for a call; DEVICE-4: the loss process.
        "logistics.order_pickup",
        "logistics.view_losscase",
        "logistics.change_losscase",
        "logistics.handle_deviation",
        "logistics.add_incident",
        "logistics.change_incident",
        # PRESC-10: customer service takes fault reports by phone.
        "logistics.report_faults",
        *LOGISTICS_ADMIN,
    ),
}

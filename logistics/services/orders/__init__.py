"""Customer orders (kundorder): made from an approved prescription's release, allocated from
the right store with backorders, cancelled with a reason, re-routed when the patient becomes
protected (PRESC-2, LOG-3, LOG-4). Importable by the other parts of the floor::

    from logistics.services.orders import order_create_from_release, orders_allocate
"""

from logistics.services.orders.allocation import AllocationResult, orders_allocate
from logistics.services.orders.cancel import order_cancel
from logistics.services.orders.create import (
    Presc2Refused,
    order_create_from_release,
    order_releases_sweep,
)
from logistics.services.orders.rerouting import orders_reroute_for_protected, orders_reroute_sweep

__all__ = [
    "AllocationResult",
    "Presc2Refused",
    "order_cancel",
    "order_create_from_release",
    "order_releases_sweep",
    "orders_allocate",
    "orders_reroute_for_protected",
    "orders_reroute_sweep",
]

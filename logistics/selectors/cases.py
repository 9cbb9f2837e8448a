"""ACCESS-8, for protection.registry: does a unit still have an open logistics case for a
patient (an order not yet delivered, a pickup still planned, a work order not finished)?"""

from __future__ import annotations

from logistics.models import CustomerOrder, PickupOrder, PickupState, WorkOrder, WorkOrderState
from logistics.services.state import OPEN_ORDER_STATES
from logistics.services.workorders import OPEN_STATES as OPEN_WORK_ORDER_STATES


def unit_has_open_logistics_case(patient_id: int, unit_id: int) -> bool:
    # A returned work order (felfälld) is still its author's to complete and send again.
    work_open = {*OPEN_WORK_ORDER_STATES, WorkOrderState.REJECTED}
    return (
        CustomerOrder.objects.filter(
            patient_id=patient_id, unit_id=unit_id, state__in=OPEN_ORDER_STATES
        ).exists()
        or PickupOrder.objects.filter(
            patient_id=patient_id, unit_id=unit_id, state=PickupState.PLANNED
        ).exists()
        or WorkOrder.objects.filter(
            patient_id=patient_id, contact_unit_id=unit_id, state__in=work_open
        ).exists()
    )

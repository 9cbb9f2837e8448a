"""Background work of the logistics floor, run by Celery beat (config/settings/base.py). Tasks
take ids or nothing (LEAK-1) and are safe to run twice: the services claim their rows with
conditional UPDATEs."""

from __future__ import annotations

from celery import shared_task

from logistics.services import adaptations, orders
from logistics.services.reservations import reservations_lapse
from logistics.services.workorders import work_orders_taken_from_suppliers
from patients.tasking import task_send, task_send_on_commit

TAKE_RELEASE = "logistics.tasks.take_order_release"
REROUTE = "logistics.tasks.reroute_orders_for_protected"


@shared_task(name=TAKE_RELEASE)
def take_order_release(prescription_id: int) -> str:
    """Make the customer order of an approved prescription (once, however often it runs)."""
    order = orders.order_create_from_release(prescription_id=prescription_id)
    return order.number if order is not None else ""


@shared_task(name="logistics.tasks.sweep_order_releases")
def sweep_order_releases() -> int:
    """Releases no task took within a few minutes (a lost message) are taken here."""
    made = 0
    for prescription_id in orders.order_releases_sweep():
        made += orders.order_create_from_release(prescription_id=prescription_id) is not None
    return made


@shared_task(name="logistics.tasks.allocate_orders")
def allocate_orders() -> int:
    """Allocate what waits (received lines, and backorders now that stock may have come)."""
    return orders.orders_allocate().allocated


@shared_task(name=REROUTE)
def reroute_orders_for_protected(patient_id: int) -> int:
    # LOG-3: the patient's orders go to the unit, and work with a supplier comes back home.
    rerouted = orders.orders_reroute_for_protected(patient_id=patient_id)
    return rerouted + work_orders_taken_from_suppliers(patient_id=patient_id)


@shared_task(name="logistics.tasks.sweep_order_reroutes")
def sweep_order_reroutes() -> int:
    return orders.orders_reroute_sweep()


def order_released(prescription_id: int) -> None:
    """``prescriptions.registry.order_released_handlers`` (called after the commit)."""
    task_send_on_commit(TAKE_RELEASE, prescription_id, what="order release")


def protection_added(patient_id: int) -> None:
    """``protection.registry.protection_added_handlers`` (called after the commit)."""
    task_send(REROUTE, patient_id, what="order re-routing for patient")


@shared_task(name="logistics.tasks.remind_adaptation_signing")
def remind_adaptation_signing() -> int:
    """PRESC-6: remind prescribers of special adaptations still to sign (once a day each)."""
    return adaptations.signing_reminders_send()


@shared_task
def lapse_draft_reservations() -> int:
    """LOG-1: end the lapsed reservations of drafts never submitted; tell their prescribers."""
    return reservations_lapse()

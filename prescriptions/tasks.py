"""Background work of the prescriptions floor, run by Celery beat (config/settings/base.py).

The tasks take no arguments, or a patient's internal id, so no personal data can reach the
broker (LEAK-1); the services they call claim rows with conditional UPDATEs or leave alone what
is already done, so a retry or an overlapping run does nothing twice. The DB is the record of
work.
"""

from __future__ import annotations

from celery import shared_task

from patients.tasking import task_send
from prescriptions.services import activity, consumables, rerouting


@shared_task
def close_stale_consultation_activities() -> int:
    """PRESC-7: close activities without a booked time after three days."""
    return activity.consultation_activities_close_stale()


@shared_task
def expire_consumable_prescriptions() -> int:
    """A consumable prescription past its last valid day ends; ACCESS-8 may end grants."""
    return consumables.consumable_prescriptions_expire()


@shared_task
def reroute_for_protected_patient(patient_id: int) -> int:
    """PRESC-2: the patient became protected; move their orders to the prescriber's unit."""
    return rerouting.prescriptions_reroute_for_protected(patient_id=patient_id)


@shared_task
def sweep_reroutes() -> int:
    """PRESC-2: the net under lost announcements and new PROT-5 links (beat schedule)."""
    return rerouting.prescriptions_reroute_sweep()


def protection_added(patient_id: int) -> None:
    """``protection.registry.protection_added_handlers``: called after the commit. A broker
    outage must not turn the committed decision into an error page; ``sweep_reroutes`` finds
    the orders later. Logged by internal id only (LEAK-1)."""
    task_send(reroute_for_protected_patient.name, patient_id, what="re-routing for patient")

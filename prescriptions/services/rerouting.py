"""PRESC-2: when a patient becomes protected, their orders stop going to an address.

The protection floor announces it (``protection.registry.protection_added_handlers``, filled
by ``PrescriptionsConfig.ready``) once the transaction that protected the patient commits;
``prescriptions.tasks.reroute_for_protected_patient`` takes the patient's id and calls
:func:`prescriptions_reroute_for_protected`. Each open or approved, not yet fitted order of the
patient, and of the patients the register links to them (PROT-5: the gate guards them too),
is locked and its delivery recomputed by the same rule as on submit; an order that moves gets
a history note and its prescriber a message naming the order number only (LEAK-2). Supply
registrations of those patients lose address, phone and door code (LEAK-3).

A lost announcement (a broker outage at commit) or a register link to a person who was already
protected fires no task for the orders concerned: :func:`prescriptions_reroute_sweep`, on the
beat schedule, finds every open or approved address delivery whose patient the gate now guards.

Idempotent: an order already delivered to the unit and a registration without location are
left alone, so a second run (a retry, a duplicate message) changes and sends nothing.
"""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from patients.models import Patient
from patients.services import notification_send
from prescriptions.models import (
    DeliveryKind,
    Prescription,
    PrescriptionState,
    SupplyRegistration,
)
from prescriptions.services.access import patient_guarded
from prescriptions.services.delivery import DELIVERY_FIELDS, delivery_compute, presc2_enforced
from prescriptions.services.state import OPEN_STATES, prescription_history_note
from protection.gate import linked_patient_ids
from protection.rls import system_context

REROUTED_NOTE = "PRESC-2: delivery moved to the prescriber's unit"


@transaction.atomic
def _reroute_patient(patient_id: int) -> int:
    patient = Patient.objects.get(pk=patient_id)
    moved = 0
    orders = Prescription.objects.select_for_update().filter(
        patient_id=patient_id,
        state__in=[*OPEN_STATES, PrescriptionState.APPROVED],
        fitted_at__isnull=True,
    )
    for prescription in orders.order_by("pk"):
        before = (prescription.delivery_kind, prescription.special_agreement_id)
        delivery_compute(prescription=prescription, patient=patient)
        with presc2_enforced(prescription):
            prescription.save(update_fields=list(DELIVERY_FIELDS))
        if (prescription.delivery_kind, prescription.special_agreement_id) == before:
            continue
        moved += 1
        prescription_history_note(prescription=prescription, actor=None, note=REROUTED_NOTE)
        notification_send(
            user=prescription.prescriber,
            subject=_("Prescription %(number)s: delivery moved to your unit")
            % {"number": prescription.reference},
            body=_(
                "Prescription %(number)s is now delivered to your unit, with you as contact: "
                "the patient's identity is protected. Hand the device over at the unit."
            )
            % {"number": prescription.reference},
        )
    SupplyRegistration.objects.filter(episode__patient_id=patient_id).filter(
        Q(address__isnull=False) | Q(phone__isnull=False) | Q(door_code__isnull=False)
    ).update(address=None, phone=None, door_code=None)
    return moved


def prescriptions_reroute_for_protected(*, patient_id: int) -> int:
    """Re-route the orders of a newly protected patient and of those it guards; returns how
    many orders moved to the unit."""
    # The register is read in the system context (a task acts for nobody); in id order, as
    # the runs have always gone.
    with system_context():
        concerned_ids = sorted(linked_patient_ids(patient_id))
    moved = 0
    for concerned in concerned_ids:
        if patient_guarded(concerned):
            moved += _reroute_patient(concerned)
    return moved


def prescriptions_reroute_sweep() -> int:
    """The net under the announcement: every open or approved, not yet fitted order still
    going to an address whose patient the gate now guards (PROT-5 links included, read by
    ``hjm_patient_guards`` in the same query) is re-routed. Returns how many orders moved."""
    guarded = RawSQL(
        "EXISTS (SELECT 1 FROM hjm_patient_guards(prescriptions_prescription.patient_id))",
        [],
        output_field=models.BooleanField(),
    )
    patient_ids = (
        Prescription.objects.filter(
            delivery_kind=DeliveryKind.PATIENT_ADDRESS,
            state__in=[*OPEN_STATES, PrescriptionState.APPROVED],
            fitted_at__isnull=True,
        )
        .annotate(guarded=guarded)
        .filter(guarded=True)
        .values_list("patient_id", flat=True)
        .distinct()
    )
    return sum(_reroute_patient(patient_id) for patient_id in sorted(patient_ids))

"""The prescriptions floor's documents, registered with the pipeline in ``PrescriptionsConfig``.

The order confirmation (orderbekräftelse) of a prescription: its number, articles, quantities,
rent or buy, and the delivery destination and contact as the services computed them (PRESC-2).
It is under the printing ban like every document about a patient (PRINT-1); it may be printed
to be forwarded to another principal with a recorded reason (PRINT-2). Nothing on it locates a
protected patient: the patient's address is printed only on an ordinary document, where the
delivery goes to it, and a special delivery agreement (LEAK-3) is never printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from patients.models import Patient
from patients.presenters import full_card
from prescriptions.models import DeliveryKind, Prescription
from prescriptions.services.parcel import parcel_check
from protection.documents import kinds
from protection.documents.letters import address_lines
from protection.models import DocumentJob, DocumentRoute

ORDER_CONFIRMATION_KIND = "prescriptions.order_confirmation"


def _delivery(prescription: Prescription, patient: Patient, route: str) -> dict[str, Any]:
    """The destination and contact as computed (PRESC-2), as lines for the document."""
    kind = prescription.delivery_kind
    if kind == DeliveryKind.UNIT:
        unit = prescription.delivery_unit or prescription.unit
        contact = prescription.delivery_contact or prescription.prescriber
        postal = f"{unit.delivery_postal_code[:3]} {unit.delivery_postal_code[3:]}"
        return {
            "kind": kind,
            "lines": [unit.unit.name, unit.delivery_street, f"{postal} {unit.delivery_town}"],
            "note": unit.delivery_note,
            "contact": contact.get_full_name() or contact.get_username(),
            "phone": unit.phone,
        }
    if kind == DeliveryKind.PATIENT_ADDRESS and route == DocumentRoute.ORDINARY:
        # Only an ordinary patient's document gets here: the ban refused it otherwise.
        return {"kind": kind, "lines": address_lines(patient.identity.registered_address)}
    # A special agreement (LEAK-3) or a forwarded copy: the address stays in the product.
    return {"kind": kind, "lines": []}


def order_confirmation_context(job: DocumentJob, patients: Sequence[Patient]) -> dict[str, Any]:
    """Runs in the worker after the ban was checked again. Reads the one prescription the job
    names, and refuses one that is not about the job's patient (what the ban was checked for)."""
    prescription = Prescription.objects.select_related(
        "unit__unit", "prescriber", "delivery_unit__unit", "delivery_contact"
    ).get(pk=job.params["prescription_id"])
    if [patient.pk for patient in patients] != [prescription.patient_id]:
        raise ValueError("the job's patient is not the prescription's")
    patient = patients[0]
    route = job.subjects.values_list("route", flat=True).get(patient_id=patient.pk)
    lines = list(prescription.lines.select_related("article").order_by("position"))
    return {
        "job": job,
        "prescription": prescription,
        "card": full_card(patient, patient.identity, own_county_code=settings.REGION_COUNTY_CODE),
        "lines": lines,
        "delivery": _delivery(prescription, patient, route),
        # LETTER-4: shown for a protected patient, whose parcel could go through Skatteverket.
        "parcel": parcel_check(lines) if patient.is_protected and lines else None,
        "unit_name": job.unit.name if job.unit else "",
        "made_at": timezone.localtime(),
    }


ORDER_CONFIRMATION = kinds.DocumentKind(
    code=ORDER_CONFIRMATION_KIND,
    label=gettext_lazy("Order confirmation"),
    template="prescriptions/documents/order_confirmation.html",
    build_context=order_confirmation_context,
    forwarding_allowed=True,
)

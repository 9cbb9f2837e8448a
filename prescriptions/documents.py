"""The prescriptions floor's documents, registered with the pipeline in ``PrescriptionsConfig``.

The order confirmation (orderbekräftelse) of a prescription: its number, articles, quantities,
rent or buy, and the delivery destination and contact as the services computed them (PRESC-2).
It is about an order and names its patient, so it is under the printing ban (PRINT-1); it may be
printed to be forwarded to another principal with a recorded reason (PRINT-2). What it shows is
the order as it was when the confirmation was asked for (a snapshot stored with the job).
Nothing on it locates a protected patient: the patient's address is printed only on an ordinary
document, where the delivery goes to it, and a special delivery agreement (LEAK-3) is never
printed.
"""

from __future__ import annotations

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
from protection.models import DocumentRoute

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


def order_confirmation_snapshot(request: kinds.SnapshotRequest) -> dict[str, Any]:
    """Taken when the confirmation is asked for, as the requester (who sees the patient in full:
    the ban said so). Reads the one prescription the job names, and refuses one that is not
    about the job's patient (what the ban was checked for)."""
    prescription = Prescription.objects.select_related(
        "unit__unit", "prescriber", "delivery_unit__unit", "delivery_contact"
    ).get(pk=request.params["prescription_id"])
    if [subject.patient_id for subject in request.subjects] != [prescription.patient_id]:
        raise ValueError("the job's patient is not the prescription's")
    subject = request.subjects[0]
    patient = subject.patient
    if patient is None:  # the kind has no identity-free form; the ban refused it
        raise ValueError("an order confirmation is never made without identity")
    card = full_card(patient, patient.identity, own_county_code=settings.REGION_COUNTY_CODE)
    lines = list(prescription.lines.select_related("article").order_by("position"))
    # LETTER-4: shown for a protected patient, whose parcel could go through Skatteverket.
    parcel = parcel_check(lines) if patient.is_protected and lines else None
    prescriber = prescription.prescriber
    submitted = prescription.submitted_at
    job = request.job
    return {
        "prescription": {
            "reference": prescription.reference,
            "state": str(prescription.get_state_display()),
            "submitted": timezone.localtime(submitted).date().isoformat() if submitted else "",
            "urgency": str(prescription.get_urgency_display()),
            "unit_name": prescription.unit.unit.name,
            "prescriber": prescriber.get_full_name() or prescriber.get_username(),
        },
        "card": {"name": card.name, "identity_number": card.identity_number},
        "lines": [
            {
                "position": line.position,
                "article": f"{line.article.article_number} {line.article.name}",
                "accessory": line.main_line_id is not None,
                "quantity": line.quantity,
                "supply": str(line.get_supply_display()),
            }
            for line in lines
        ],
        "delivery": _delivery(prescription, patient, subject.route),
        "parcel": {
            "through_forwarding": parcel.through_forwarding,
            "weight_kg": str(parcel.weight_kg),
            "length_m": str(parcel.length_m),
            "length_plus_girth_m": str(parcel.length_plus_girth_m),
        }
        if parcel is not None
        else None,
        "unit_name": job.unit.name if job.unit else "",
    }


ORDER_CONFIRMATION = kinds.DocumentKind(
    code=ORDER_CONFIRMATION_KIND,
    label=gettext_lazy("Order confirmation"),
    template="prescriptions/documents/order_confirmation.html",
    build_snapshot=order_confirmation_snapshot,
    subject=kinds.Subject.ORDER,
    protected_form=kinds.ProtectedForm.FORWARDED,
)

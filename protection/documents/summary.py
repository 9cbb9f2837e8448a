"""The patient summary: the protection floor's own document about patients.

One page per patient: who the patient is, the registered address and the register status. A
summary about a protected patient is refused (PRINT-1) unless it is to be forwarded to another
principal with a recorded reason (PRINT-2): the document then says to whom and why.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy

from patients.presenters import full_card
from protection.documents import kinds
from protection.documents.letters import address_lines
from protection.models import DocumentRoute

SUMMARY_KIND = "protection.patient_summary"


def summary_snapshot(request: kinds.SnapshotRequest) -> dict[str, Any]:
    """Taken at the request, as the requester (who sees each patient in full: the ban said so)."""
    pages = []
    for subject in request.subjects:
        patient = subject.patient
        if patient is None:  # the kind has no identity-free form; the ban refused it
            raise ValueError("a patient summary is never made without identity")
        identity = patient.identity
        card = full_card(patient, identity, own_county_code=settings.REGION_COUNTY_CODE)
        pages.append(
            {
                "card": {
                    "reference": card.reference,
                    "name": card.name,
                    "identity_kind": str(card.identity_kind),
                    "identity_number": card.identity_number,
                    "age": card.age,
                    "home_region": card.home_region,
                    "status_label": str(card.status_label),
                },
                # LEAK-3: a copy forwarded under PRINT-2 says who the patient is, never where
                # they live; the address is printed only on an ordinary summary.
                "address": address_lines(identity.registered_address)
                if subject.route == DocumentRoute.ORDINARY
                else [],
            }
        )
    job = request.job
    return {"pages": pages, "unit_name": job.unit.name if job.unit else ""}


SUMMARY_DOCUMENT = kinds.DocumentKind(
    code=SUMMARY_KIND,
    label=gettext_lazy("Patient summary"),
    template="documents/patient_summary.html",
    build_snapshot=summary_snapshot,
    protected_form=kinds.ProtectedForm.FORWARDED,
)

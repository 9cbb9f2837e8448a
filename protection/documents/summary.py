"""The patient summary: the protection floor's own document about patients.

One page per patient: who the patient is, the registered address and the register status. A
summary about a protected patient is refused (PRINT-1) unless it is to be forwarded to another
principal with a recorded reason (PRINT-2): the document then says to whom and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from patients.models import Patient
from patients.presenters import full_card
from protection.documents import kinds
from protection.documents.letters import address_lines
from protection.models import DocumentJob, DocumentRoute

SUMMARY_KIND = "protection.patient_summary"


def summary_context(job: DocumentJob, patients: Sequence[Patient]) -> dict[str, Any]:
    routes = dict(job.subjects.values_list("patient_id", "route"))
    pages = []
    for patient in patients:
        identity = patient.identity
        # LEAK-3: a copy forwarded under PRINT-2 says who the patient is, never where they live;
        # the address is printed only on an ordinary summary (as on the order confirmation).
        ordinary = routes.get(patient.pk) == DocumentRoute.ORDINARY
        pages.append(
            {
                "card": full_card(patient, identity, own_county_code=settings.REGION_COUNTY_CODE),
                "address": address_lines(identity.registered_address) if ordinary else [],
            }
        )
    return {
        "pages": pages,
        "job": job,
        "unit_name": job.unit.name if job.unit else "",
        "made_at": timezone.localtime(),
    }


SUMMARY_DOCUMENT = kinds.DocumentKind(
    code=SUMMARY_KIND,
    label=gettext_lazy("Patient summary"),
    template="documents/patient_summary.html",
    build_context=summary_context,
    forwarding_allowed=True,
)

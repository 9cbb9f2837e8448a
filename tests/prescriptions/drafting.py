"""Drafting and submitting a prescription through the services, for the tests of the
prescriptions floor."""

from __future__ import annotations

import io
from typing import Any

import pypdf
from django.core.files.uploadedfile import SimpleUploadedFile

from patients.models import Patient
from prescriptions.models import EligibilityRecord, Prescription
from prescriptions.services.drafts import prescription_details_set, prescription_draft_start
from prescriptions.services.lines import prescription_line_add
from prescriptions.services.routing import prescription_submit
from tests.personas import ctx_for

# REGION-3: the refusal to clear a registration that is not waiting, in English or Swedish.
NOT_WAITING = r"not waiting to be cleared|väntar inte på klartecken"


# The need a prescriber describes before submitting (submit refuses a draft without one).
NEED = "Går osäkert inomhus"


def draft_with(
    user: Any, patient: Patient, *articles: Any, stepped_up: bool = False, need: str = NEED
) -> str:
    """A draft with these articles and the need described, as a prescriber leaves it ready to
    submit; ``need=""`` leaves the need out."""
    ctx = ctx_for(user, stepped_up=stepped_up)
    prescription = prescription_draft_start(ctx=ctx, patient_reference=patient.reference)
    for item in articles:
        prescription_line_add(ctx=ctx, reference=prescription.reference, article_id=item.pk)
    if need:
        prescription_details_set(ctx=ctx, reference=prescription.reference, need=need)
    return prescription.reference


def submit(user: Any, reference: str, *, stepped_up: bool = False) -> Prescription:
    return prescription_submit(ctx=ctx_for(user, stepped_up=stepped_up), reference=reference)


def pdf_bytes() -> bytes:
    """A real one-page PDF: the agreement document must open as one (REGION-2)."""
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf(name: str = "bf.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def criteria(prescription: Prescription) -> dict[str, Any]:
    record = EligibilityRecord.objects.filter(prescription=prescription).latest("pk")
    return {c["criterion"]: c for c in record.criteria}

"""Asking for the goods papers through the pipeline (``document_request``), which decides the
printing ban per patient: identity-free for a protected patient (PRINT-1)."""

from __future__ import annotations

from logistics.documents import DELIVERY_NOTE_KIND, PACKAGE_LABEL_KIND, PICK_LIST_KIND
from logistics.models import CustomerOrder, Package, PickItem, PickWave
from patients.models import Patient
from protection.documents.services import document_request
from protection.gate import AccessContext
from protection.models import DocumentJob


def pick_list_request(*, ctx: AccessContext, wave: PickWave) -> DocumentJob:
    """The wave's pick list; it concerns every patient whose order is on the wave."""
    patient_ids = PickItem.objects.filter(wave=wave, line__order__patient__isnull=False).values(
        "line__order__patient_id"
    )
    patients = list(Patient.objects.filter(pk__in=patient_ids))
    return document_request(
        ctx=ctx, kind=PICK_LIST_KIND, patients=patients, params={"wave_id": wave.pk}
    )


def package_paper_request(*, ctx: AccessContext, package: Package, kind: str) -> DocumentJob:
    """The package's label or delivery note."""
    if kind not in (PACKAGE_LABEL_KIND, DELIVERY_NOTE_KIND):
        raise ValueError(kind)
    order = CustomerOrder.objects.select_related("patient").get(pk=package.order_id)
    return document_request(
        ctx=ctx,
        kind=kind,
        patients=[order.patient] if order.patient is not None else [],
        params={"package_id": package.pk},
    )

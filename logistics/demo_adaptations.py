"""Demo data for PRESC-6 (seed 004, digital signing): a special adaptation of a rollator for
Karl Lindqvist made by ``technician`` on a work order, its adaptation document attached and the
signing request sent to ``prescriber``, who finds it under *Att signera* (the README's "a signed
adaptation" step signs it). Made through the floor's services, as the pages do."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from weasyprint import HTML

from logistics.models import AdaptationSigningRequest, Device, WorkOrder, WorkOrderKind
from logistics.services.adaptations import signing_request_send
from logistics.services.workorders import work_order_create

# The device adapted: the lowest serial, which the README's picking walk (the highest first)
# leaves in the store.
ADAPTED_SERIAL = "GL-2026-0006"
DOCUMENT_HTML = """<html lang="sv"><body>
<h1>Specialanpassningsanvisning</h1>
<p>Arbetsorder {number}. Rollator Gloss (44001), serienummer {serial}.</p>
<p>Anpassning: handtagen förhöjda 8 cm, förstärkt ram, bromsar flyttade till vänster sida.</p>
<p>Förskrivaren gör den funktionella riskbedömningen och signerar innan hjälpmedlet tas i bruk.</p>
</body></html>"""


def adaptation_demo(*, prescriber: Any, patient_id: int) -> WorkOrder | None:
    """The work order waiting for the prescriber's signature (None without the technician)."""
    technician = get_user_model().objects.filter(username="technician").first()
    device = Device.objects.filter(serial_number=ADAPTED_SERIAL).first()
    if technician is None or device is None:
        return None
    work_order = work_order_create(
        kind=WorkOrderKind.SPECIAL_ADAPTATION,
        by=technician,
        device_id=device.pk,
        patient_id=patient_id,
        prescriber=prescriber,
        technician=technician,
        description="Förhöjda handtag och förstärkt ram.",
    )
    document = HTML(
        string=DOCUMENT_HTML.format(number=work_order.number, serial=device.serial_number)
    ).write_pdf()
    assert document is not None
    request: AdaptationSigningRequest = signing_request_send(
        work_order_id=work_order.pk, document=document, valid_until=None, by=technician
    )
    return request.work_order

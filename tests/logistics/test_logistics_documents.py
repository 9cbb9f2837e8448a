"""The goods papers (PRINT-1): a protected patient's pick list, package label and delivery note
are made identity-free, rendered by the real worker and read back with pypdf: no name, number,
birth year, address or protection marker. An ordinary patient's delivery note carries the
address; a pickup point's (LOG-4) carries the point's. The label's GS1 DataMatrix is FNC1-led."""

from __future__ import annotations

import datetime
import io

import pytest
from pypdf import PdfReader

from logistics.barcodes import FNC1, GS1Message, gs1_element_string, label_codes
from logistics.documents import DELIVERY_NOTE_KIND, PACKAGE_LABEL_KIND
from logistics.models import PickItem
from logistics.services.delivery import package_pack
from logistics.services.papers import package_paper_request, pick_list_request
from logistics.services.picking import item_pick, waves_create
from prescriptions.models import PickupPoint
from protection.documents.services import DocumentError, document_job_render
from protection.models import Document, DocumentRoute
from tests.logistics.conftest import approved
from tests.logistics.factories import DeviceFactory
from tests.logistics.picking_setup import allocated_order, area_all_week, stocked
from tests.personas import ORDINARY_NUMBER, PROTECTED_NUMBER, ctx_for
from tests.prescriptions.leaks import SECRET_ADDRESS, SECRET_NAME

pytestmark = pytest.mark.django_db
MONDAY = datetime.date(2026, 12, 7)


def pdf_text(job) -> str:
    assert document_job_render(job_id=job.pk) == "ready"
    content = bytes(Document.objects.get(pk=job.pk).content)
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(content)).pages)


def packed(order, store, by):
    wave = waves_create(store_id=store.pk, delivery_on=MONDAY, by=by, today=MONDAY).waves[0]
    for item in PickItem.objects.filter(wave=wave).select_related("line__article"):
        serial = DeviceFactory(article=item.line.article, location=store).serial_number
        item_pick(wave_id=wave.pk, item_id=item.pk, by=by, serial=serial)
    return wave, package_pack(order_id=order.pk, by=by, today=MONDAY)


def test_gs1_datamatrix_is_fnc1_led_ascii():
    message = GS1Message(gs1_element_string("07340000000017", "SN1"))
    codewords = message.encode("datamatrix.ascii")
    assert codewords[0] == FNC1
    # "01" "07" "34" ... digit pairs are 130 + value; then "21", then S N 1 as ASCII + 1.
    assert list(codewords[1:4]) == [131, 137, 164]
    assert codewords[-3:] == bytes([ord("S") + 1, ord("N") + 1, ord("1") + 1])
    assert label_codes("F-ABC", [("07340000000017", "SN1")])[0]["kind"] == "gs1"
    assert label_codes("F-ABC", [])[0]["kind"] == "order"


def test_print_1_protected_patients_goods_papers_name_only_order_unit_and_prescriber(
    rx, hidden, central, rollator, store_worker
):
    area_all_week()
    stocked(rollator, central, 3)
    order = allocated_order(
        approved(rx, hidden, rollator, stepped_up=True), central, rollator, protected=True
    )
    wave, package = packed(order, central, store_worker)
    ctx = ctx_for(store_worker)
    jobs = [
        pick_list_request(ctx=ctx, wave=wave),
        package_paper_request(ctx=ctx, package=package, kind=PACKAGE_LABEL_KIND),
        package_paper_request(ctx=ctx, package=package, kind=DELIVERY_NOTE_KIND),
    ]
    texts = []
    birth_year = str(hidden.birth_year)
    for job in jobs:
        assert {s.route for s in job.subjects.all()} == {DocumentRoute.IDENTITY_FREE}
        text = pdf_text(job)
        texts.append(text)
        assert order.number in "".join(text.split())
        for secret in (*SECRET_NAME, SECRET_ADDRESS, PROTECTED_NUMBER, PROTECTED_NUMBER[2:8]):
            assert secret.lower() not in text.lower(), (job.kind, secret)
        assert birth_year not in text.replace(str(MONDAY.year), "")
        for marker in ("skydd", "protected", "sekretess"):
            assert marker not in text.lower()
    prescriber = rx.get_full_name() or rx.get_username()
    for text in texts[1:]:
        flat = " ".join(text.split())
        assert order.unit.unit.name in flat
        assert prescriber in flat


def test_an_ordinary_patients_delivery_note_carries_the_name_and_address(
    rx, ordinary, central, rollator, store_worker
):
    area_all_week()
    stocked(rollator, central, 3)
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    _wave, package = packed(order, central, store_worker)
    job = package_paper_request(ctx=ctx_for(store_worker), package=package, kind=DELIVERY_NOTE_KIND)
    text = pdf_text(job)
    assert "Provgatan 1" in text
    assert "211 00" in text
    assert "Testa Testsson" in text
    assert ORDINARY_NUMBER not in text
    assert ORDINARY_NUMBER[2:] not in text


def test_log_4_a_pickup_points_delivery_note_names_the_point(
    rx, ordinary, central, rollator, store_worker
):
    area_all_week()
    stocked(rollator, central, 3)
    point = PickupPoint.objects.create(
        name="Apoteket Hjärtat Triangeln", street="Triangeln 1", postal_code="21143", town="Malmö"
    )
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator, pickup_point=point)
    _wave, package = packed(order, central, store_worker)
    text = pdf_text(
        package_paper_request(ctx=ctx_for(store_worker), package=package, kind=DELIVERY_NOTE_KIND)
    )
    assert "Apoteket Hjärtat Triangeln" in text
    assert "Triangeln 1" in text
    assert "Provgatan" not in text


def test_a_prescriber_may_not_ask_for_goods_papers(rx, ordinary, central, rollator, store_worker):
    area_all_week()
    stocked(rollator, central, 3)
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    _wave, package = packed(order, central, store_worker)
    with pytest.raises(DocumentError):
        package_paper_request(ctx=ctx_for(rx), package=package, kind=DELIVERY_NOTE_KIND)


def test_print_1_a_pick_list_line_carries_article_quantity_order_unit_prescriber_and_serial(
    rx, ordinary, central, rollator, store_worker
):
    """The lighter pick list (one paragraph per line) still carries everything a picker needs,
    and, like every pick list, names no patient."""
    area_all_week()
    stocked(rollator, central, 3)
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    wave, _package = packed(order, central, store_worker)
    line = order.lines.get()
    text = " ".join(pdf_text(pick_list_request(ctx=ctx_for(store_worker), wave=wave)).split())
    assert f"{rollator.article_number} {rollator.name}" in text
    assert f"{order.number}/{line.position}" in text
    assert f"{line.quantity} · {order.number}" in text
    assert order.unit.unit.name in text
    assert (rx.get_full_name() or rx.get_username()) in text
    assert line.device is not None
    assert line.device.serial_number in text
    assert "Testa Testsson" not in text
    assert ORDINARY_NUMBER not in text

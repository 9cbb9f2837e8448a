"""REGION-2: the home region's agreement document is checked by its content, not its name.

A text file named ``.pdf`` and sent as ``application/pdf`` said nothing true about itself; the
page refuses it at the field, in Swedish, keeps what was typed, and records nothing; the service
refuses it too, whoever calls it."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from lxml import html
from PIL import Image

from prescriptions.forms import HomeRegionAgreementForm
from prescriptions.models import (
    AGREEMENT_DOCUMENT_MAX_BYTES,
    HomeRegionAgreement,
    Prescription,
    PrescriptionState,
)
from prescriptions.services.errors import PrescriptionError
from prescriptions.services.region import document_type_read, home_region_agreement_record
from tests.personas import ctx_for
from tests.prescriptions.conftest import OTHER_REGION, article
from tests.prescriptions.drafting import draft_with, pdf_bytes, submit
from tests.prescriptions.pages import add, start
from tests.prescriptions.pages import submit as submit_page

pytestmark = pytest.mark.django_db


def image_bytes(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format=kind)
    return out.getvalue()


def test_region_2_document_kind_is_read_from_its_content():
    assert document_type_read(pdf_bytes()) == "application/pdf"
    assert document_type_read(image_bytes("PNG")) == "image/png"
    assert document_type_read(image_bytes("JPEG")) == "image/jpeg"
    # Six bytes of text, a header alone, a cut-off PNG: none of them opens.
    assert document_type_read(b"hello\n") is None
    assert document_type_read(b"%PDF-1.4\n") is None
    assert document_type_read(image_bytes("PNG")[:40]) is None
    assert document_type_read(b"GIF89a" + b"\x00" * 20) is None


def test_region_2_service_refuses_a_text_file_named_pdf(rx, out_of_region):
    reference = draft_with(rx, out_of_region, article("12500"))
    prescription = submit(rx, reference)
    assert prescription.state == PrescriptionState.AWAITING_AGREEMENT
    fake = SimpleUploadedFile("bf.pdf", b"hello\n", content_type="application/pdf")
    with translation.override("sv"), pytest.raises(PrescriptionError) as refused:
        home_region_agreement_record(
            ctx=ctx_for(rx),
            reference=reference,
            issuing_region_code=OTHER_REGION,
            agreement_reference="BF-9",
            issued_on=datetime.date(2026, 1, 2),
            supply="rent",
            document=fake,
        )
    assert str(refused.value).startswith("Betalningsförbindelsen (dokument): Filen är inte")
    assert not HomeRegionAgreement.objects.exists()


def test_region_2_service_stores_the_kind_the_content_says(rx, out_of_region):
    reference = draft_with(rx, out_of_region, article("12500"))
    submit(rx, reference)
    # Named .pdf and sent as PDF, but a PNG: stored as the PNG it is.
    png = SimpleUploadedFile("bf.pdf", image_bytes("PNG"), content_type="application/pdf")
    agreement = home_region_agreement_record(
        ctx=ctx_for(rx),
        reference=reference,
        issuing_region_code=OTHER_REGION,
        agreement_reference="BF-10",
        issued_on=datetime.date(2026, 1, 2),
        supply="rent",
        document=png,
    )
    assert (agreement.document_content_type, agreement.document_name) == (
        "image/png",
        "betalningsforbindelse.png",
    )


@pytest.mark.parametrize(
    "content", [b"hello\n", b"%PDF-1.4 nothing more"], ids=["text", "pdf-header-only"]
)
def test_region_2_page_names_the_field_and_keeps_what_was_typed(rx_client, out_of_region, content):
    rx_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    number = start(rx_client, out_of_region)
    add(rx_client, number, article("12500").pk)
    submit_page(rx_client, number)
    response = rx_client.post(
        f"/prescriptions/{number}/agreement/",
        {
            "issuing_region": OTHER_REGION,
            "agreement_reference": "BF-2026-17",
            "issued_on": timezone.localdate().isoformat(),
            "supply": "rent",
            "document": SimpleUploadedFile("bf.pdf", content, content_type="application/pdf"),
        },
    )
    assert response.status_code == 400
    tree = html.fromstring(response.content.decode())
    (summary_link,) = tree.xpath('//a[@href="#id_document"]')
    assert " ".join(summary_link.text_content().split()).startswith(
        "Betalningsförbindelsen (dokument): Filen är inte en PDF-, JPEG- eller PNG-fil"
    )
    (field_error,) = tree.xpath('//*[@id="id_document_error"]')
    assert "Filen är inte en PDF-, JPEG- eller PNG-fil" in field_error.text_content()
    (reference_input,) = tree.xpath('//*[@id="id_agreement_reference"]')
    assert reference_input.get("value") == "BF-2026-17"
    assert not HomeRegionAgreement.objects.exists()
    assert Prescription.objects.get(reference=number).state == PrescriptionState.AWAITING_AGREEMENT


class _Oversized(SimpleUploadedFile):
    """An upload that counts the bytes read from it: the size check must come first."""

    bytes_read = 0

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        data: bytes = super().read(*args, **kwargs)
        self.bytes_read += len(data)
        return data


def test_region_2_an_oversized_document_is_refused_at_the_field_without_being_read():
    """DoS: a file over the limit is refused by its size, in Swedish at the field, before any
    of it is read or parsed."""
    big = _Oversized(
        "bf.pdf",
        pdf_bytes() + b"\x00" * AGREEMENT_DOCUMENT_MAX_BYTES,
        content_type="application/pdf",
    )
    with translation.override("sv"):
        form = HomeRegionAgreementForm(
            data={"issuing_region": OTHER_REGION, "reference": "BF-1", "supply": "rent"},
            files={"document": big},
        )
        form.is_valid()
        assert form.errors["document"] == [
            "Filen är större än 5 MB. Skanna avtalet med lägre upplösning eller spara det som "
            "PDF och ladda upp det igen."
        ]
    assert big.bytes_read == 0


def test_region_2_service_reads_no_more_than_the_limit(rx, out_of_region):
    """A caller that skips the form (or an upload whose size lies) is refused after reading at
    most one byte more than the limit."""
    reference = draft_with(rx, out_of_region, article("12500"))
    submit(rx, reference)
    big = _Oversized(
        "bf.pdf", pdf_bytes() + b"\x00" * (2 * AGREEMENT_DOCUMENT_MAX_BYTES), "application/pdf"
    )
    big.size = 10  # the upload's word for its size is not trusted
    with translation.override("sv"), pytest.raises(PrescriptionError, match="högst 5 MB"):
        home_region_agreement_record(
            ctx=ctx_for(rx),
            reference=reference,
            issuing_region_code=OTHER_REGION,
            agreement_reference="BF-11",
            issued_on=datetime.date(2026, 1, 2),
            supply="rent",
            document=big,
        )
    assert big.bytes_read == AGREEMENT_DOCUMENT_MAX_BYTES + 1
    assert not HomeRegionAgreement.objects.exists()


def test_region_2_a_truncated_jpeg_is_refused():
    """A JPEG's first 200 bytes and zeros: the header says JPEG, the image does not decode."""
    truncated = image_bytes("JPEG")[:200] + b"\x00" * 4000
    assert document_type_read(truncated) is None
    # Nor a PNG header in front of JPEG data: the parser tries only the kind the bytes claim.
    assert document_type_read(b"\x89PNG\r\n\x1a\n" + image_bytes("JPEG")) is None

"""PRESC-6's pages: the prescriber's "Att signera" list (its query count pinned, and its start
page entry), the signing page (the work order, device, article and document; the patient through
the gate, never an address), signing after the password confirmation with nothing typed lost,
declining; the technician's page (send, read a decline, record a paper signature); the device
card's signed adaptations; and each route's denied answers."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from logistics.models import (
    AdaptationRecord,
    AdaptationSigningRequest,
    Device,
    SigningState,
    WorkOrder,
    WorkOrderKind,
)
from logistics.services.adaptations import signing_request_send
from logistics.services.workorders import work_order_create
from patients.models import Patient
from patients.startpage import start_sections_for
from tests.factories import UserFactory
from tests.logistics.factories import DeviceFactory
from tests.personas import logged_in
from tests.prescriptions.drafting import pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def technician() -> Any:
    return UserFactory(username="tekniker", role="technician")


def adaptation(rx: Any, patient: Patient, technician: Any, rollator: Any, central: Any) -> Any:
    device = DeviceFactory(article=rollator, location=central)
    return work_order_create(
        kind=WorkOrderKind.SPECIAL_ADAPTATION,
        by=technician,
        device_id=device.pk,
        patient_id=patient.pk,
        prescriber=rx,
        technician=technician,
    )


def requested(rx: Any, patient: Patient, technician: Any, rollator: Any, central: Any) -> Any:
    work_order = adaptation(rx, patient, technician, rollator, central)
    return signing_request_send(
        work_order_id=work_order.pk, document=pdf_bytes(), valid_until=None, by=technician
    )


def test_presc_6_the_list_to_sign_pins_its_queries_and_names_no_address(
    client: Client, rx, ordinary, protected_patient, technician, rollator, central,
    django_assert_num_queries,
):  # fmt: skip
    for patient in (ordinary, protected_patient, ordinary):
        requested(rx, patient, technician, rollator, central)
    logged_in(client, rx)
    client.get("/logistics/adaptations/")  # warm the session and the user's permissions
    with django_assert_num_queries(9):  # was 10 (issue 16)
        response = client.get("/logistics/adaptations/")
    content = response.content.decode()
    assert response.status_code == 200
    for number in WorkOrder.objects.values_list("number", flat=True):
        assert number in content
    # Not stepped up: the protected patient is masked; the ordinary one named.
    assert "Protected identity" in content
    assert ordinary.reference in content
    assert protected_patient.reference not in content
    for address in (ordinary.identity.registered_address or {}).values():
        if address:
            assert str(address) not in content


def test_presc_6_the_start_page_counts_the_prescribers_requests_to_sign(
    rx, ordinary, technician, rollator, central, django_assert_num_queries
):
    requested(rx, ordinary, technician, rollator, central)
    shown = {s.key: s for s in start_sections_for(rx)}
    (item,) = shown["adaptations"].items
    assert (item.url, item.count) == ("/logistics/adaptations/", 1)
    assert "adaptations" not in {s.key for s in start_sections_for(technician)}


def test_presc_6_signing_on_the_page_after_the_password_keeps_what_was_typed(
    client: Client, rx, ordinary, technician, rollator, central
):
    signing = requested(rx, ordinary, technician, rollator, central)
    logged_in(client, rx)
    url = f"/logistics/adaptations/{signing.pk}/"
    content = client.get(url).content.decode()
    for shown in (
        signing.work_order.number,
        signing.device.serial_number,
        signing.device.article.article_number,
    ):
        assert shown in content
    assert f"/logistics/adaptations/{signing.pk}/document/" in content
    typed = {"risks": ["stability", "pinching"], "conclusion": "safe_with_measures",
             "measures": "Låst broms vid förflyttning"}  # fmt: skip
    response = client.post(url, typed)
    assert response.status_code == 302
    assert response["Location"].startswith("/protection/step-up/")
    assert AdaptationSigningRequest.objects.get(pk=signing.pk).state == SigningState.SENT
    client.post("/protection/step-up/", {"password": "pw-for-tests-only"})
    content = client.get(url).content.decode()
    assert "Låst broms vid förflyttning" in content  # nothing typed is lost
    assert content.count(" checked") == 3  # two risks and the conclusion, as typed
    assert client.post(url, typed).status_code == 302
    record = AdaptationRecord.objects.get(request=signing)
    assert (record.signed_by, record.measures) == (rx, "Låst broms vid förflyttning")
    device = Device.objects.get(pk=signing.device_id)
    assert device.adaptation_unsigned_since is None


def test_presc_6_declining_on_the_page_keeps_the_reason_for_the_technician(
    client: Client, rx, ordinary, technician, rollator, central
):
    signing = requested(rx, ordinary, technician, rollator, central)
    logged_in(client, rx)
    response = client.post(f"/logistics/adaptations/{signing.pk}/decline/", {"reason": ""})
    assert response.status_code == 400
    assert "Write why you decline" in response.content.decode()
    response = client.post(
        f"/logistics/adaptations/{signing.pk}/decline/", {"reason": "Fel vinkel på ryggen"}
    )
    assert response.status_code == 302
    logged_in(client, technician)
    content = client.get(f"/logistics/work-orders/{signing.work_order_id}/adaptation/").content
    assert "Fel vinkel på ryggen" in content.decode()


def test_presc_6_the_technician_sends_the_request_and_records_paper_signing(
    client: Client, rx, ordinary, technician, rollator, central
):
    work_order = adaptation(rx, ordinary, technician, rollator, central)
    logged_in(client, technician)
    url = f"/logistics/work-orders/{work_order.pk}/adaptation/"
    assert client.get(url).status_code == 200
    valid = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    bad = client.post(
        f"{url}send/",
        {"document": SimpleUploadedFile("x.pdf", b"not a pdf"), "valid_until": valid},
    )
    assert bad.status_code == 400
    assert "not a PDF" in bad.content.decode()
    response = client.post(
        f"{url}send/",
        {"document": SimpleUploadedFile("Eva Holm.pdf", pdf_bytes()), "valid_until": valid},
    )
    assert response.status_code == 302
    signing = AdaptationSigningRequest.objects.get(work_order=work_order)
    assert signing.valid_until.isoformat() == valid
    assert "Eva" not in signing.document_name  # named by the work order, never the upload
    response = client.post(
        f"{url}paper/",
        {"signed_on": timezone.localdate().isoformat(),
         "scan": SimpleUploadedFile("scan.pdf", pdf_bytes())},
    )  # fmt: skip
    assert response.status_code == 302
    signing.refresh_from_db()
    assert signing.state == SigningState.SIGNED_ON_PAPER
    # The device card shows the signed adaptation.
    card = client.get(f"/logistics/devices/{signing.device_id}/").content.decode()
    assert "Signed adaptations" in card
    assert work_order.number in card
    assert "Signed on paper" in card or "signed on paper" in card


def test_presc_6_denied_another_prescriber_and_other_roles(
    client: Client, rx, ordinary, technician, rollator, central, store_worker
):
    signing = requested(rx, ordinary, technician, rollator, central)
    colleague = UserFactory(username="kollega", role="prescriber")
    logged_in(client, colleague)
    for url in (
        f"/logistics/adaptations/{signing.pk}/",
        f"/logistics/adaptations/{signing.pk}/document/",
    ):
        assert client.get(url).status_code == 404
    assert (
        client.post(f"/logistics/adaptations/{signing.pk}/decline/", {"reason": "x"}).status_code
        == 404
    )
    assert (
        client.post(
            f"/logistics/adaptations/{signing.pk}/", {"risks": ["stability"], "conclusion": "safe"}
        ).status_code
        == 404
    )
    assert client.get("/logistics/adaptations/999999/").status_code == 404
    # Logistics staff: not a prescriber, not a technician.
    logged_in(client, store_worker)
    assert client.get("/logistics/adaptations/").status_code == 403
    work_order = signing.work_order_id
    for url in (
        f"/logistics/work-orders/{work_order}/adaptation/",
        f"/logistics/adaptations/{signing.pk}/document/",
    ):
        assert client.get(url).status_code in (403, 404)
    for url in ("send/", "paper/"):
        response = client.post(f"/logistics/work-orders/{work_order}/adaptation/{url}", {})
        assert response.status_code == 403
    # A technician reaches no repair's adaptation page, nor a missing one.
    logged_in(client, technician)
    repair = work_order_create(kind=WorkOrderKind.INSTALLATION, by=technician, prescriber=rx)
    assert client.get(f"/logistics/work-orders/{repair.pk}/adaptation/").status_code == 404
    assert client.get("/logistics/adaptations/signed/999999/document/").status_code == 404
    AdaptationSigningRequest.objects.filter(pk=signing.pk)  # untouched by the denials
    assert AdaptationSigningRequest.objects.get(pk=signing.pk).state == SigningState.SENT


def test_print_1_the_signing_page_offers_no_document_for_a_protected_patient(
    client: Client, rx, protected_patient, technician, rollator, central
):
    signing = requested(rx, protected_patient, technician, rollator, central)
    logged_in(client, rx, stepped_up=True)
    content = client.get(f"/logistics/adaptations/{signing.pk}/").content.decode()
    assert f"/logistics/adaptations/{signing.pk}/document/" not in content
    response = client.get(f"/logistics/adaptations/{signing.pk}/document/")
    assert response.status_code == 403
    assert not response.content.startswith(b"%PDF")
    assert "never printed" in response.content.decode()

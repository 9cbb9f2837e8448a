"""The order confirmation of a prescription through the document pipeline (PRINT-1..3, LETTER-4,
PRESC-2 on paper): PDFs rendered by WeasyPrint and read back as text, refusals audited, the
batch from "My prescriptions", and the denied paths. Identity numbers are Skatteverket's test
numbers (IDENT-4)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from patients.models import AccessAction, AccessEntry, AccessOutcome, Patient
from prescriptions.documents import ORDER_CONFIRMATION_KIND
from prescriptions.models import Article, DeliveryKind, Prescription
from prescriptions.services.delivery import prescription_delivery_set
from prescriptions.services.documents import (
    order_confirmation_request,
    order_confirmations_batch_request,
)
from prescriptions.services.drafts import prescription_details_set, prescription_draft_start
from prescriptions.services.errors import StateNotAllowed
from prescriptions.services.lines import prescription_line_add, prescription_line_change
from prescriptions.services.routing import prescription_submit
from protection.documents import kinds
from protection.documents.services import (
    REFUSED_PROTECTED,
    DocumentRefused,
    document_job_render,
    document_request,
    documents_withdraw_for_patient,
)
from protection.models import Document, DocumentJob, DocumentRoute, DocumentState
from protection.refusals import PatientNotFound
from protection.rls import PatientIdForNumber
from protection.services.local import local_protection_decide
from tests.factories import PatientIdentityFactory, UserFactory
from tests.personas import ctx_for, give_grant, logged_in
from tests.prescriptions.conftest import article
from tests.prescriptions.drafting import NEED
from tests.prescriptions.factories import CompetenceAreaFactory, PrescriberProfileFactory
from tests.protection.documents.conftest import pdf_text

pytestmark = pytest.mark.django_db
PROTECTED_ADDRESS = {"street2": "Gömdavägen 7", "postal_code": "21120", "city": "MALMÖ"}


def approved(
    user: Any, patient: Patient, *articles: Any, quantity: int = 1, delivery: str = ""
) -> Prescription:
    """Draft, lines (and delivery), the need, and submit through the services, as the
    prescriber."""
    ctx = ctx_for(user, stepped_up=True)
    prescription = prescription_draft_start(ctx=ctx, patient_reference=patient.reference)
    if delivery:
        prescription_delivery_set(ctx=ctx, reference=prescription.reference, kind=delivery)
    for item in articles or (article(name="Rollator Gloss"),):
        line = prescription_line_add(ctx=ctx, reference=prescription.reference, article_id=item.pk)
        if quantity != 1:
            prescription_line_change(
                ctx=ctx,
                reference=prescription.reference,
                line_id=line.pk,
                quantity=quantity,
                supply=line.supply,
                special_adaptation=False,
            )
    prescription_details_set(ctx=ctx, reference=prescription.reference, need=NEED)
    return prescription_submit(ctx=ctx, reference=prescription.reference)


def rendered_text(job: DocumentJob) -> str:
    assert document_job_render(job_id=job.pk) == "ready"
    content = Document.objects.get(pk=job.pk).content
    assert content is not None
    return pdf_text(bytes(content))


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages in English for the assertions; the PDFs are in the product's language (sv)."""
    with translation.override("en"):
        yield


def elsewhere() -> Any:
    """A prescriber of another unit, trained in the tests' product areas."""
    return PrescriberProfileFactory(competences=[CompetenceAreaFactory()]).user


@pytest.fixture
def named_rx(rx: Any) -> Any:
    rx.first_name, rx.last_name = "Petra", "Förskrivare"
    rx.save()
    return rx


@pytest.fixture
def hidden_address(protected_patient: Patient) -> Patient:
    """The protected patient with a registered address that must never reach paper."""
    protected_patient.identity.registered_address = PROTECTED_ADDRESS
    protected_patient.identity.save()
    return protected_patient


def test_the_prescriptions_floor_registered_the_order_confirmation():
    kind = kinds.get(ORDER_CONFIRMATION_KIND)
    assert kind.template == "prescriptions/documents/order_confirmation.html"
    assert kind.forwarding_allowed  # PRINT-2
    assert kind.protected_form is kinds.ProtectedForm.FORWARDED
    assert kind.subject is kinds.Subject.ORDER
    assert not kind.letter
    assert not kind.record  # PRINT-3 withdraws it when the patient becomes protected


def test_the_order_confirmation_prints_the_order_as_it_was_asked_for(named_rx, ordinary):
    """The snapshot is taken at the request: data changed before the worker renders (the
    address, the article's name) does not reach the paper."""
    rollator = article(name="Rollator Gloss", article_number="40101")
    prescription = approved(named_rx, ordinary, rollator)
    job = order_confirmation_request(
        ctx=ctx_for(named_rx, stepped_up=True), reference=prescription.reference
    )
    identity = ordinary.identity
    identity.registered_address = {"street2": "Nyvägen 9", "postal_code": "21100", "city": "MALMÖ"}
    identity.save()
    rollator.name = "Rollator Ny"
    rollator.save()
    text = rendered_text(job)
    assert "Provgatan 1" in text
    assert "40101 Rollator Gloss" in text
    assert "Nyvägen" not in text
    assert "Rollator Ny" not in text


# --- PRINT-1: ordinary and protected ------------------------------------------------------------


def test_print_1_ordinary_patient_order_confirmation_shows_the_order_and_computed_delivery(
    named_rx, ordinary
):
    """PRESC-2 on paper: the ordinary patient's delivery goes to the registered address, as the
    service computed it; number, articles, quantity and rent or buy are on the document."""
    rollator = article(name="Rollator Gloss", article_number="40101")
    prescription = approved(named_rx, ordinary, rollator, quantity=2)
    assert prescription.delivery_kind == DeliveryKind.PATIENT_ADDRESS
    job = order_confirmation_request(
        ctx=ctx_for(named_rx, stepped_up=True), reference=prescription.reference
    )
    assert job.params == {"prescription_id": prescription.pk}  # internal ids only (LEAK-1)
    text = rendered_text(job)
    assert "Orderbekräftelse" in text  # the product's language
    assert prescription.reference in text
    assert "40101 Rollator Gloss" in text
    assert "Hyra" in text or "Köp" in text
    assert " 2 " in text.replace("\n", " ")
    assert "Provgatan 1" in text
    assert "211 00 MALMÖ" in text
    assert "Testa Testsson" in text
    assert AccessEntry.objects.filter(
        patient=ordinary, action=AccessAction.PRINT, outcome=AccessOutcome.ALLOWED
    ).exists()


def test_print_1_order_confirmation_to_the_unit_names_the_unit_and_the_prescriber(
    named_rx, ordinary
):
    prescription = approved(named_rx, ordinary, delivery=DeliveryKind.UNIT)
    job = order_confirmation_request(ctx=ctx_for(named_rx), reference=prescription.reference)
    text = rendered_text(job)
    assert "Vårdvägen 1" in text
    assert "211 00 Malmö" in text
    assert "Petra Förskrivare" in text
    assert "Provgatan 1" not in text


def test_print_1_protected_patient_order_confirmation_is_refused_and_audited(rx, hidden_address):
    prescription = approved(rx, hidden_address)
    with pytest.raises(DocumentRefused) as refused:
        order_confirmation_request(
            ctx=ctx_for(rx, stepped_up=True), reference=prescription.reference
        )
    assert "never printed or made into PDFs" in str(refused.value)
    assert "forwarded to another principal" in str(refused.value)  # PRINT-2 is the way out
    assert not DocumentJob.objects.exists()
    entry = AccessEntry.objects.get(
        patient=hidden_address, action=AccessAction.PRINT, outcome=AccessOutcome.DENIED
    )
    assert entry.object_id == ORDER_CONFIRMATION_KIND[:40]


def test_print_1_a_patient_protected_after_the_request_is_refused_by_the_worker(rx, ordinary):
    prescription = approved(rx, ordinary)
    job = order_confirmation_request(ctx=ctx_for(rx), reference=prescription.reference)
    ordinary.protected_registration = True
    ordinary.save()
    assert document_job_render(job_id=job.pk) == "refused"
    assert not Document.objects.filter(pk=job.pk).exists()


# --- PRINT-2 and LETTER-4 ------------------------------------------------------------------------


def test_print_2_forwarded_copy_for_a_protected_patient_has_no_address_of_theirs(
    named_rx, hidden_address
):
    """PRINT-2 with the reason; PRESC-2 on paper: the unit's address and the prescriber as
    contact, nothing that locates the patient. LETTER-4: the parcel check is printed."""
    prescription = approved(named_rx, hidden_address, article(name="Rollator Gloss"))
    assert prescription.delivery_kind == DeliveryKind.UNIT
    job = order_confirmation_request(
        ctx=ctx_for(named_rx, stepped_up=True),
        reference=prescription.reference,
        forward_to="Region Halland",
        forward_reason="Överköp vid 20 års ålder",
    )
    assert job.subjects.get().route == DocumentRoute.FORWARDED
    text = rendered_text(job)
    assert "Region Halland" in text
    assert "Överköp vid 20 års ålder" in text
    assert "Vårdvägen 1" in text
    assert "211 00 Malmö" in text
    assert "Petra Förskrivare" in text
    assert "Gömdavägen" not in text
    assert "211 20" not in text
    assert "LETTER-4" in text
    entry = AccessEntry.objects.get(patient=hidden_address, action=AccessAction.PRINT)
    assert entry.outcome == AccessOutcome.ALLOWED


def test_print_2_forwarding_needs_a_reason(rx, hidden_address):
    prescription = approved(rx, hidden_address)
    with pytest.raises(Exception, match="reason"):
        order_confirmation_request(
            ctx=ctx_for(rx, stepped_up=True),
            reference=prescription.reference,
            forward_to="Region Halland",
        )
    assert not DocumentJob.objects.exists()


def _criterion(prescription: Prescription, name: str) -> dict[str, Any]:
    record = prescription.eligibility_records.latest("pk")
    return next(c for c in record.criteria if c["criterion"] == name)


def test_letter_4_a_parcel_within_the_limits_may_go_through_the_forwarding_service(
    rx, protected_patient
):
    """7.5 kg, 70 cm long, 180 cm girth: 2.5 m length plus girth, the limit itself."""
    prescription = approved(rx, protected_patient)
    criterion = _criterion(prescription, "parcel_through_forwarding")
    assert (criterion["value"], criterion["rule"]) == (True, "LETTER-4")
    assert prescription.delivery_kind == DeliveryKind.UNIT  # PRESC-2 is unchanged


def test_letter_4_too_heavy_or_too_long_goes_to_the_prescribers_unit(rx, protected_patient):
    heavy = article(weight_kg=Decimal("12.5"), length_cm=60, girth_cm=120)
    prescription = approved(rx, protected_patient, heavy, quantity=2)  # 25 kg in all
    criterion = _criterion(prescription, "parcel_through_forwarding")
    assert criterion["value"] is False
    assert "prescriber's unit" in criterion["message"]
    long = article(weight_kg=Decimal("3"), length_cm=110, girth_cm=40)
    assert (
        _criterion(approved(rx, protected_patient, long), "parcel_through_forwarding")["value"]
        is False
    )


def test_letter_4_not_evaluated_for_an_ordinary_patient(rx, ordinary):
    record = approved(rx, ordinary).eligibility_records.latest("pk")
    assert "parcel_through_forwarding" not in {c["criterion"] for c in record.criteria}


# --- PRINT-3 --------------------------------------------------------------------------------------


def test_print_3_order_confirmations_are_cancelled_and_withdrawn_when_the_patient_is_protected(
    rx, ordinary, django_capture_on_commit_callbacks
):
    stored = order_confirmation_request(ctx=ctx_for(rx), reference=approved(rx, ordinary).reference)
    assert document_job_render(job_id=stored.pk) == "ready"
    queued = order_confirmation_request(ctx=ctx_for(rx), reference=approved(rx, ordinary).reference)
    manager = UserFactory(username="maja", role="unit_manager", unit=rx.staff_profile.unit)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        local_protection_decide(
            ctx=ctx_for(manager),
            patient=ordinary,
            unit_id=manager.staff_profile.unit_id,
            reason="Hot mot patienten, utreds",
            ends_on=timezone.localdate() + timedelta(days=30),
        )
    # The PRINT-3 task and the higher floors' protection_added handlers: the prescriptions and
    # logistics floors' re-routing (PRESC-2), the billing floor's move to a secret customer
    # number (BILL-2).
    assert len(callbacks) == 4
    assert documents_withdraw_for_patient(patient_id=ordinary.pk) == 2
    stored.refresh_from_db()
    queued.refresh_from_db()
    assert (stored.state, queued.state) == (DocumentState.WITHDRAWN, DocumentState.CANCELLED)
    assert Document.objects.get(pk=stored.pk).content is None


# --- batches -------------------------------------------------------------------------------------


def test_print_1_batch_with_a_protected_patient_refuses_that_one_and_makes_the_rest(
    rx, ordinary, protected_patient
):
    first, second = approved(rx, ordinary), approved(rx, ordinary)
    hidden = approved(rx, protected_patient)
    outcome = order_confirmations_batch_request(
        ctx=ctx_for(rx, stepped_up=True),
        references=[first.reference, hidden.reference, second.reference],
    )
    assert outcome.queued == [first.reference, second.reference]
    assert [number for number, _why in outcome.refused] == [hidden.reference]
    jobs = {job.params["prescription_id"]: job for job in outcome.batch.jobs.all()}
    assert jobs[hidden.pk].state == DocumentState.REFUSED
    assert jobs[hidden.pk].state_reason == REFUSED_PROTECTED
    assert not jobs[hidden.pk].subjects.exists()  # the refused job names no patient
    assert [t.to_state for t in jobs[hidden.pk].transitions.all()] == ["refused"]
    assert AccessEntry.objects.filter(
        patient=protected_patient, action=AccessAction.PRINT, outcome=AccessOutcome.DENIED
    ).exists()
    for prescription in (first, second):
        assert document_job_render(job_id=jobs[prescription.pk].pk) == "ready"


def test_denied_batch_with_another_units_prescription_makes_nothing(rx, ordinary):
    other = elsewhere()
    theirs = approved(other, ordinary)
    with pytest.raises(PatientNotFound):
        order_confirmations_batch_request(
            ctx=ctx_for(rx), references=[approved(rx, ordinary).reference, theirs.reference]
        )
    assert not DocumentJob.objects.exists()


def test_a_draft_has_no_order_confirmation(rx, ordinary):
    draft = prescription_draft_start(ctx=ctx_for(rx), patient_reference=ordinary.reference)
    with pytest.raises(StateNotAllowed):
        order_confirmation_request(ctx=ctx_for(rx), reference=draft.reference)


def test_leak_1_the_snapshot_builder_refuses_a_prescription_of_another_patient(rx, ordinary):
    """The ban was checked for the job's patient: a request naming someone else's prescription
    takes no snapshot and records nothing (its transaction rolls back)."""
    someone = PatientIdentityFactory(personal_identity_number="198912242388").patient
    other = approved(rx, someone)
    with pytest.raises(ValueError, match="not the prescription's"):
        document_request(
            ctx=ctx_for(rx),
            kind=ORDER_CONFIRMATION_KIND,
            patients=[ordinary],
            params={"prescription_id": other.pk},
        )
    assert not DocumentJob.objects.exists()
    assert not Document.objects.exists()


# --- the pages --------------------------------------------------------------------------------


@pytest.fixture
def rx_client(client: Client, rx: Any) -> Client:
    logged_in(client, rx, stepped_up=True)
    return client


def test_print_1_the_button_on_the_prescription_page_queues_the_document(rx_client, rx, ordinary):
    prescription = approved(rx, ordinary)
    content = rx_client.get(f"/prescriptions/{prescription.reference}/").content.decode()
    assert "Print the order confirmation (PDF)" in content
    assert 'name="forward_to"' not in content  # PRINT-2 fields only for a protected patient
    response = rx_client.post(f"/prescriptions/{prescription.reference}/order-confirmation/")
    assert response.status_code == 302
    assert response["Location"] == "/protection/documents/"
    job = DocumentJob.objects.get()
    assert job.kind == ORDER_CONFIRMATION_KIND
    content = rx_client.get("/protection/documents/").content.decode()
    assert "Order confirmation" in content
    assert f"is being made (document {job.pk})" in content


def test_print_1_the_button_refuses_a_protected_patient_with_the_clear_message(
    rx_client, rx, protected_patient
):
    prescription = approved(rx, protected_patient)
    page = rx_client.get(f"/prescriptions/{prescription.reference}/").content.decode()
    assert 'name="forward_to"' in page
    assert "print-protected.css" in page
    response = rx_client.post(
        f"/prescriptions/{prescription.reference}/order-confirmation/", follow=True
    )
    content = response.content.decode()
    assert "never printed or made into PDFs" in content
    assert response.redirect_chain[-1][0].endswith("#documents")
    assert not DocumentJob.objects.exists()
    assert AccessEntry.objects.filter(
        patient=protected_patient, action=AccessAction.PRINT, outcome=AccessOutcome.DENIED
    ).exists()


def test_print_2_from_the_prescription_page(rx_client, rx, protected_patient):
    prescription = approved(rx, protected_patient)
    response = rx_client.post(
        f"/prescriptions/{prescription.reference}/order-confirmation/",
        {"forward_to": "Region Halland", "forward_reason": "Överköp vid 20 års ålder"},
    )
    assert response.status_code == 302
    job = DocumentJob.objects.get()
    assert (job.forward_to, job.subjects.get().route) == ("Region Halland", "forwarded")


def test_denied_order_confirmation_of_another_units_prescription_is_a_404(client, ordinary):
    theirs = approved(elsewhere(), ordinary)
    other = elsewhere()
    response = logged_in(client, other).post(
        f"/prescriptions/{theirs.reference}/order-confirmation/"
    )
    assert response.status_code == 404
    assert not DocumentJob.objects.exists()


def test_denied_order_confirmation_for_a_masked_patient_is_a_404(client, rx, protected_patient):
    """A prescriber of the same unit without a grant: the same 404 as a missing prescription."""
    prescription = approved(rx, protected_patient)
    colleague = PrescriberProfileFactory(
        user=UserFactory(role="prescriber", unit=rx.staff_profile.unit),
        units=list(rx.prescriber_profile.units.all()),
    ).user
    client = logged_in(client, colleague, stepped_up=True)
    response = client.post(f"/prescriptions/{prescription.reference}/order-confirmation/")
    assert response.status_code == 404
    assert client.post("/prescriptions/F-ZZZZZZZZ/order-confirmation/").status_code == 404
    assert not DocumentJob.objects.exists()


def test_denied_get_on_the_print_actions(rx_client, rx, ordinary):
    prescription = approved(rx, ordinary)
    assert (
        rx_client.get(f"/prescriptions/{prescription.reference}/order-confirmation/").status_code
        == 405
    )
    assert rx_client.get("/prescriptions/order-confirmations/").status_code == 405
    assert not DocumentJob.objects.exists()


def test_denied_anonymous_and_a_user_whose_prescription_it_is_not(client, rx, ordinary):
    number = approved(rx, ordinary).reference
    response = client.post("/prescriptions/order-confirmations/", {"prescription": number})
    assert response.status_code == 302
    assert "login" in response["Location"]
    logged_in(client, UserFactory(role="customer_service"))
    response = client.post("/prescriptions/order-confirmations/", {"prescription": number})
    assert response["Location"] == "/prescriptions/"
    assert not DocumentJob.objects.exists()


def test_batch_from_my_prescriptions_shows_progress_on_the_documents_page(
    rx_client, rx, ordinary, protected_patient
):
    first, hidden = approved(rx, ordinary), approved(rx, protected_patient)
    content = rx_client.get("/prescriptions/").content.decode()
    assert f'name="prescription" value="{first.reference}"' in content
    assert "print-protected.css" in content  # the list names a protected patient's order
    response = rx_client.post(
        "/prescriptions/order-confirmations/",
        {"prescription": [first.reference, hidden.reference]},
        follow=True,
    )
    content = response.content.decode()
    assert response.redirect_chain[-1][0] == "/protection/documents/"
    assert f"{hidden.reference}: The document concerns a patient with protected identity" in content
    assert "0 of 2 done" not in content  # the refused one is done at once
    assert "1 of 2 done (1 not made: see its line below)" in content
    job = DocumentJob.objects.get(state=DocumentState.QUEUED)
    assert document_job_render(job_id=job.pk) == "ready"
    # Done is not made: the full bar still says that the refused one gave no document.
    assert "2 of 2 done (1 not made: see its line below)" in (
        rx_client.get("/protection/documents/").content.decode()
    )


def test_denied_batch_with_a_malformed_or_foreign_number(rx_client, rx, ordinary):
    theirs = approved(elsewhere(), ordinary)
    for chosen in (["not-a-number"], [theirs.reference], []):
        response = rx_client.post("/prescriptions/order-confirmations/", {"prescription": chosen})
        assert response.status_code == 302
        assert response["Location"] == "/prescriptions/"
    assert not DocumentJob.objects.exists()


def test_print_1_patient_devices_page_of_a_protected_patient_prints_only_a_notice(
    rx_client, protected_patient, ordinary
):
    url = f"/prescriptions/patients/{protected_patient.reference}/"
    content = rx_client.get(url).content.decode()
    assert "print-protected.css" in content
    assert 'class="print-notice"' in content
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert "print-protected.css" not in content


# --- the demo ------------------------------------------------------------------------------------


def test_print_1_demo_eva_holms_order_confirmation_is_refused_karl_lindqvists_is_made(shared_dir):
    """The README walkthrough: the demo prescriber, with the demo grant for Eva Holm, prints the
    order confirmation of a rollator for Karl Lindqvist (a PDF) and for Eva Holm (refused)."""
    call_command("seed_demo", "--shared", str(shared_dir), stdout=StringIO())
    prescriber = get_user_model().objects.get(username="prescriber")
    karl = Patient.objects.get(pk=PatientIdForNumber("194201077098"))
    eva = Patient.objects.get(pk=PatientIdForNumber("194202269207"))
    give_grant(prescriber, eva.identity)  # the protection administrator's decision of ÄR-2026-1
    rollator = Article.objects.get(article_number="44001")
    text = rendered_text(
        order_confirmation_request(
            ctx=ctx_for(prescriber, stepped_up=True),
            reference=approved(prescriber, karl, rollator).reference,
        )
    )
    assert "44001 Rollator Gloss" in text
    assert "Lindqvist" in text
    with pytest.raises(DocumentRefused):
        order_confirmation_request(
            ctx=ctx_for(prescriber, stepped_up=True),
            reference=approved(prescriber, eva, rollator).reference,
        )
    assert AccessEntry.objects.filter(
        patient=eva, action=AccessAction.PRINT, outcome=AccessOutcome.DENIED
    ).exists()

"""The document pages: who may use them, what they show, their queries (LEAK-1, PRINT-1/2), and
how they refuse: 404 or the step-up page, on the one refusal path (house rule 5, ACCESS-4)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from patients.models import AccessAction, AccessEntry, AccessOutcome
from protection.documents import kinds, services
from protection.documents.summary import SUMMARY_KIND
from protection.models import DocumentJob, DocumentRoute, Letter
from tests.factories import PatientIdentityFactory, UserFactory
from tests.personas import ctx_for, give_grant, logged_in
from tests.protection.documents.conftest import pdf_text, render
from tests.protection.documents.test_kinds import identity_free_note

pytestmark = pytest.mark.django_db


def summary_job(user, identity, **kwargs) -> DocumentJob:
    job = services.document_request(
        ctx=ctx_for(user, stepped_up=True), kind=SUMMARY_KIND, patients=[identity.patient], **kwargs
    )
    render(job)
    return job


def test_the_owner_downloads_a_ready_document_and_it_is_audited(client, prescriber, ordinary):
    job = summary_job(prescriber, ordinary)
    response = logged_in(client, prescriber).get(f"/protection/documents/{job.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="document-{job.pk}.pdf"'
    assert "Karin Nilsson" in pdf_text(response.content)
    entry = AccessEntry.objects.get(action=AccessAction.EXPORT)
    assert (entry.outcome, entry.patient_id, entry.object_id) == (
        AccessOutcome.ALLOWED,
        ordinary.patient_id,
        str(job.pk),
    )


def test_denied_another_users_document_is_a_404_like_a_missing_one(client, prescriber, ordinary):
    job = summary_job(prescriber, ordinary)
    other = UserFactory(username="otto", role="prescriber")
    client = logged_in(client, other)
    assert client.get(f"/protection/documents/{job.pk}/pdf/").status_code == 404
    assert client.get(f"/protection/documents/{job.pk + 999}/pdf/").status_code == 404


def test_denied_anonymous_users_are_sent_to_log_in(client, prescriber, ordinary):
    job = summary_job(prescriber, ordinary)
    for url in (
        "/protection/documents/",
        f"/protection/documents/{job.pk}/pdf/",
        f"/protection/patients/{ordinary.patient.reference}/letter/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    response = client.post(f"/protection/patients/{ordinary.patient.reference}/summary/")
    assert response.status_code == 302


def test_print_1_download_refused_once_the_patient_is_protected(client, prescriber, ordinary):
    """Before the PRINT-3 task has run, the download itself checks the ban again."""
    job = summary_job(prescriber, ordinary)
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    response = logged_in(client, prescriber).get(f"/protection/documents/{job.pk}/pdf/")
    assert response.status_code == 404
    entry = AccessEntry.objects.get(action=AccessAction.EXPORT)
    assert entry.outcome == AccessOutcome.DENIED


def test_print_1_the_summary_button_refuses_with_a_clear_message(client, prescriber, granted):
    client = logged_in(client, prescriber, stepped_up=True)
    reference = granted.patient.reference
    response = client.post(f"/protection/patients/{reference}/summary/", follow=True)
    content = response.content.decode()
    assert "never printed or made into PDFs" in content
    assert not DocumentJob.objects.exists()
    assert AccessEntry.objects.filter(
        action=AccessAction.PRINT, outcome=AccessOutcome.DENIED, patient=granted.patient
    ).exists()


def test_access_1_denied_summary_request_answers_hidden_and_missing_patients_alike(
    client, prescriber, protected
):
    """ACCESS-1, house rule 5: without a grant the protected patient's summary button
    answers exactly as for a reference that does not exist: 404, no message, nothing made."""
    client = logged_in(client, prescriber, stepped_up=True)
    hidden = client.post(f"/protection/patients/{protected.patient.reference}/summary/")
    missing = client.post("/protection/patients/P-ZZZZZZZZZZ/summary/")
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.templates[0].name == missing.templates[0].name == "404.html"
    assert not DocumentJob.objects.exists()
    assert "never printed" not in client.get("/protection/documents/").content.decode()
    # The refused read is audited, by the gate.
    assert AccessEntry.objects.filter(
        patient=protected.patient, outcome=AccessOutcome.DENIED
    ).exists()


def test_print_2_forwarding_from_the_page_and_on_the_log_review(client, prescriber, granted):
    client = logged_in(client, prescriber, stepped_up=True)
    reference = granted.patient.reference
    response = client.post(
        f"/protection/patients/{reference}/summary/",
        {"forward_to": "Region Halland", "forward_reason": "Överköp vid 20 års ålder"},
    )
    assert response.status_code == 302
    job = DocumentJob.objects.get()
    assert job.forward_to == "Region Halland"
    admin = UserFactory(username="ada", role="protection_admin")
    content = logged_in(client, admin).get("/protection/review/").content.decode()
    assert "Documents printed for another principal" in content
    assert "Överköp vid 20 års ålder" in content
    assert reference in content
    assert "Hemlig" not in content


def test_the_documents_page_lists_states_and_reasons_with_fixed_queries(
    client, prescriber, ordinary, django_assert_num_queries
):
    summary_job(prescriber, ordinary)
    refused = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
    )
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    render(refused)
    for number in ("198912242388", "200307052381", "200307052399"):
        other = PatientIdentityFactory(personal_identity_number=number)
        services.document_request(
            ctx=ctx_for(prescriber, stepped_up=True),
            kind=SUMMARY_KIND,
            patients=[other.patient],  # type: ignore[list-item]
        )
    client = logged_in(client, prescriber)
    client.get("/protection/documents/")  # warm the session and permission caches
    # session, user with unit, permissions for the menu (1), jobs, their patients; as
    # labels: the guards, the grants, the patients, the access log (AUDIT-1)
    with django_assert_num_queries(9):  # was 11 (issue 16)
        response = client.get("/protection/documents/")
    content = response.content.decode()
    assert "Queued" in content
    assert "protected identity" in content  # the refusal's reason
    assert "Karin" not in content
    assert "print-protected.css" in content


def test_access_1_denied_the_documents_page_hides_patients_protected_since_the_request(
    client, prescriber, ordinary, django_assert_num_queries
):
    """ACCESS-1: a patient who became protected after the document was asked for is not
    shown to the requester without a grant: neither the reference nor the download."""
    hidden_job = summary_job(prescriber, ordinary)
    other = PatientIdentityFactory(personal_identity_number="198912242388")
    shown_job = summary_job(prescriber, other)
    ordinary.patient.protected_registration = True
    ordinary.patient.save()  # before PRINT-3 has run: the document is still stored
    client = logged_in(client, prescriber)
    client.get("/protection/documents/")  # warm the session and permission caches
    # session, user with unit, permissions for the menu (1), jobs, their patients; as
    # labels: the guards, the grants, the patients, the access log (AUDIT-1)
    with django_assert_num_queries(9):  # was 11 (issue 16)
        content = client.get("/protection/documents/").content.decode()
    assert ordinary.patient.reference not in content
    assert f"/protection/documents/{hidden_job.pk}/pdf/" not in content
    assert "Protected identity" in content
    assert other.patient.reference in content
    assert f"/protection/documents/{shown_job.pk}/pdf/" in content


def test_a_batch_shows_its_progress(client, prescriber, ordinary):
    other = PatientIdentityFactory(personal_identity_number="198912242388")
    _batch, jobs, refused = services.document_batch_request(
        ctx=ctx_for(prescriber, stepped_up=True),
        kind=SUMMARY_KIND,
        patients=[identity.patient for identity in (ordinary, other)],
    )
    assert refused == []
    render(jobs[0])
    content = logged_in(client, prescriber).get("/protection/documents/").content.decode()
    assert "1 of 2 done" in content
    assert '<progress id="batch-' in content


def test_letter_compose_issues_a_letter(client, prescriber, granted):
    client = logged_in(client, prescriber, stepped_up=True)
    url = f"/protection/patients/{granted.patient.reference}/letter/"
    page = client.get(url).content.decode()
    assert "Skatteverkets förmedlingsuppdrag" in page
    assert "print-protected.css" in page  # PRINT-1: the page prints only a notice
    response = client.post(
        url,
        {"template": "general", "subject": "Om ditt hjälpmedel", "body": "Hej! Ring oss."},
    )
    assert response.status_code == 302
    assert Letter.objects.get().channel == "forwarding"


def test_denied_letter_compose_without_a_grant_or_role(client, prescriber, protected, ordinary):
    url = f"/protection/patients/{protected.patient.reference}/letter/"
    assert logged_in(client, prescriber, stepped_up=True).get(url).status_code == 404
    technician = UserFactory(username="tore", role="technician")
    url = f"/protection/patients/{ordinary.patient.reference}/letter/"
    assert logged_in(client, technician).get(url).status_code == 403
    assert not Letter.objects.exists()


def test_the_patient_page_offers_documents_and_prints_only_a_notice_when_protected(
    client, prescriber, granted
):
    client = logged_in(client, prescriber, stepped_up=True)
    content = client.get(f"/patients/{granted.patient.reference}/").content.decode()
    assert "Make a patient summary (PDF)" in content
    assert "Forward to (another principal)" in content
    assert "print-protected.css" in content
    assert 'class="print-notice"' in content


# --- the documents page and a paper that moves goods (PRINT-1) ---------------------------------


@pytest.fixture
def logistics(unit):
    return UserFactory(username="lars", role="logistics", unit=unit)


@pytest.fixture
def delivery_note() -> Iterator[str]:
    """The identity-free delivery note of test_kinds.py, registered for the test only."""
    codes: list[str] = []
    identity_free_note(codes)
    yield codes[0]
    for code in codes:
        kinds.unregister(code)


NAMES_PROTECTION = (
    "Skyddade personuppgifter",
    "Protected identity",
    "protected identity",
    "must not be printed",
    "print-protected.css",
    'class="print-notice"',
)


def test_print_1_the_documents_page_names_no_protection_on_an_identity_free_paper(
    client, logistics, protected, ordinary, delivery_note, django_assert_num_queries
):
    """PRINT-1, ACCESS-1: logistics has no grant and asked for the delivery note of a protected
    patient's order. Its line shows no patient and no protection label, the page is not one
    about a protected patient, and the download is offered. The note about an ordinary patient
    names nobody either, so the two lines cannot be told apart."""
    hidden = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True), kind=delivery_note, patients=[protected.patient]
    )
    assert hidden.subjects.get().route == DocumentRoute.IDENTITY_FREE
    assert render(hidden) == "ready"
    plain = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True), kind=delivery_note, patients=[ordinary.patient]
    )
    assert plain.subjects.get().route == DocumentRoute.ORDINARY
    assert render(plain) == "ready"
    client = logged_in(client, logistics)
    client.get("/protection/documents/")  # warm the session and permission caches
    logged = AccessEntry.objects.count()
    # session, user with unit, permissions for the menu (1), jobs, their patients (no
    # patient is labelled: nothing is read of them)
    with django_assert_num_queries(5):  # was 7 (issue 16)
        content = client.get("/protection/documents/").content.decode()
    assert AccessEntry.objects.count() == logged
    for shown_nowhere in (
        *NAMES_PROTECTION,
        protected.patient.reference,
        ordinary.patient.reference,
    ):
        assert shown_nowhere not in content
    assert not re.search(rf"\b{protected.patient.birth_year}\b", content)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", content, flags=re.DOTALL)
    assert cells.count("") == 2  # the two lines' Patients cells, alike
    assert f"/protection/documents/{hidden.pk}/pdf/" in content
    response = client.get(f"/protection/documents/{hidden.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_print_1_an_identity_free_paper_names_nobody_even_to_a_grant_holder(
    client, logistics, protected, delivery_note
):
    """PRINT-1: whether a goods paper's line names a patient does not hang on who looks, so a
    blank line never tells a user without a grant that its order concerns protected identity."""
    give_grant(logistics, protected)
    job = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True), kind=delivery_note, patients=[protected.patient]
    )
    assert render(job) == "ready"
    client = logged_in(client, logistics, stepped_up=True)
    content = client.get("/protection/documents/").content.decode()
    assert protected.patient.reference not in content
    for label in NAMES_PROTECTION:
        assert label not in content
    assert f"/protection/documents/{job.pk}/pdf/" in content


def test_print_1_a_grant_holders_document_keeps_the_page_protected(client, prescriber, granted):
    """The grant holder's forwarded summary (PRINT-2) names the patient, name first, once the
    password is confirmed (ACCESS-4), masked before; the page prints only its notice (PRINT-1)."""
    summary_job(
        prescriber, granted, forward_to="Region Halland", forward_reason="Överköp vid 20 års ålder"
    )
    masked = logged_in(client, prescriber).get("/protection/documents/").content.decode()
    assert granted.patient.reference not in masked
    assert granted.surname not in masked
    assert f"Protected identity</strong>, born {granted.patient.birth_year}" in masked
    content = (
        logged_in(client, prescriber, stepped_up=True)
        .get("/protection/documents/")
        .content.decode()
    )
    shown = re.search(r'<span class="patient-label__name">([^<]*)</span>', content)
    assert shown is not None
    assert granted.surname in shown.group(1)
    assert content.index(granted.surname) < content.index(granted.patient.reference)
    assert "print-protected.css" in content
    assert 'class="print-notice"' in content
    assert "must not be printed" in content


def test_access_1_denied_a_document_not_moving_goods_keeps_the_protection_label(
    client, prescriber, ordinary
):
    """Only papers that move goods go neutral: the summary of a patient protected since it was
    asked for is still shown by the protection label, and the page by its notice (ACCESS-1)."""
    summary = summary_job(prescriber, ordinary)
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    content = logged_in(client, prescriber).get("/protection/documents/").content.decode()
    assert "Protected identity" in content
    assert 'class="print-notice"' in content
    assert ordinary.patient.reference not in content
    assert f"/protection/documents/{summary.pk}/pdf/" not in content


# --- the one refusal path (house rule 5, ACCESS-4) ---------------------------------------------


@pytest.fixture
def forwarded(prescriber, granted) -> DocumentJob:
    """A ready summary of the protected patient, forwarded (PRINT-2) by the grant holder."""
    return summary_job(
        prescriber, granted, forward_to="Region Halland", forward_reason="Överköp vid 20 års ålder"
    )


def test_access_4_the_download_sends_to_step_up_and_back_url_encoded(client, prescriber, forwarded):
    client = logged_in(client, prescriber)  # a grant, but no password confirmed
    url = f"/protection/documents/{forwarded.pk}/pdf/"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == (
        f"/protection/step-up/?next=%2Fprotection%2Fdocuments%2F{forwarded.pk}%2Fpdf%2F"
    )
    confirmed = client.post(response["Location"], {"password": "pw-for-tests-only"})
    assert confirmed["Location"] == url
    assert client.get(url).status_code == 200


def test_access_4_the_summary_button_sends_to_step_up_and_back_to_the_patient(
    client, prescriber, granted
):
    reference = granted.patient.reference
    response = logged_in(client, prescriber).post(f"/protection/patients/{reference}/summary/")
    assert response.status_code == 302
    assert response["Location"] == f"/protection/step-up/?next=%2Fpatients%2F{reference}%2F"
    assert not DocumentJob.objects.exists()


def test_access_4_the_letter_form_sends_to_step_up_and_back_to_itself(client, prescriber, granted):
    reference = granted.patient.reference
    url = f"/protection/patients/{reference}/letter/"
    client = logged_in(client, prescriber)
    expected = f"/protection/step-up/?next=%2Fprotection%2Fpatients%2F{reference}%2Fletter%2F"
    for response in (
        client.get(url),
        client.post(url, {"template": "general", "subject": "Om hjälpmedlet", "body": "Hej!"}),
    ):
        assert response.status_code == 302
        assert response["Location"] == expected
    assert not Letter.objects.exists()
    confirmed = client.post(expected, {"password": "pw-for-tests-only"})
    assert confirmed["Location"] == url


def test_denied_the_document_pages_answer_404_alike_for_hidden_and_missing(
    client, prescriber, protected, ordinary
):
    """House rule 5: a patient without a grant, one that does not exist and a document not the
    user's own all get the same 404 page, and the refused reads are audited (AUDIT-1)."""
    job = summary_job(prescriber, ordinary)
    other = UserFactory(username="otto", role="prescriber")
    client = logged_in(client, other, stepped_up=True)
    responses = [
        client.get(f"/protection/documents/{job.pk}/pdf/"),
        client.get(f"/protection/documents/{job.pk + 999}/pdf/"),
        client.post(f"/protection/patients/{protected.patient.reference}/summary/"),
        client.post("/protection/patients/P-ZZZZZZZZZZ/summary/"),
    ]
    assert [r.status_code for r in responses] == [404] * 4
    assert {r.templates[0].name for r in responses} == {"404.html"}
    assert (
        AccessEntry.objects.filter(patient=protected.patient, outcome=AccessOutcome.DENIED).count()
        == 1
    )

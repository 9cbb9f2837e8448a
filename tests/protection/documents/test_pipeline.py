"""The document pipeline and the printing ban (PRINT-1..3), rendered with real WeasyPrint and
read back with pypdf. Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

import io

import pytest
from django.db import IntegrityError, connection, transaction
from pypdf import PdfReader

from patients.models import AccessAction, AccessEntry, AccessOutcome, Notification
from patients.transitions import TransitionNotAllowed, transition_apply
from protection.documents import kinds, rendering, services
from protection.documents.services import worker
from protection.documents.services.jobs import DOCUMENT_JOB
from protection.documents.summary import SUMMARY_KIND
from protection.models import (
    Document,
    DocumentJob,
    DocumentJobTransition,
    DocumentRoute,
    DocumentState,
)
from protection.services.local import local_protection_decide
from protection.services.register_events import register_events_handle
from protection.services.reserve_number import reserve_number_protection_decide
from tests.factories import PatientIdentityFactory, PatientRelationFactory, UserFactory
from tests.personas import PROTECTED_NUMBER, ctx_for, give_grant
from tests.protection.documents.conftest import pdf_pages, pdf_text, render, stored_pdf

pytestmark = pytest.mark.django_db


def request_summary(user, *identities, **kwargs) -> DocumentJob:
    return services.document_request(
        ctx=ctx_for(user, stepped_up=True),
        kind=SUMMARY_KIND,
        patients=[identity.patient for identity in identities],
        **kwargs,
    )


def history(job: DocumentJob) -> list[tuple[str, str]]:
    return list(
        DocumentJobTransition.objects.filter(job=job)
        .order_by("at", "pk")
        .values_list("from_state", "to_state")
    )


def print_entries(outcome: str) -> list[AccessEntry]:
    return list(AccessEntry.objects.filter(action=AccessAction.PRINT, outcome=outcome))


# --- the ordinary path ---------------------------------------------------------------------


def test_a_summary_is_queued_rendered_once_and_holds_what_it_should(
    prescriber, ordinary, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = request_summary(prescriber, ordinary)
    assert len(callbacks) == 1  # the render task is sent when the request commits
    assert job.state == DocumentState.QUEUED
    assert [e.patient_id for e in print_entries(AccessOutcome.ALLOWED)] == [ordinary.patient_id]
    assert render(job) == "ready"
    job.refresh_from_db()
    assert job.state == DocumentState.READY
    text = pdf_text(stored_pdf(job))
    for expected in ("Karin Nilsson", "19891222-2398", "Provgatan 1", "211 00 MALMÖ"):
        assert expected in text
    assert "forwarded" not in text
    # A message delivered again finds the job done: nothing is rendered twice.
    assert render(job) == "not claimed"
    assert Document.objects.filter(pk=job.pk).count() == 1
    assert history(job) == [("", "queued"), ("queued", "rendering"), ("rendering", "ready")]


def test_a_job_is_rendered_in_two_transactions_and_few_statements(
    prescriber, ordinary, django_assert_num_queries
):
    job = request_summary(prescriber, ordinary)
    # The claim reads the job in its UPDATE; the subjects come with their guards; the HTML
    # takes the route from the subjects read (issue 16). Savepoints and the system context's
    # setting kept and put back are counted here, inside the test's transaction.
    with django_assert_num_queries(20):  # was 23 (issue 16)
        assert render(job) == "ready"
    assert history(job) == [("", "queued"), ("queued", "rendering"), ("rendering", "ready")]


def test_one_document_per_job_is_a_database_rule(prescriber, ordinary):
    job = request_summary(prescriber, ordinary)
    render(job)
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.create(job=job, content=b"x", content_sha256="0" * 64, size=1, pages=1)


def test_a_stored_document_never_changes_except_by_withdrawal(prescriber, ordinary):
    """House rule 7: the content is a snapshot; a trigger refuses any other change, and the
    application role may not delete it at all (LEAK-6)."""
    job = request_summary(prescriber, ordinary)
    render(job)
    with pytest.raises(Exception, match="document_immutable"), transaction.atomic():
        Document.objects.filter(pk=job.pk).update(content=b"changed")
    with pytest.raises(Exception, match="permission denied"), transaction.atomic():
        Document.objects.filter(pk=job.pk).delete()
    Document.objects.filter(pk=job.pk).update(content=None)  # withdrawal is allowed


def test_a_batch_of_summaries_has_a_page_per_patient(prescriber, ordinary):
    other = PatientIdentityFactory(personal_identity_number="198912242388", given_names="Olle")
    job = request_summary(prescriber, ordinary, other)
    render(job)
    document = Document.objects.get(pk=job.pk)
    assert document.pages == 2
    text = pdf_text(stored_pdf(job))
    assert "Karin Nilsson" in text
    assert "Olle Testsson" in text


def test_the_transition_table_refuses_other_moves(prescriber, ordinary):
    job = request_summary(prescriber, ordinary)
    with transaction.atomic(), pytest.raises(TransitionNotAllowed):
        transition_apply(machine=DOCUMENT_JOB, obj=job, to_state=DocumentState.READY)


def test_resources_outside_the_static_files_are_refused():
    fetcher = rendering.StaticFilesOnly()
    for url in (
        "https://example.com/logo.png",
        "file:///etc/passwd",
        rendering.DOCUMENT_ORIGIN + "/static/../../etc/passwd",
        "data:text/plain,hello",
    ):
        with pytest.raises(rendering.ResourceRefused):
            fetcher.fetch(url)
    font = fetcher.fetch(rendering.DOCUMENT_ORIGIN + "/static/fonts/DejaVuSans.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"  # a TrueType font
    html = '<p>x</p><img src="https://example.com/track.png">'
    with pytest.raises(rendering.ResourceRefused):
        rendering.html_to_pdf(html)


def test_the_bundled_font_is_embedded(prescriber, ordinary):
    job = request_summary(prescriber, ordinary)
    render(job)
    reader = PdfReader(io.BytesIO(stored_pdf(job)))
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()  # type: ignore[index]
    }
    # Subset (HarfBuzz: the "ABCDEF+" prefix) and only the bundled family.
    assert fonts
    assert all("+DejaVu-Sans" in name for name in fonts), fonts


# --- PRINT-1 -------------------------------------------------------------------------------


def test_print_1_summary_of_a_protected_patient_is_refused_and_audited(prescriber, granted):
    """Even with a grant in force and the password confirmed: no document about them."""
    with pytest.raises(services.DocumentRefused) as refused:
        request_summary(prescriber, granted)
    assert "protected identity" in str(refused.value)
    assert "forwarded to another principal" in str(refused.value)  # PRINT-2 is offered
    assert not DocumentJob.objects.exists()
    denied = print_entries(AccessOutcome.DENIED)
    assert [(e.patient_id, e.patient_protected) for e in denied] == [(granted.patient_id, True)]


def test_print_1_without_a_grant_is_refused_too(prescriber, protected):
    with pytest.raises(services.DocumentRefused):
        request_summary(prescriber, protected)
    assert len(print_entries(AccessOutcome.DENIED)) == 1


def test_print_1_a_document_about_several_patients_is_refused_if_one_is_protected(
    prescriber, ordinary, granted
):
    with pytest.raises(services.DocumentRefused):
        request_summary(prescriber, ordinary, granted)
    assert not DocumentJob.objects.exists()


def test_print_1_a_relative_of_a_protected_patient_is_covered(prescriber, protected):
    """PROT-5: the register links the relative to the protected person; their papers could
    show the shared address."""
    relative = PatientIdentityFactory(personal_identity_number="198912232397")
    PatientRelationFactory(patient=relative.patient, related_identity_number=PROTECTED_NUMBER)
    give_grant(prescriber, protected)
    with pytest.raises(services.DocumentRefused):
        request_summary(prescriber, relative)


def test_print_1_the_worker_refuses_a_patient_protected_since_the_request(prescriber, ordinary):
    job = request_summary(prescriber, ordinary)
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    assert render(job) == "refused"
    job.refresh_from_db()
    assert job.state == DocumentState.REFUSED
    assert "protected identity" in job.state_reason
    assert not Document.objects.filter(pk=job.pk).exists()
    denied = print_entries(AccessOutcome.DENIED)
    assert [(e.object_id, e.user_id) for e in denied] == [(str(job.pk), None)]


def test_print_1_every_registered_kind_is_checked(prescriber, granted):
    """A kind a higher floor registers is under the ban without doing anything for it."""
    kinds.register(
        kinds.DocumentKind(
            code="tests.work_order",
            label="Work order",
            template="documents/patient_summary.html",
            build_snapshot=lambda request: {"pages": []},
        )
    )
    try:
        with pytest.raises(services.DocumentRefused) as refused:
            services.document_request(
                ctx=ctx_for(prescriber, stepped_up=True),
                kind="tests.work_order",
                patients=[granted.patient],
            )
        assert "forwarded" not in str(refused.value)  # this kind allows no exception
        with pytest.raises(services.DocumentError):
            services.document_request(
                ctx=ctx_for(prescriber, stepped_up=True),
                kind="tests.work_order",
                patients=[granted.patient],
                forward_to="Region Halland",
                forward_reason="Överköp vid 20 års ålder",
            )
    finally:
        kinds.unregister("tests.work_order")


def test_print_1_a_role_without_patient_access_makes_no_documents(ordinary):
    logistics = UserFactory(username="lars", role="logistics")
    with pytest.raises(services.DocumentError):
        request_summary(logistics, ordinary)


# --- PRINT-2 -------------------------------------------------------------------------------


def test_print_2_forwarding_to_another_principal_with_a_reason(prescriber, granted):
    job = request_summary(
        prescriber,
        granted,
        forward_to="Region Halland, hjälpmedelscentralen",
        forward_reason="Överköp vid 20 års ålder",
    )
    assert job.subjects.get().route == DocumentRoute.FORWARDED
    assert render(job) == "ready"
    text = pdf_text(stored_pdf(job))
    assert "Region Halland" in text
    assert "Överköp vid 20 års ålder" in text
    assert "Hemlig" in text  # the receiving principal needs to know who it is
    assert "Gömdavägen" not in text  # LEAK-3: never where the person lives
    assert "211 20" not in text
    allowed = print_entries(AccessOutcome.ALLOWED)
    assert [(e.patient_id, e.patient_protected) for e in allowed] == [(granted.patient_id, True)]


PRINT_4_NOTICE = "Dokumentet gäller en person med skyddade personuppgifter"


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_print_4_a_forwarded_copy_says_on_its_first_page_that_the_data_is_protected(
    prescriber, granted, ordinary
):
    job = request_summary(
        prescriber,
        granted,
        ordinary,
        forward_to="Region Halland, hjälpmedelscentralen",
        forward_reason="Överköp vid 20 års ålder",
    )
    assert render(job) == "ready"
    pages = [_flat(page) for page in pdf_pages(stored_pdf(job))]
    assert len(pages) == 2  # one page per patient: the notice is on the first, not repeated
    assert PRINT_4_NOTICE in pages[0]
    assert "Hantera det därefter" in pages[0]
    assert all(PRINT_4_NOTICE not in page for page in pages[1:])


def test_print_4_no_notice_on_an_ordinary_document_or_an_unprotected_forwarded_copy(
    prescriber, ordinary
):
    plain = request_summary(prescriber, ordinary)
    forwarded = request_summary(
        prescriber,
        ordinary,
        forward_to="Region Halland, hjälpmedelscentralen",
        forward_reason="Överköp vid 20 års ålder",
    )
    for job in (plain, forwarded):
        assert render(job) == "ready"
        assert "skyddade personuppgifter" not in _flat(pdf_text(stored_pdf(job)))


@pytest.mark.parametrize(
    ("forward_to", "reason"),
    [
        ("Region Halland", ""),
        ("", "Överköp vid 20 års ålder"),
        ("Region Halland", "Överköp för 198912232389"),
        ("Region Halland 19891223-2389", "Överköp vid 20 års ålder"),
    ],
)
def test_print_2_needs_a_receiver_and_a_reason_without_a_personnummer(
    prescriber, granted, forward_to, reason
):
    with pytest.raises(services.DocumentError):
        request_summary(prescriber, granted, forward_to=forward_to, forward_reason=reason)
    assert not DocumentJob.objects.exists()


def test_print_2_needs_the_patient_open_to_the_user(prescriber, protected):
    with pytest.raises(services.DocumentRefused):
        request_summary(
            prescriber, protected, forward_to="Region Halland", forward_reason="Överköp 20 år"
        )


# --- PRINT-3 -------------------------------------------------------------------------------


def _protect_locally(patient, unit):
    manager = UserFactory(username="maja", role="unit_manager", unit=unit)
    from datetime import timedelta

    from django.utils import timezone

    return local_protection_decide(
        ctx=ctx_for(manager, stepped_up=True),
        patient=patient,
        unit_id=unit.pk,
        reason="Hot mot patienten, utreds",
        ends_on=timezone.localdate() + timedelta(days=30),
    )


def test_print_3_local_protection_cancels_queued_and_withdraws_stored_documents(
    prescriber, ordinary, unit, django_capture_on_commit_callbacks
):
    stored = request_summary(prescriber, ordinary)
    render(stored)
    queued = request_summary(prescriber, ordinary)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _protect_locally(ordinary.patient, unit)
    # The PRINT-3 task, and the higher floors told (protection_added_handlers: PRESC-2).
    assert len(callbacks) == 4  # PRINT-3; prescriptions and logistics re-routing; billing (BILL-2)
    assert services.documents_withdraw_for_patient(patient_id=ordinary.patient_id) == 2
    stored.refresh_from_db()
    queued.refresh_from_db()
    assert (stored.state, queued.state) == (DocumentState.WITHDRAWN, DocumentState.CANCELLED)
    document = Document.objects.get(pk=stored.pk)
    assert document.content is None
    assert document.withdrawn_at is not None
    assert ("ready", "withdrawn") in history(stored)
    assert ("queued", "cancelled") in history(queued)
    subjects = set(Notification.objects.filter(user=prescriber).values_list("subject", flat=True))
    assert subjects == {f"Document {stored.pk} withdrawn", f"Document {queued.pk} withdrawn"}
    # Idempotent: a second message changes nothing.
    assert services.documents_withdraw_for_patient(patient_id=ordinary.patient_id) == 0


def test_print_3_reservnummer_protection_and_register_events_send_the_task(
    prescriber, unit, django_capture_on_commit_callbacks
):
    from patients.models import RegisterEvent, RegisterFile

    identity = PatientIdentityFactory(
        personal_identity_number="198912242388", reserve_number="22950606FH22"
    )
    manager = UserFactory(username="maja", role="unit_manager", unit=unit)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reserve_number_protection_decide(
            ctx=ctx_for(manager, stepped_up=True),
            patient=identity.patient,
            unit_id=unit.pk,
            reason="Hot inom vården, utreds",
        )
    assert len(callbacks) == 4  # PRINT-3 and the three protection_added_handlers
    other = PatientIdentityFactory(personal_identity_number="200307052381")
    register_file = RegisterFile.objects.create(
        identity_key="k", file_name="f.xml", content_sha256="0" * 64
    )
    RegisterEvent.objects.create(
        patient=other.patient, kind="protection_added", register_file=register_file
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        register_events_handle()
    assert len(callbacks) == 4  # PRINT-3 and the three protection_added_handlers


def test_print_3_keeps_forwarded_documents(prescriber, granted):
    job = request_summary(
        prescriber, granted, forward_to="Region Halland", forward_reason="Överköp vid 20 år"
    )
    render(job)
    assert services.documents_withdraw_for_patient(patient_id=granted.patient_id) == 0
    job.refresh_from_db()
    assert job.state == DocumentState.READY


def test_print_3_the_sweeper_withdraws_what_a_lost_message_left(prescriber, ordinary):
    job = request_summary(prescriber, ordinary)
    render(job)
    ordinary.patient.confidentiality_marking = True
    ordinary.patient.save()  # as the register import does, without any task sent
    assert services.documents_sweep()["withdrawn"] == 1
    job.refresh_from_db()
    assert job.state == DocumentState.WITHDRAWN


def test_print_3_a_forwarded_document_about_an_unprotected_patient_is_withdrawn_later(
    prescriber, ordinary
):
    """PRINT-2/3: the forwarded route is for a patient under protection at the request.
    Forwarding a document about an ordinary patient keeps it ordinary, so it is withdrawn
    when the patient becomes protected."""
    job = request_summary(
        prescriber, ordinary, forward_to="Kommunen", forward_reason="Överköp vid 20 år"
    )
    assert job.subjects.get().route == DocumentRoute.ORDINARY
    assert render(job) == "ready"
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    assert services.documents_withdraw_for_patient(patient_id=ordinary.patient_id) == 1
    job.refresh_from_db()
    assert job.state == DocumentState.WITHDRAWN
    assert Document.objects.get(pk=job.pk).content is None


def test_print_3_prot_5_the_sweeper_withdraws_a_relatives_document_after_a_lost_message(
    prescriber, ordinary
):
    """PRINT-3, PROT-5: the document is about a person the register links to someone who
    becomes protected; the PRINT-3 message is lost, and the sweeper withdraws it."""
    other = PatientIdentityFactory(personal_identity_number=PROTECTED_NUMBER)
    PatientRelationFactory(
        patient=other.patient, related_identity_number=ordinary.personal_identity_number
    )
    job = request_summary(prescriber, ordinary)
    assert render(job) == "ready"
    other.patient.protected_registration = True
    other.patient.save()  # as the register import does, the PRINT-3 message lost
    assert services.documents_sweep()["withdrawn"] == 1
    job.refresh_from_db()
    assert job.state == DocumentState.WITHDRAWN
    assert Document.objects.get(pk=job.pk).content is None
    assert services.documents_sweep()["withdrawn"] == 0


def test_print_3_a_render_that_ends_after_the_withdrawal_stores_nothing(prescriber, ordinary):
    job = request_summary(prescriber, ordinary)
    claimed = worker._claim(job.pk)
    assert claimed is not None
    subjects = worker._subjects(claimed)
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    services.documents_withdraw_for_patient(patient_id=ordinary.patient_id)
    rendered = rendering.html_to_pdf("<p>late</p>")
    assert worker._store(claimed, subjects, rendered) == "lost claim"
    assert not Document.objects.filter(pk=job.pk).exists()


# --- the sweeper and claims ----------------------------------------------------------------


def test_the_sweeper_resends_a_lost_message_and_fails_after_too_many_attempts(
    prescriber, ordinary, settings, django_capture_on_commit_callbacks
):
    job = request_summary(prescriber, ordinary)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE protection_documentjob SET enqueued_at = now() - interval '1 hour' "
            "WHERE id = %s",
            [job.pk],
        )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.documents_sweep()["resent"] == 1
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False):
        assert services.documents_sweep()["resent"] == 0  # just sent: not again
    # A worker that claimed it and died: the claim runs out and the job is sent again.
    assert worker._claim(job.pk) is not None
    DocumentJob.objects.filter(pk=job.pk).update(claim_expires_at="2000-01-01T00:00Z")
    with django_capture_on_commit_callbacks(execute=False):
        assert services.documents_sweep()["resent"] == 1
    DocumentJob.objects.filter(pk=job.pk).update(attempts=settings.DOCUMENT_MAX_ATTEMPTS)
    assert services.documents_sweep()["failed"] == 1
    job.refresh_from_db()
    assert job.state == DocumentState.FAILED
    assert job.state_reason == services.FAILED_RENDER


def test_an_expired_claim_is_taken_over_and_the_first_worker_stores_nothing(prescriber, ordinary):
    job = request_summary(prescriber, ordinary)
    first = worker._claim(job.pk)
    assert worker._claim(job.pk) is None  # claimed and in force
    DocumentJob.objects.filter(pk=job.pk).update(claim_expires_at="2000-01-01T00:00Z")
    assert render(job) == "ready"
    assert first is not None
    rendered = rendering.html_to_pdf("<p>x</p>")
    assert worker._store(first, worker._subjects(first), rendered) == "lost claim"
    assert Document.objects.filter(pk=job.pk).count() == 1


def _surname_snapshot(request: kinds.SnapshotRequest) -> dict[str, str]:
    patient = request.subjects[0].patient
    assert patient is not None
    return {"name": patient.identity.surname}


def test_a_render_error_fails_the_job_visibly_and_logs_no_personal_data(
    prescriber, ordinary, caplog
):
    kinds.register(
        kinds.DocumentKind(
            code="tests.broken",
            label="Broken",
            template="documents/does-not-exist.html",
            build_snapshot=_surname_snapshot,
        )
    )
    try:
        job = services.document_request(
            ctx=ctx_for(prescriber, stepped_up=True),
            kind="tests.broken",
            patients=[ordinary.patient],
        )
        assert render(job) == "failed"
    finally:
        kinds.unregister("tests.broken")
    job.refresh_from_db()
    assert job.state == DocumentState.FAILED
    assert "Nilsson" not in caplog.text

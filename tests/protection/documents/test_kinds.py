"""What a document kind declares, and what the pipeline does with it: a subject other than
patients, a permission of its own, an immutable record that PRINT-3 leaves alone, the snapshot
taken at the request, and the identity-free form of a paper that moves goods (PRINT-1).

The kinds here are registered by the tests themselves and unregistered after each test.
Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from patients.models import (
    AccessAction,
    AccessEntry,
    AccessOutcome,
    Notification,
    PatientIdentity,
)
from protection.documents import kinds, selectors, services, tasks
from protection.documents.services import jobs
from protection.documents.services.ban import MAKE_AGAIN
from protection.documents.summary import SUMMARY_KIND
from protection.models import Document, DocumentJob, DocumentRoute, DocumentState
from tests.factories import UserFactory
from tests.personas import PROTECTED_NUMBER, ctx_for
from tests.protection.documents.conftest import pdf_text, render, stored_pdf

pytestmark = pytest.mark.django_db

UNIT_PERMISSION = "patients.view_unit"  # held by logistics, not by prescribers


@pytest.fixture
def logistics(unit):
    return UserFactory(username="lars", role="logistics", unit=unit)


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Kinds a test registers; unregistered when it ends, whatever happened."""
    codes: list[str] = []
    yield codes
    for code in codes:
        kinds.unregister(code)


def register(codes: list[str], kind: kinds.DocumentKind) -> kinds.DocumentKind:
    kinds.register(kind)
    codes.append(kind.code)
    return kind


def unit_stock_list(request: kinds.SnapshotRequest) -> dict[str, Any]:
    shelf = request.params["shelf"]
    return {"pages": [{"card": {"name": f"Lagerlista {shelf}"}, "address": []}], "unit_name": ""}


def delivery_note(request: kinds.SnapshotRequest) -> dict[str, Any]:
    """A delivery note about an order: the person where the kind may name them, else only the
    order number, the prescriber's unit and the prescriber."""
    pages = []
    for subject in request.subjects:
        card: dict[str, Any]
        if subject.patient is None:
            card = {"name": "Order O-4711", "identity_number": "Syd-enheten, Petra Förskrivare"}
        else:
            identity = subject.patient.identity
            card = {"name": identity.surname, "identity_number": identity.personal_identity_number}
        pages.append({"card": card, "address": []})
    return {"pages": pages, "unit_name": "Leverans"}


def cheating_delivery_note(request: kinds.SnapshotRequest) -> dict[str, Any]:
    """A builder that reads the identity it was not given: the worker must refuse its paper."""
    identity = PatientIdentity.objects.get(patient_id=request.subjects[0].patient_id)
    return {"pages": [{"card": {"name": identity.surname}, "address": []}], "unit_name": ""}


def kind(code: str, builder: kinds.SnapshotBuilder, **declared: Any) -> kinds.DocumentKind:
    # The summary's template shows what these snapshots carry.
    return kinds.DocumentKind(
        code=code,
        label=code,
        template="documents/patient_summary.html",
        build_snapshot=builder,
        **declared,
    )


# --- a document about no patient, with a permission of its own -----------------------------


@pytest.fixture
def stock_list(registered) -> kinds.DocumentKind:
    """A list for a unit's store: about no patient, for logistics (``patients.view_unit``)."""
    return register(
        registered,
        kind(
            "tests.stock_list",
            unit_stock_list,
            subject=kinds.Subject.UNIT,
            permission=UNIT_PERMISSION,
        ),
    )


def test_a_unit_document_concerns_no_patient_and_is_made_for_the_kinds_permission(
    stock_list, logistics
):
    job = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True), kind="tests.stock_list", params={"shelf": 12}
    )
    assert not job.subjects.exists()
    assert render(job) == "ready"
    assert "Lagerlista 12" in pdf_text(stored_pdf(job))
    found, content = selectors.document_content_for_user(
        ctx=ctx_for(logistics, stepped_up=True), job_id=job.pk
    )
    assert found.pk == job.pk
    assert content == stored_pdf(job)
    # No patient: nothing about a patient to audit.
    assert not AccessEntry.objects.filter(object_id=str(job.pk)).exists()


def test_denied_a_role_without_the_kinds_permission_asks_for_nothing_and_downloads_nothing(
    stock_list, logistics, prescriber
):
    with pytest.raises(services.DocumentError, match="this kind of document"):
        services.document_request(
            ctx=ctx_for(prescriber, stepped_up=True), kind="tests.stock_list", params={"shelf": 1}
        )
    assert not DocumentJob.objects.exists()
    # A role that loses the permission downloads nothing more: the same answer as missing.
    job = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True), kind="tests.stock_list", params={"shelf": 1}
    )
    render(job)
    logistics.groups.clear()
    logistics = type(logistics).objects.get(pk=logistics.pk)  # no cached permissions
    with pytest.raises(DocumentJob.DoesNotExist):
        selectors.document_content_for_user(ctx=ctx_for(logistics, stepped_up=True), job_id=job.pk)


def test_a_kind_about_patients_needs_one_and_a_kind_about_nothing_takes_none(
    registered, logistics, prescriber, ordinary
):
    register(
        registered,
        kind(
            "tests.nothing", unit_stock_list, subject=kinds.Subject.NONE, permission=UNIT_PERMISSION
        ),
    )
    with pytest.raises(ValueError, match="concerns no patient"):
        services.document_request(
            ctx=ctx_for(logistics, stepped_up=True),
            kind="tests.nothing",
            patients=[ordinary.patient],
        )
    with pytest.raises(services.DocumentError, match="Choose the patient"):
        services.document_request(ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND)
    with pytest.raises(ValueError, match="no protected form"):
        kinds.register(
            kind(
                "tests.nothing_forwarded",
                unit_stock_list,
                subject=kinds.Subject.NONE,
                protected_form=kinds.ProtectedForm.FORWARDED,
            )
        )


def test_print_1_only_a_paper_about_an_order_or_a_unit_may_be_identity_free():
    """A document about the person has no identity-free form: declaring one is refused when the
    kind is registered, so no role reaches a protected patient's paper that way."""
    with pytest.raises(ValueError, match="only a paper about an order or a unit"):
        kinds.register(
            kind(
                "tests.summary_without_identity",
                delivery_note,
                subject=kinds.Subject.PATIENTS,
                protected_form=kinds.ProtectedForm.IDENTITY_FREE,
            )
        )
    with pytest.raises(kinds.UnknownKind):
        kinds.get("tests.summary_without_identity")


# --- PRINT-3 and immutable records ---------------------------------------------------------


def test_print_3_leaves_an_immutable_record_alone_and_withdraws_the_rest(
    registered, prescriber, ordinary
):
    register(registered, kind("tests.signed_record", delivery_note, record=True))
    record = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True),
        kind="tests.signed_record",
        patients=[ordinary.patient],
    )
    summary = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
    )
    assert (render(record), render(summary)) == ("ready", "ready")
    kept = stored_pdf(record)
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    assert services.documents_withdraw_for_patient(patient_id=ordinary.patient_id) == 1
    record.refresh_from_db()
    summary.refresh_from_db()
    assert (record.state, summary.state) == (DocumentState.READY, DocumentState.WITHDRAWN)
    assert stored_pdf(record) == kept  # the record's content is untouched
    assert Document.objects.get(pk=summary.pk).content is None
    # The sweeper does not come back for it either.
    assert services.documents_sweep()["withdrawn"] == 0
    # Kept, but the ban still holds at the download: the requester has no grant.
    with pytest.raises(DocumentJob.DoesNotExist):
        selectors.document_content_for_user(
            ctx=ctx_for(prescriber, stepped_up=True), job_id=record.pk
        )


def test_print_3_cancels_a_record_kind_not_yet_issued(registered, prescriber, ordinary):
    register(registered, kind("tests.signed_record", delivery_note, record=True))
    queued = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True),
        kind="tests.signed_record",
        patients=[ordinary.patient],
    )
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    assert services.documents_withdraw_for_patient(patient_id=ordinary.patient_id) == 1
    queued.refresh_from_db()
    assert queued.state == DocumentState.CANCELLED


# --- the snapshot --------------------------------------------------------------------------


def test_the_worker_prints_the_snapshot_taken_at_the_request_not_newer_data(prescriber, ordinary):
    job = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
    )
    ordinary.surname = "Nyström"
    ordinary.registered_address = {"street2": "Nyvägen 9", "postal_code": "21100", "city": "MALMÖ"}
    ordinary.save()
    assert render(job) == "ready"
    text = pdf_text(stored_pdf(job))
    for then in ("Karin Nilsson", "Provgatan 1"):
        assert then in text
    for now in ("Nyström", "Nyvägen"):
        assert now not in text


def test_leak_6_the_snapshot_is_encrypted_at_rest(prescriber, ordinary):
    job = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
    )
    assert job.snapshot["pages"][0]["card"]["name"] == "Karin Nilsson"
    with connection.cursor() as cursor:
        cursor.execute("SELECT snapshot FROM protection_documentjob WHERE id = %s", [job.pk])
        (raw,) = cursor.fetchone()
    assert raw
    for secret in ("Karin", "Nilsson", "Provgatan", "19891222"):
        assert secret not in raw


def test_print_1_the_ban_is_checked_again_at_render_whatever_the_snapshot(prescriber, ordinary):
    job = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
    )
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    assert render(job) == "refused"
    assert not Document.objects.filter(pk=job.pk).exists()


# --- PRINT-1: the identity-free form ---------------------------------------------------------


def identity_free_note(codes: list[str], builder: kinds.SnapshotBuilder = delivery_note) -> None:
    register(
        codes,
        kind(
            "tests.delivery_note",
            builder,
            subject=kinds.Subject.ORDER,
            permission=UNIT_PERMISSION,
            protected_form=kinds.ProtectedForm.IDENTITY_FREE,
        ),
    )


def test_print_1_a_protected_patients_delivery_note_is_made_without_identity(
    registered, logistics, protected
):
    """Logistics has no grant and needs the paper anyway: it gets the identity-free form, its
    builder is never given the person, and the PDF names the order, unit and prescriber only."""
    identity_free_note(registered)
    job = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True),
        kind="tests.delivery_note",
        patients=[protected.patient],
    )
    assert job.subjects.get().route == DocumentRoute.IDENTITY_FREE
    assert render(job) == "ready"
    text = pdf_text(stored_pdf(job))
    assert "Order O-4711" in text
    assert "Syd-enheten, Petra Förskrivare" in text
    for secret in ("Hemlig", "Gömdasson", "Gömdavägen", PROTECTED_NUMBER, PROTECTED_NUMBER[:8]):
        assert secret not in text
    # Not even the birth year, nor that the order concerns protected identity: the paper must
    # look like any other unit delivery (PRINT-1).
    assert str(protected.patient.birth_year) not in text
    for word in ("skydd", "protected", "sekretess"):
        assert word not in text.lower()
    # AUDIT-1: the print concerns the patient, so it is logged against them.
    entry = AccessEntry.objects.get(action=AccessAction.PRINT, object_id=str(job.pk))
    assert (entry.patient_id, entry.outcome) == (protected.patient_id, AccessOutcome.ALLOWED)
    # Downloadable by its requester without a grant: there is nobody on it.
    found, _content = selectors.document_content_for_user(
        ctx=ctx_for(logistics, stepped_up=True), job_id=job.pk
    )
    assert found.pk == job.pk
    # PRINT-3 leaves it: it was made for the protection.
    assert services.documents_withdraw_for_patient(patient_id=protected.patient_id) == 0


def test_print_1_an_ordinary_patients_delivery_note_may_name_them(registered, logistics, ordinary):
    identity_free_note(registered)
    job = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True),
        kind="tests.delivery_note",
        patients=[ordinary.patient],
    )
    assert job.subjects.get().route == DocumentRoute.ORDINARY
    render(job)
    assert "Nilsson" in pdf_text(stored_pdf(job))


def test_print_1_the_worker_refuses_an_identity_free_paper_whose_snapshot_names_the_person(
    registered, logistics, protected
):
    """The second line: a builder that reads the identity anyway is caught when rendering."""
    identity_free_note(registered, cheating_delivery_note)
    job = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True),
        kind="tests.delivery_note",
        patients=[protected.patient],
    )
    assert render(job) == "refused"
    job.refresh_from_db()
    # The requester reads no reason that ties the order to protected identity (PRINT-1).
    assert job.state_reason == MAKE_AGAIN
    assert not Document.objects.filter(pk=job.pk).exists()
    denied = AccessEntry.objects.filter(action=AccessAction.PRINT, outcome=AccessOutcome.DENIED)
    assert [(e.patient_id, e.object_id) for e in denied] == [(protected.patient_id, str(job.pk))]


def test_print_1_a_note_asked_for_while_ordinary_is_refused_once_the_patient_is_protected(
    registered, logistics, ordinary
):
    """Its snapshot names the person: protected since, it is never printed."""
    identity_free_note(registered)
    job = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True),
        kind="tests.delivery_note",
        patients=[ordinary.patient],
    )
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    assert render(job) == "refused"
    assert not Document.objects.filter(pk=job.pk).exists()
    job.refresh_from_db()
    assert job.state_reason == MAKE_AGAIN


def test_print_3_a_goods_paper_withdrawn_says_only_to_ask_again(registered, logistics, ordinary):
    """PRINT-3 withdraws the ordinary delivery note of a patient who became protected; its
    requester is told to ask again, never why: asked again, it is made without identity."""
    identity_free_note(registered)
    job = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True),
        kind="tests.delivery_note",
        patients=[ordinary.patient],
    )
    assert render(job) == "ready"
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    assert services.documents_withdraw_for_patient(patient_id=ordinary.patient_id) == 1
    job.refresh_from_db()
    assert (job.state, job.state_reason) == (DocumentState.WITHDRAWN, MAKE_AGAIN)
    notice = Notification.objects.get(user=logistics)
    assert notice.body == MAKE_AGAIN
    assert "protect" not in f"{notice.subject} {notice.body}".lower()
    ordinary.patient.refresh_from_db()  # as the next request would read it
    again = services.document_request(
        ctx=ctx_for(logistics, stepped_up=True),
        kind="tests.delivery_note",
        patients=[ordinary.patient],
    )
    assert again.subjects.get().route == DocumentRoute.IDENTITY_FREE


def test_the_services_send_the_tasks_by_their_registered_names():
    """The services never import the task module: a renamed task must fail here, not lose its
    messages (house rule 6)."""
    assert tasks.render_document.name == jobs.RENDER_TASK
    assert tasks.withdraw_documents.name == jobs.WITHDRAW_TASK


def _service_modules(root: Path) -> list[Path]:
    floors = ("patients", "protection", "prescriptions", "logistics", "billing")
    return sorted(
        path
        for floor in floors
        for path in (root / floor).rglob("*.py")
        if path.name == "services.py" or "services" in path.relative_to(root).parts
    )


def test_no_service_imports_a_task_module():
    """Tasks import services, never the reverse (house rule 6): every floor's services send by
    name through ``patients.tasking``, so there is no import cycle between the two."""
    root = Path(__file__).resolve().parents[3]
    modules = _service_modules(root)
    assert root / "protection/documents/services/requests.py" in modules
    assert root / "prescriptions/services/rerouting.py" in modules
    offenders = []
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                # Both ``from x.tasks import y`` and ``from x import tasks``.
                module = node.module or ""
                names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name.split(".")[-1] == "tasks" for name in names):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []


# --- what a job keeps once it is done ---------------------------------------------------------


def _raw_snapshot(job: DocumentJob) -> Any:
    with connection.cursor() as cursor:
        cursor.execute("SELECT snapshot FROM protection_documentjob WHERE id = %s", [job.pk])
        return cursor.fetchone()[0]


def test_leak_3_the_snapshot_goes_once_the_document_is_made(prescriber, ordinary):
    """The PDF is what is kept: the identity the snapshot held is not stored beside it."""
    job = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
    )
    assert _raw_snapshot(job) is not None
    assert render(job) == "ready"
    assert _raw_snapshot(job) is None
    assert "Nilsson" in pdf_text(stored_pdf(job))


def test_print_3_a_withdrawn_or_cancelled_job_keeps_no_snapshot(prescriber, ordinary):
    made = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
    )
    render(made)
    queued = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
    )
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    assert services.documents_withdraw_for_patient(patient_id=ordinary.patient_id) == 2
    for job, state in ((made, DocumentState.WITHDRAWN), (queued, DocumentState.CANCELLED)):
        job.refresh_from_db()
        assert job.state == state
        assert _raw_snapshot(job) is None


def test_print_1_a_job_refused_at_render_keeps_no_snapshot(prescriber, ordinary):
    job = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
    )
    ordinary.patient.protected_registration = True
    ordinary.patient.save()
    assert render(job) == "refused"
    assert _raw_snapshot(job) is None


def test_a_job_without_a_snapshot_fails_visibly_instead_of_printing_a_blank_page(
    prescriber, ordinary
):
    """A job asked for before snapshots were kept has nothing to print from: it fails with a
    message to ask again, and no empty document passes for it."""
    job = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
    )
    DocumentJob.objects.filter(pk=job.pk).update(snapshot=None)
    assert render(job) == "failed"
    job.refresh_from_db()
    assert (job.state, job.state_reason) == (DocumentState.FAILED, services.FAILED_RENDER)
    assert not Document.objects.filter(pk=job.pk).exists()


def test_without_a_broker_the_demo_makes_the_document_in_the_web_process(
    prescriber, ordinary, monkeypatch, django_capture_on_commit_callbacks
):
    """The demo without Redis runs tasks eagerly: a document asked for is made at once (the
    send goes by task name, which Celery alone would post to a broker nobody reads)."""
    from celery import current_app

    monkeypatch.setitem(current_app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.document_request(
            ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=[ordinary.patient]
        )
    job.refresh_from_db()
    assert job.state == DocumentState.READY
    assert "Nilsson" in pdf_text(stored_pdf(job))

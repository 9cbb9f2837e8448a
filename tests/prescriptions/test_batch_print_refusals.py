"""PRINT-1 on the batched paths: the order confirmations of "My prescriptions" (Mina
förskrivningar) as one batch, through the document pipeline (protection/documents).

Four of the prescriber's orders, four patients: Karin, an ordinary patient; Hedda, protected and
hidden from the prescriber (no grant); Greta, protected, with a grant that ends between the
request and the render; Einar, protected, opened through an emergency access (break the glass,
ACCESS-7). The ban is checked twice: when the batch is asked for (as the prescriber, through the
page) and again when the worker renders each document. Each time the three protected patients'
documents are refused, each on its own, and only theirs; each refusal is logged (AUDIT-1); the
document that is made is a real WeasyPrint PDF, read back as text (pypdf), and holds nothing of
the refused patients. Identity numbers are Skatteverket's test numbers (IDENT-4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from patients.models import AccessAction, AccessEntry, AccessOutcome, Patient
from prescriptions.models import Prescription
from prescriptions.services.documents import order_confirmation_request
from protection.documents.services.ban import REFUSED_NOT_VISIBLE, REFUSED_PROTECTED
from protection.documents.tasks import render_document
from protection.models import (
    Document,
    DocumentJob,
    DocumentJobPatient,
    DocumentRoute,
    DocumentState,
    EmergencyAccess,
    Grant,
)
from protection.services.accounts import account_password_record
from tests.factories import PatientIdentityFactory, UserFactory
from tests.personas import ORDINARY_NUMBER, ctx_for, give_grant, logged_in
from tests.prescriptions.test_documents import approved
from tests.protection.documents.conftest import pdf_text

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Person:
    number: str
    given: str
    surname: str
    street: str

    @property
    def secrets(self) -> tuple[str, ...]:
        """What of the person must never be on the paper of someone else's order."""
        n = self.number
        return (self.given, self.surname, self.street, n, n[2:], f"{n[:8]}-{n[8:]}", n[:8])


KARIN = Person(ORDINARY_NUMBER, "Karin", "Nilsson", "Provgatan 1")
HEDDA = Person("197502279289", "Hedda", "Doldasson", "Doldagränd 3")
GRETA = Person("197503049293", "Greta", "Grantsdotter", "Utgångsvägen 5")
EINAR = Person("197501149285", "Einar", "Akutsson", "Nödutgången 9")
PROTECTED = (HEDDA, GRETA, EINAR)


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def _patient(person: Person) -> Patient:
    identity = PatientIdentityFactory(
        personal_identity_number=person.number,
        given_names=person.given,
        surname=person.surname,
        registered_address={"street2": person.street, "postal_code": "21100", "city": "MALMÖ"},
    )
    return identity.patient


@pytest.fixture
def orders(rx: Any) -> dict[Person, Prescription]:
    """One submitted order of the prescriber's for each person, made while all were ordinary."""
    return {person: approved(rx, _patient(person)) for person in (KARIN, *PROTECTED)}


def _protect(prescription: Prescription) -> Patient:
    patient = Patient.objects.get(pk=prescription.patient_id)
    patient.protected_registration = True
    patient.save()
    patient.refresh_from_db()
    return patient


def _break_the_glass(user: Any, patient: Patient) -> EmergencyAccess:
    now = timezone.now()
    return EmergencyAccess.objects.create(
        user=user,
        patient=patient,
        reason="Ambulanslarm, akut vård behövs",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(minutes=30),
    )


def _end_grant(grant: Grant) -> None:
    """The grant's end passes: no cleanup job has run, the row is still there (ACCESS-2)."""
    Grant.objects.filter(pk=grant.pk).update(ends_at=timezone.now() - timedelta(seconds=1))


def _print_entries(patient_id: int) -> list[tuple[str, int | None]]:
    return list(
        AccessEntry.objects.filter(action=AccessAction.PRINT, patient_id=patient_id)
        .order_by("pk")
        .values_list("outcome", "user_id")
    )


def _stored_text(job: DocumentJob) -> str:
    content = Document.objects.get(pk=job.pk).content
    assert content is not None
    return pdf_text(bytes(content))


def _assert_nothing_of(people: tuple[Person, ...], text: str) -> None:
    for person in people:
        for secret in person.secrets:
            assert secret not in text, f"{person.given}: {secret!r} is on the paper"


def test_print_1_audit_1_batch_refuses_each_protected_patient_at_the_request(client, rx, orders):
    """PRINT-1, ACCESS-1, ACCESS-7, AUDIT-1: asked for from the page, as the prescriber (row-
    level security as in production, password confirmed): Hedda (no grant), Greta (a grant in
    force) and Einar (an emergency access) are each refused with a job of their own in the
    batch and a denied print entry; Karin's is made, and her PDF holds nothing of theirs."""
    hedda, greta, einar = (_protect(orders[person]) for person in PROTECTED)
    give_grant(rx, greta.identity)
    _break_the_glass(rx, einar)
    logged_in(client, rx, stepped_up=True)
    numbers = [orders[person].reference for person in (KARIN, *PROTECTED)]
    response = client.post("/prescriptions/order-confirmations/", {"prescription": numbers})
    assert response.status_code == 302
    assert response["Location"] == "/protection/documents/"

    jobs = {job.params["prescription_id"]: job for job in DocumentJob.objects.all()}
    assert len(jobs) == 4
    made = jobs[orders[KARIN].pk]
    assert made.state == DocumentState.QUEUED
    assert list(made.subjects.values_list("patient_id", "route")) == [
        (orders[KARIN].patient_id, DocumentRoute.ORDINARY)
    ]
    # Hedda is hidden from the prescriber: they are told they cannot see who it is.
    reasons = {hedda: REFUSED_NOT_VISIBLE, greta: REFUSED_PROTECTED, einar: REFUSED_PROTECTED}
    for patient, reason in reasons.items():
        job = jobs[Prescription.objects.get(patient=patient).pk]
        assert (job.state, job.state_reason) == (DocumentState.REFUSED, reason)
        assert not job.subjects.exists()  # a refused job names no patient (ACCESS-1)
        assert _print_entries(patient.pk) == [(AccessOutcome.DENIED, rx.pk)]
    assert _print_entries(orders[KARIN].patient_id) == [(AccessOutcome.ALLOWED, rx.pk)]
    assert not DocumentJobPatient.objects.exclude(job=made).exists()

    # The worker makes Karin's, and only hers.
    assert render_document(made.pk) == "ready"
    text = _stored_text(made)
    assert "Karin Nilsson" in text
    assert "Provgatan 1" in text
    _assert_nothing_of(PROTECTED, text)
    assert Document.objects.count() == 1


def test_print_1_audit_1_the_worker_refuses_each_protected_patient_again_at_the_render(rx, orders):
    """PRINT-1 ("the check is made again when a worker renders"), PROT-3, ACCESS-2, ACCESS-7,
    AUDIT-1: a batch asked for while all four were ordinary; before the worker runs, Hedda
    becomes protected (no grant), Greta protected with a grant that has ended, Einar protected
    and opened through an emergency access. The worker (the Celery task, as in production)
    refuses each of their jobs, logs each refusal and stores no PDF for them; Karin's is made
    and holds nothing of theirs."""
    from prescriptions.services.documents import order_confirmations_batch_request

    outcome = order_confirmations_batch_request(
        ctx=ctx_for(rx, stepped_up=True),
        references=[orders[person].reference for person in (KARIN, *PROTECTED)],
    )
    assert outcome.refused == []
    jobs = {job.params["prescription_id"]: job for job in outcome.batch.jobs.all()}
    hedda, greta, einar = (_protect(orders[person]) for person in PROTECTED)
    _end_grant(give_grant(rx, greta.identity))
    _break_the_glass(rx, einar)

    for patient in (hedda, greta, einar):
        job = jobs[Prescription.objects.get(patient=patient).pk]
        assert render_document(job.pk) == "refused"
        job.refresh_from_db()
        assert job.state == DocumentState.REFUSED
        assert job.state_reason == REFUSED_PROTECTED
        assert not Document.objects.filter(pk=job.pk).exists()
        # Allowed at the request, denied by the worker (no user: the system acted).
        assert _print_entries(patient.pk) == [
            (AccessOutcome.ALLOWED, rx.pk),
            (AccessOutcome.DENIED, None),
        ]
        denied = AccessEntry.objects.get(patient=patient, outcome=AccessOutcome.DENIED)
        assert (denied.object_type, denied.object_id) == ("document_job", str(job.pk))
        assert denied.patient_protected

    karin = jobs[orders[KARIN].pk]
    assert render_document(karin.pk) == "ready"
    text = _stored_text(karin)
    assert "Karin Nilsson" in text
    _assert_nothing_of(PROTECTED, text)
    assert list(Document.objects.values_list("pk", flat=True)) == [karin.pk]
    assert _print_entries(orders[KARIN].patient_id) == [(AccessOutcome.ALLOWED, rx.pk)]


def test_print_1_print_2_access_2_a_forwarded_copy_is_refused_once_the_grant_has_ended(rx, orders):
    """PRINT-1, PRINT-2, ACCESS-2, AUDIT-1: the one way a protected patient's order
    confirmation is asked for at all (forwarded, with a reason, by a grant holder). The grant
    ends between the request and the render: the worker refuses it (the requester may no
    longer see who it is), stores nothing and logs the refusal. With the grant still in force
    the same request is made (the control)."""
    greta = _protect(orders[GRETA])
    grant = give_grant(rx, greta.identity)

    def forwarded() -> DocumentJob:
        return order_confirmation_request(
            ctx=ctx_for(rx, stepped_up=True),
            reference=orders[GRETA].reference,
            forward_to="Region Halland, hjälpmedelscentralen",
            forward_reason="Överköp vid 20 års ålder",
        )

    control = forwarded()
    assert render_document(control.pk) == "ready"
    assert "Greta Grantsdotter" in _stored_text(control)  # the receiver needs to know who

    job = forwarded()
    assert job.subjects.get().route == DocumentRoute.FORWARDED
    _end_grant(grant)
    assert render_document(job.pk) == "refused"
    job.refresh_from_db()
    assert (job.state, job.state_reason) == (DocumentState.REFUSED, REFUSED_NOT_VISIBLE)
    assert not Document.objects.filter(pk=job.pk).exists()
    denied = AccessEntry.objects.get(
        action=AccessAction.PRINT, patient=greta, outcome=AccessOutcome.DENIED
    )
    assert (denied.object_id, denied.user_id) == (str(job.pk), None)


def test_print_1_access_7_access_10_a_forwarded_copy_is_refused_once_the_emergency_access_stops(
    rx, orders
):
    """PRINT-1, ACCESS-7, ACCESS-10, AUDIT-1: the same for a requester who saw the patient
    through an emergency access alone. Before the render an administrator sets their password,
    which suspends what they may open (an emergency access too): the worker refuses the copy."""
    einar = _protect(orders[EINAR])
    _break_the_glass(rx, einar)
    job = order_confirmation_request(
        ctx=ctx_for(rx, stepped_up=True),
        reference=orders[EINAR].reference,
        forward_to="Region Halland, hjälpmedelscentralen",
        forward_reason="Överköp vid 20 års ålder",
    )
    assert job.subjects.get().route == DocumentRoute.FORWARDED
    account_password_record(subject_id=rx.pk, actor_id=UserFactory(role="protection_admin").pk)
    assert render_document(job.pk) == "refused"
    job.refresh_from_db()
    assert job.state_reason == REFUSED_NOT_VISIBLE
    assert not Document.objects.filter(pk=job.pk).exists()
    assert _print_entries(einar.pk) == [
        (AccessOutcome.ALLOWED, rx.pk),
        (AccessOutcome.DENIED, None),
    ]

"""AUDIT-1 for a refused document request: every patient the request read is logged, once.

A document about several patients is refused as a whole when one of them is under the printing
ban (PRINT-1). The request read all of them (their identities, as the requester may see them,
and their guards), so each gets its denied *print* entry, not only the refused one; a batch
member's refused job and its entry commit in one transaction. Identity numbers are
Skatteverket's test numbers (IDENT-4).
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from patients.models import AccessAction, AccessEntry, AccessOutcome
from protection.documents import services
from protection.documents.summary import SUMMARY_KIND
from protection.models import DocumentJob, DocumentState
from protection.refusals import refusals_kept
from tests.factories import PatientIdentityFactory
from tests.personas import ctx_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def another_ordinary():
    return PatientIdentityFactory(
        personal_identity_number="197502199255", given_names="Olle", surname="Andersson"
    )


def print_entries() -> list[tuple[int | None, str, str, str]]:
    return sorted(
        AccessEntry.objects.filter(action=AccessAction.PRINT).values_list(
            "patient_id", "outcome", "object_type", "object_id"
        )
    )


ENTRY_INSERT = 'INSERT INTO "patients_accessentry"'


def entry_inserts(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith(ENTRY_INSERT)]


def test_audit_1_print_1_refused_request_logs_every_patient_it_read_once(
    prescriber, ordinary, granted, another_ordinary
):
    """AUDIT-1, PRINT-1: a summary of three patients, one protected (granted, stepped up), is
    refused; each of the three gets one denied print entry, in one INSERT."""
    patients = [ordinary.patient, granted.patient, another_ordinary.patient]
    with CaptureQueriesContext(connection) as queries, pytest.raises(services.DocumentRefused):
        services.document_request(
            ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=patients
        )
    assert not DocumentJob.objects.exists()
    assert print_entries() == sorted(
        (p.pk, AccessOutcome.DENIED, "document_request", SUMMARY_KIND[:40]) for p in patients
    )
    assert len(entry_inserts(queries)) == 1


def test_audit_1_a_patient_named_twice_is_logged_once(prescriber, ordinary, protected):
    """AUDIT-1: exactly once per patient, however often the request names them."""
    with pytest.raises(services.DocumentRefused):
        services.document_request(
            ctx=ctx_for(prescriber, stepped_up=True),
            kind=SUMMARY_KIND,
            patients=[ordinary.patient, protected.patient, ordinary.patient],
        )
    counted = Counter(patient for patient, *_rest in print_entries())
    assert counted == {ordinary.patient_id: 1, protected.patient_id: 1}


def test_audit_1_entries_outlive_an_outer_transaction_the_refusal_rolls_back(
    prescriber, ordinary, protected
):
    """AUDIT-1: inside a caller's transaction that the refusal rolls back, the entries are
    written again by the caller's edge (``refusals_kept``), still once per patient."""

    @refusals_kept
    @transaction.atomic
    def caller() -> None:
        services.document_request(
            ctx=ctx_for(prescriber, stepped_up=True),
            kind=SUMMARY_KIND,
            patients=[ordinary.patient, protected.patient],
        )

    with pytest.raises(services.DocumentRefused):
        caller()
    assert [(p, o) for p, o, *_rest in print_entries()] == sorted(
        [(ordinary.patient_id, AccessOutcome.DENIED), (protected.patient_id, AccessOutcome.DENIED)]
    )


def test_audit_1_an_accepted_request_logs_every_patient_once(
    prescriber, ordinary, another_ordinary
):
    """AUDIT-1: the allowed side, for comparison: one allowed print entry per patient."""
    job = services.document_request(
        ctx=ctx_for(prescriber, stepped_up=True),
        kind=SUMMARY_KIND,
        patients=[ordinary.patient, another_ordinary.patient],
    )
    assert print_entries() == sorted(
        (p.pk, AccessOutcome.ALLOWED, "document_job", str(job.pk))
        for p in (ordinary.patient, another_ordinary.patient)
    )


def test_audit_1_print_1_batch_logs_each_patient_once_refused_job_and_entry_together(
    prescriber, ordinary, protected, another_ordinary
):
    """AUDIT-1, PRINT-1: a batch of one document per patient logs each patient once (allowed
    for those made, denied for the refused one), and the refused job is written in the same
    transaction as its denied entry: between one savepoint and its release."""
    patients = [ordinary.patient, protected.patient, another_ordinary.patient]
    with CaptureQueriesContext(connection) as queries:
        batch, jobs, refused = services.document_batch_request(
            ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=patients
        )
    assert [patient for patient, _why in refused] == [protected.patient]
    entries = AccessEntry.objects.filter(action=AccessAction.PRINT)
    assert Counter(entries.values_list("patient_id", flat=True)) == {p.pk: 1 for p in patients}
    denied = entries.filter(outcome=AccessOutcome.DENIED)
    assert list(denied.values_list("patient_id", flat=True)) == [protected.patient_id]
    assert batch.jobs.filter(state=DocumentState.REFUSED).count() == 1
    sql = [q["sql"] for q in queries.captured_queries]
    job_insert = next(
        i
        for i, statement in enumerate(sql)
        if statement.startswith('INSERT INTO "protection_documentjob"')
        and f"'{DocumentState.REFUSED.value}'" in statement
    )
    savepoint = max(i for i in range(job_insert) if sql[i].startswith("SAVEPOINT"))
    released = next(
        i for i in range(job_insert, len(sql)) if sql[i].startswith("RELEASE SAVEPOINT")
    )
    between = sql[savepoint:released]
    assert sum(statement.startswith(ENTRY_INSERT) for statement in between) == 1
    assert len(jobs) == 2

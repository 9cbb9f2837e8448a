"""The state-machine helper every floor uses (house style 4): check, lock, move, history."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from patients.transitions import (
    CREATED,
    StaleState,
    StateMachine,
    TransitionNotAllowed,
    history_record,
    transition_apply,
    transition_created,
)
from protection.models import DocumentJob, DocumentJobTransition
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Refused(Exception):
    pass


MACHINE = StateMachine(
    name="test job",
    moves={
        CREATED: frozenset({"queued"}),
        "queued": frozenset({"rendering", "cancelled"}),
        "rendering": frozenset({"ready"}),
    },
    history_model=DocumentJobTransition,
    subject_field="job",
)


@pytest.fixture
def job() -> DocumentJob:
    return DocumentJob.objects.create(kind="test.kind", requested_by=UserFactory())


def test_an_allowed_move_changes_the_row_and_its_fields_and_writes_one_history_row(job):
    user = UserFactory()
    with transaction.atomic():
        row = transition_apply(
            machine=MACHINE, obj=job, to_state="cancelled", by=user, note="n", state_reason="why"
        )
    stored = DocumentJob.objects.get(pk=job.pk)
    assert (stored.state, stored.state_reason) == ("cancelled", "why")
    assert (job.state, job.state_reason) == ("cancelled", "why")
    history = list(
        DocumentJobTransition.objects.filter(job=job).values_list(
            "from_state", "to_state", "by_id", "note"
        )
    )
    assert history == [("queued", "cancelled", user.pk, "n")]
    assert row.pk == DocumentJobTransition.objects.get(job=job).pk


def test_a_move_the_table_does_not_list_is_refused_and_changes_nothing(job):
    with transaction.atomic(), pytest.raises(TransitionNotAllowed, match="'queued' -> 'ready'"):
        transition_apply(machine=MACHINE, obj=job, to_state="ready")
    assert DocumentJob.objects.get(pk=job.pk).state == "queued"
    assert not DocumentJobTransition.objects.filter(job=job).exists()


def test_a_machine_may_turn_a_refused_move_into_its_floors_domain_exception(job):
    machine = StateMachine(
        name="test job",
        moves=MACHINE.moves,
        history_model=DocumentJobTransition,
        subject_field="job",
        refuse=lambda obj, frm, to: Refused(f"{obj.pk} is {frm}, not {to}"),
    )
    with transaction.atomic(), pytest.raises(Refused, match=f"{job.pk} is queued, not ready"):
        transition_apply(machine=machine, obj=job, to_state="ready")


def test_a_row_moved_by_someone_else_since_it_was_read_is_stale(job):
    DocumentJob.objects.filter(pk=job.pk).update(state="rendering")
    # ``job`` still says queued: the conditional UPDATE finds no such row and moves nothing.
    with transaction.atomic(), pytest.raises(StaleState, match="no longer 'queued'"):
        transition_apply(machine=MACHINE, obj=job, to_state="cancelled")
    assert DocumentJob.objects.get(pk=job.pk).state == "rendering"
    assert not DocumentJobTransition.objects.filter(job=job).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_transition_outside_a_transaction_is_a_programming_error(job):
    with pytest.raises(RuntimeError, match="inside a transaction"):
        transition_apply(machine=MACHINE, obj=job, to_state="cancelled")
    assert DocumentJob.objects.get(pk=job.pk).state == "queued"


def test_creation_is_recorded_as_a_move_from_created_and_checked_against_the_table(job):
    with transaction.atomic():
        transition_created(machine=MACHINE, obj=job, by=AnonymousUser(), note="new")
    assert list(
        DocumentJobTransition.objects.filter(job=job).values_list(
            "from_state", "to_state", "by_id", "note"
        )
    ) == [(CREATED, "queued", None, "new")]  # type: ignore[comparison-overlap]
    job.state = "ready"
    with transaction.atomic(), pytest.raises(TransitionNotAllowed):
        transition_created(machine=MACHINE, obj=job)


def test_history_record_keeps_a_note_that_does_not_move_the_state(job):
    history_record(machine=MACHINE, obj=job, from_state="queued", to_state="queued", note="x" * 400)
    row = DocumentJobTransition.objects.get(job=job)
    assert (row.from_state, row.to_state, len(row.note)) == ("queued", "queued", 300)
    assert DocumentJob.objects.get(pk=job.pk).state == "queued"

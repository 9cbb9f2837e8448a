"""patients.bulk writes many rows with one array per column; nothing it writes is cut short.

A cast of the arrays to varchar(n)[] would cut a longer text without a word; the arrays are
sent without a length, so the column refuses it as a single INSERT would (AUDIT-1: an access
entry is stored as meant or not at all)."""

from __future__ import annotations

import pytest
from django.db import DataError, transaction

from patients.models import AccessAction, AccessEntry, AccessOutcome
from patients.services import Actor, access_entries_record_each

pytestmark = pytest.mark.django_db

ACTOR = Actor(user_id=None, unit_id=None, ip_address=None, session_ref="")


def test_audit_1_an_access_entry_too_long_for_its_column_is_refused_not_cut() -> None:
    too_long = "x" * (AccessEntry._meta.get_field("object_id").max_length + 1)  # type: ignore[operator]
    with pytest.raises(DataError), transaction.atomic():
        access_entries_record_each(
            actor=ACTOR,
            action=AccessAction.READ,
            object_type="patient",
            entries=[(None, too_long, AccessOutcome.NO_MATCH)],
        )
    assert not AccessEntry.objects.filter(object_id__startswith="xxx").exists()


def test_audit_1_access_entries_come_back_with_their_ids_as_written() -> None:
    [entry] = access_entries_record_each(
        actor=ACTOR,
        action=AccessAction.READ,
        object_type="patient",
        entries=[(None, "P-1", AccessOutcome.NO_MATCH)],
    )
    stored = AccessEntry.objects.get(pk=entry.pk)
    assert (stored.object_type, stored.object_id, stored.outcome) == (
        "patient",
        "P-1",
        AccessOutcome.NO_MATCH,
    )

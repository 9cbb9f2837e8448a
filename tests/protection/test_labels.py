"""A patient as a label for this user (``protection.labels``, ``{% patient_label %}``): name and
personnummer first and the reference second where the gate opens the patient; "Skyddade
personuppgifter" and the birth year, no reference, where it does not (ACCESS-1, ACCESS-4); each
name shown logged (AUDIT-1); a fixed number of queries whatever the length of the list."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.template import Context, Template
from django.utils import translation

from patients.models import AccessAction, AccessEntry, AccessOutcome, PatientIdentity
from protection.labels import patient_labels_for_user
from tests.factories import PatientIdentityFactory, UserFactory
from tests.personas import ctx_for, give_grant, ordinary_identity_create

pytestmark = pytest.mark.django_db

NUMBERS = ("189001119800", "189001129817", "189001139808", "189001149815", "189001159806")


def as_request_user(user: Any) -> None:
    """What a request of ``user`` runs as: out of the system context a test's own code has
    (tests/conftest.py), with the user named to the database (protection.middleware), whose
    row-level security then shows only the identities the user's grants open. Call it once
    the test's data is made."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hjm.context', '', true)")
        cursor.execute("SELECT set_config('hjm.user_id', %s, true)", [str(user.pk)])


def label(card: Any) -> str:
    with translation.override("sv"):
        return Template("{% load patient_labels %}{% patient_label card %}").render(
            Context({"card": card})
        )


def test_access_1_an_ordinary_patient_is_named_first_and_the_reference_comes_second(prescriber):
    karin = ordinary_identity_create()
    as_request_user(prescriber)
    cards = patient_labels_for_user(
        ctx=ctx_for(prescriber), rows=[(karin.patient_id, "F-1")], object_type="prescription"
    )
    shown = label(cards[karin.patient_id])
    assert "Karin Nilsson" in shown
    assert "19891222-2398" in shown
    assert shown.index("Karin Nilsson") < shown.index("19891222-2398")
    assert shown.index("19891222-2398") < shown.index(karin.patient.reference)


def test_access_1_a_protected_patient_without_a_grant_is_the_label_and_birth_year_only(
    prescriber, protected
):
    as_request_user(prescriber)
    card = patient_labels_for_user(
        ctx=ctx_for(prescriber, stepped_up=True),
        rows=[(protected.patient_id, "F-1")],
        object_type="prescription",
    )[protected.patient_id]
    shown = label(card)
    assert card.masked
    assert shown == '<strong class="protection-label">Skyddade personuppgifter</strong>, född 1989'
    for secret in ("Hemlig", "Gömdasson", "19891223-2389", protected.patient.reference):
        assert secret not in shown


def test_access_4_a_grant_holder_sees_the_name_only_after_confirming_the_password(
    prescriber, protected
):
    give_grant(prescriber, protected)
    as_request_user(prescriber)
    rows = [(protected.patient_id, "F-1")]
    before = patient_labels_for_user(
        ctx=ctx_for(prescriber), rows=rows, object_type="prescription"
    )[protected.patient_id]
    assert before.masked
    assert "Gömdasson" not in label(before)
    after = patient_labels_for_user(
        ctx=ctx_for(prescriber, stepped_up=True), rows=rows, object_type="prescription"
    )[protected.patient_id]
    assert not after.masked
    assert "Hemlig Gömdasson" in label(after)


def test_access_1_a_patient_whose_identity_row_level_security_hides_is_masked(
    prescriber, protected
):
    """The gate would open the patient (a grant and step-up), but the database answers for
    another user, whose row-level security hides the identity: the label fails closed."""
    give_grant(prescriber, protected)
    as_request_user(UserFactory(username="someone_else", role="prescriber"))
    assert not PatientIdentity.objects.filter(patient_id=protected.patient_id).exists()
    card = patient_labels_for_user(
        ctx=ctx_for(prescriber, stepped_up=True),
        rows=[(protected.patient_id, "F-1")],
        object_type="prescription",
    )[protected.patient_id]
    assert card.masked
    assert card.name == ""


def test_audit_1_every_row_is_logged_a_named_one_allowed_a_masked_one_denied(prescriber, protected):
    """AUDIT-1: a masked label is an access to patient data too; it is logged as the gate logs
    a masked read (denied), in the same single INSERT as the names shown."""
    karin = ordinary_identity_create()
    as_request_user(prescriber)
    last = AccessEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    patient_labels_for_user(
        ctx=ctx_for(prescriber),
        rows=[
            (karin.patient_id, "F-1"),
            (karin.patient_id, "F-2"),
            (protected.patient_id, "F-3"),
        ],
        object_type="prescription",
    )
    entries = list(AccessEntry.objects.filter(pk__gt=last).order_by("pk"))
    assert [(e.patient_id, e.object_type, e.object_id) for e in entries] == [
        (karin.patient_id, "prescription", "F-1"),
        (karin.patient_id, "prescription", "F-2"),
        (protected.patient_id, "prescription", "F-3"),
    ]
    assert [(e.action, e.outcome, e.user_id) for e in entries] == [
        (AccessAction.READ, AccessOutcome.ALLOWED, prescriber.pk),
        (AccessAction.READ, AccessOutcome.ALLOWED, prescriber.pk),
        (AccessAction.READ, AccessOutcome.DENIED, prescriber.pk),
    ]
    # LEAK-1: the masked row's entry carries the internal patient only, flagged protected.
    assert entries[2].patient_protected


def test_a_list_of_labels_costs_the_same_queries_for_one_patient_and_for_five(
    prescriber, protected, django_assert_num_queries
):
    patients = [
        PatientIdentityFactory(personal_identity_number=number).patient_id for number in NUMBERS
    ]
    as_request_user(prescriber)
    ctx = ctx_for(prescriber)
    # the guards, the user's grants (a protected patient is among them), the patients with
    # their identities, the access log
    with django_assert_num_queries(4):
        one = patient_labels_for_user(
            ctx=ctx, rows=[(patients[0], "F-0"), (protected.patient_id, "F-P")], object_type="x"
        )
    with django_assert_num_queries(4):
        many = patient_labels_for_user(
            ctx=ctx,
            rows=[*((pk, f"F-{i}") for i, pk in enumerate(patients)), (protected.patient_id, "P")],
            object_type="x",
        )
    assert len(one) == 2
    assert len(many) == 6
    assert sum(not card.masked for card in many.values()) == 5


def test_no_patient_no_query(prescriber, django_assert_num_queries):
    ctx = ctx_for(prescriber)
    with django_assert_num_queries(0):
        assert patient_labels_for_user(ctx=ctx, rows=[], object_type="x") == {}

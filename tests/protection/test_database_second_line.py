"""LEAK-6: the database is a second line. SQL run as the application's own role, whatever
session settings it sets, finds no protected person's name, number, reservnummer or address in
clear, and no document or letter text about them.

The scan reads every text-like column of every table the role may read, with each session
setting the code uses set to each value that could open something (the system context, the id
of a user holding a grant, an emergency access, a superuser), and looks for the person in every
spelling. Identity numbers are Skatteverket's test numbers (IDENT-4).
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pgtrigger
import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from patients.fields import EncryptedNumberField
from patients.models import NumberChange, PatientIdentity, PatientRelation, RegisterFile
from protection.documents import letters, services
from protection.documents.summary import SUMMARY_KIND
from protection.models import Document, EmergencyAccess, Letter
from tests.factories import PatientIdentityFactory, PatientRelationFactory, UserFactory
from tests.patients.encrypted_columns import TEST1_FIRST
from tests.personas import PROTECTED_NUMBER, ctx_for, give_grant
from tests.protection.documents.conftest import render
from tests.sealed import number_digest, opened

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
RESERVE = "22950606FH22"
OLD_NUMBER = "198912242388"
SPOUSE = "194202138014"
LETTER_BODY = "Välkommen till utprovningen den tredje december"


def _spellings(number: str) -> set[str]:
    """A 12-digit number as people and systems write it: whole, 10 digits, with a dash."""
    ten = number[2:]
    return {number, ten, f"{number[:8]}-{number[8:]}", f"{ten[:6]}-{ten[6:]}"}


NEEDLES = sorted(
    {
        "Hemlig",
        "Gömdasson",
        "Gömdavägen",
        "21120",
        RESERVE,
        LETTER_BODY,
        "%PDF",  # a readable PDF in a text column
        "\\x25504446",  # ... or in a bytea column, as bytea's text form shows it
        *_spellings(PROTECTED_NUMBER),
        *_spellings(OLD_NUMBER),
        *_spellings(SPOUSE),
    }
)


def _settings_the_code_uses() -> set[str]:
    """Every session setting our code sets (``set_config('name', ...)``), read from the source
    so a new one cannot be forgotten here, and those of the history and trigger libraries."""
    found: set[str] = set()
    for app in ("patients", "protection", "prescriptions", "logistics", "billing", "config"):
        for path in (ROOT / app).rglob("*.py"):
            found.update(re.findall(r"set_config\('(hjm\.[a-z_]+)'", path.read_text()))
    return found | {"pghistory.context_id", "pghistory.context_metadata", "pgtrigger.ignore"}


@pytest.fixture
def world(protected: PatientIdentity) -> dict[str, Any]:
    """A protected person with everything the product keeps about one: numbers, names, an
    address, a register relation, a number change, a letter and a document for another
    principal, and users whose ids would open the rows if row-level security alone stood."""
    protected.reserve_number = RESERVE
    protected.save()
    spouse = PatientIdentityFactory(personal_identity_number=SPOUSE, given_names="Make")
    PatientRelationFactory(patient=protected.patient, related_identity_number=SPOUSE)
    PatientRelationFactory(patient=spouse.patient, related_identity_number=PROTECTED_NUMBER)
    NumberChange.objects.create(
        patient=protected.patient,
        old_number=OLD_NUMBER,
        new_number=PROTECTED_NUMBER,
        register_file=RegisterFile.objects.create(
            identity_key="leak-6", file_name="leak-6.xml", content_sha256="0" * 64
        ),
    )
    holder = UserFactory(role="prescriber")
    give_grant(holder, protected)
    emergency = UserFactory(role="prescriber")
    now = timezone.now()
    EmergencyAccess.objects.create(
        user=emergency,
        patient=protected.patient,
        reason="Ambulans",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(minutes=30),
    )
    superuser = UserFactory(is_superuser=True, is_staff=True)
    letter_job = letters.letters_issue(
        ctx=ctx_for(holder, stepped_up=True),
        patients=[protected.patient],
        template="fitting",
        subject="Kallelse till utprovning",
        body=LETTER_BODY,
    )
    summary_job = services.document_request(
        ctx=ctx_for(holder, stepped_up=True),
        kind=SUMMARY_KIND,
        patients=[protected.patient],
        forward_to="Region Halland, hjälpmedelscentralen",
        forward_reason="Överköp vid 20 års ålder",
    )
    assert render(letter_job) == "ready"
    assert render(summary_job) == "ready"
    return {"users": [holder.pk, emergency.pk, superuser.pk], "protected": protected}


def _readable_text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name, c.column_name
              FROM information_schema.columns c
              JOIN information_schema.tables t
                ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
               AND c.data_type IN ('text', 'character varying', 'character', 'bytea', 'json',
                                   'jsonb')
               -- Schema-qualified: the planner may test rows of other schemas first.
               AND has_column_privilege(
                   current_user, format('%I.%I', c.table_schema, c.table_name), c.column_name,
                   'SELECT')
             ORDER BY c.table_name, c.column_name
            """
        )
        return [(table, column) for table, column in cursor.fetchall()]


def _found(columns: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every needle any readable value holds, case-insensitive."""
    hits = []
    with connection.cursor() as cursor:
        for table, column in columns:
            # Names from the catalogue, quoted; the needles are parameters.
            cursor.execute(
                f'SELECT n FROM unnest(%s::text[]) AS n WHERE EXISTS (SELECT 1 FROM "{table}" '  # noqa: S608
                f'WHERE strpos(lower("{column}"::text), lower(n)) > 0)',
                [NEEDLES],
            )
            hits += [(table, column, needle) for (needle,) in cursor.fetchall()]
    return hits


def test_leak_6_raw_sql_as_the_application_role_finds_no_protected_identity_or_document(world):
    columns = _readable_text_columns()
    assert ("patients_patientidentity", "surname") in columns  # the scan reads what matters
    assert ("protection_document", "content") in columns
    settings_used = _settings_the_code_uses()
    assert {"hjm.context", "hjm.user_id"} <= settings_used
    users = [str(user) for user in world["users"]]
    # Every value that could open something; a user id is a number, the policy casts it.
    values = {
        name: ["", *users] if name == "hjm.user_id" else ["", "system", "1", *users]
        for name in sorted(settings_used)
    }
    # Each setting through its values with the others empty, and the two that row-level
    # security reads together in every combination.
    trials: list[dict[str, str]] = [{}]
    trials += [{name: value} for name, options in values.items() for value in options]
    trials += [
        {"hjm.context": context, "hjm.user_id": user}
        for context, user in itertools.product(values["hjm.context"], values["hjm.user_id"])
    ]
    for trial in trials:
        with transaction.atomic(), connection.cursor() as cursor:
            for name in settings_used:
                cursor.execute("SELECT set_config(%s, %s, true)", [name, trial.get(name, "")])
            assert _found(columns) == [], trial


def test_leak_6_with_the_system_context_the_rows_are_there_but_sealed(world):
    """The scan above is not blind: the rows are read, and what they hold is the person's
    data, encrypted; the application, holding the keys, reads it back."""
    protected = world["protected"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hjm.context', 'system', true)")
        cursor.execute(
            "SELECT personal_identity_number, reserve_number, given_names, surname "
            "FROM patients_patientidentity WHERE patient_id = %s",
            [protected.patient_id],
        )
        number, reserve, given, surname = cursor.fetchone()
        cursor.execute(
            "SELECT content FROM protection_document d JOIN protection_documentjobpatient s "
            "ON s.job_id = d.job_id WHERE s.patient_id = %s",
            [protected.patient_id],
        )
        contents = [content for (content,) in cursor.fetchall()]
    assert number.startswith(number_digest(PROTECTED_NUMBER) + ":")
    assert opened(PatientIdentity, "personal_identity_number", number) == PROTECTED_NUMBER
    assert opened(PatientIdentity, "reserve_number", reserve) == RESERVE
    assert (
        opened(PatientIdentity, "given_names", given),
        opened(PatientIdentity, "surname", surname),
    ) == (
        "Hemlig",
        "Gömdasson",
    )
    assert len(contents) == 2
    for content in contents:
        assert not content.startswith("%PDF")
        assert opened(Document, "content", content).startswith(b"%PDF")


def test_leak_6_a_plain_number_cannot_be_stored_by_raw_sql(world):
    """A number is sealed or refused: the database checks the form it cannot read."""
    statements = [
        (
            "UPDATE patients_patientidentity SET personal_identity_number = %s "
            "WHERE patient_id = %s",
            [PROTECTED_NUMBER, world["protected"].patient_id],
        ),
        (
            "UPDATE patients_patientrelation SET related_identity_number = %s",
            [SPOUSE],
        ),
    ]
    for sql, params in statements:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('hjm.context', 'system', true)")
            with pytest.raises(DatabaseError, match="sealed"), transaction.atomic():
                cursor.execute(sql, params)


def test_leak_6_numbers_are_found_by_digest_and_unique():
    """Equality finds a number through its digest; the digest keeps numbers unique; a number
    in the wrong form is refused before it is sealed, without the number in the message."""
    identity = PatientIdentityFactory(personal_identity_number=PROTECTED_NUMBER)
    assert PatientIdentity.objects.get(personal_identity_number=PROTECTED_NUMBER).pk == identity.pk
    assert list(
        PatientIdentity.objects.filter(
            personal_identity_number__in=[PROTECTED_NUMBER, SPOUSE]
        ).values_list("pk", flat=True)
    ) == [identity.pk]
    assert not PatientIdentity.objects.filter(personal_identity_number=SPOUSE).exists()
    with pytest.raises(DatabaseError, match="identity_number_unique"), transaction.atomic():
        PatientIdentityFactory(personal_identity_number=PROTECTED_NUMBER)
    with pytest.raises(ValueError, match="canonical") as refused:
        PatientIdentityFactory(personal_identity_number="19891223-2389")
    assert "2389" not in str(refused.value)


def test_leak_6_a_subquery_must_compare_digests():
    """``__in`` with a subquery of sealed values could never match: it is refused, and the
    digest transform is the way."""
    identity = PatientIdentityFactory(personal_identity_number=PROTECTED_NUMBER)
    PatientRelationFactory(patient=identity.patient, related_identity_number=PROTECTED_NUMBER)
    relations = PatientRelation.objects.values("related_identity_number")
    with pytest.raises(FieldError, match="digest"):
        list(PatientIdentity.objects.filter(personal_identity_number__in=relations))
    found = PatientIdentity.objects.filter(
        personal_identity_number__digest__in=PatientRelation.objects.values(
            "related_identity_number__digest"
        )
    )
    assert [row.pk for row in found] == [identity.pk]
    field = PatientIdentity._meta.get_field("personal_identity_number")
    assert isinstance(field, EncryptedNumberField)
    with pytest.raises(FieldError):
        list(PatientIdentity.objects.filter(**{"personal_identity_number__startswith": "1989"}))


def test_leak_6_issued_documents_and_letters_cannot_be_deleted_or_rewritten(world):
    """Skipping the pgtrigger keep and immutability triggers (``pgtrigger.ignore``, a setting
    any session may set) does not help: the application role has no privilege to delete a
    document or a letter or to rewrite one, and a document's content only ever becomes
    nothing (house rule 7, PRINT-3)."""
    skipped = (
        "protection.Document:document_kept",
        "protection.Document:document_immutable",
        "protection.Letter:letter_kept",
        "protection.Letter:letter_immutable",
    )
    attempts = [
        ('DELETE FROM "protection_document"', "permission denied"),
        ('DELETE FROM "protection_letter"', "permission denied"),
        ("UPDATE protection_letter SET subject = 'skrivet om'", "permission denied"),
        ("UPDATE protection_document SET content_sha256 = repeat('0', 64)", "permission denied"),
        ("UPDATE protection_document SET content = 'x'", "only withdrawn"),
        # Another token under the same key: a rewrite, not a key rotation.
        ("UPDATE protection_document SET content = content || 'x'", "only withdrawn"),
        ("UPDATE protection_letter SET body = body || 'x'", "letter cannot be changed"),
        ("UPDATE protection_letter SET body = 'x'", "letter cannot be changed"),
    ]
    with pgtrigger.ignore(*skipped):
        for sql, refusal in attempts:
            with (
                pytest.raises(DatabaseError, match=refusal),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)
        # What a withdrawal writes is still allowed.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE protection_document SET content = NULL, withdrawn_at = now()")
            assert cursor.rowcount == 2


def test_leak_6_key_rotation_moves_documents_and_letters_to_the_new_key(world):
    """The kept papers do not stop key rotation: their text moves to the new key unchanged."""
    letter = Letter.objects.get()
    before = (letter.body, [bytes(d.content or b"") for d in Document.objects.order_by("pk")])
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST1_FIRST):
        call_command("rotate_encryption_key", stdout=StringIO())
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT body FROM protection_letter UNION ALL "
                "SELECT content FROM protection_document"
            )
            assert {token.partition(":")[0] for (token,) in cursor.fetchall()} == {"test1"}
        letter.refresh_from_db()
        after = (letter.body, [bytes(d.content or b"") for d in Document.objects.order_by("pk")])
    assert after == before

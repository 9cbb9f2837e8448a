"""Row-level security on the identifying tables: the protection floor's side of it.

This app's migration 0004_row_level_security guards ``patients_patientidentity`` and
``patients_patientrelation`` in PostgreSQL. A row is visible, and may be changed, only when

- the transaction's ``hjm.context`` is ``'system'`` (:func:`system_context`), or
- every protected patient guarding it is open to the user named by ``hjm.user_id`` (set for
  each request by ``protection.middleware``) through a grant or an emergency access in force.
  The guards of a patient are the patient if protected, and the protected patients linked to
  it by the register in either direction (PROT-5), as the gate counts them. "In force" there
  is SQL that mirrors ``protection.selectors.grants_in_force``: a change to one is a change to
  the other.

So a query that forgets the gate still returns no protected identity: an identity the policy
hides is simply absent, and the gate shows the masked card for a patient whose identity it
cannot read. What the gate must know about rows it may not read comes from functions that
return no identifying data (they run as the tables' owner): :class:`PatientIdForNumber` and
:func:`relation_kind_counts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.contrib.postgres.fields import ArrayField
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BigIntegerField, Func, Value

from patients.dbcontext import SYSTEM, db_context
from patients.fields import EncryptedNumberField
from patients.models import PatientIdentity


@contextmanager
def system_context(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """See every patient for the length of one transaction (or savepoint).

    Only for system jobs that must: the Navet import, key rotation, the import benchmark. Code
    that acts for a user never uses it; it goes through the gate.
    """
    with db_context(SYSTEM, using=using):
        yield


class PatientIdForNumber(Func):
    """The internal id of the patient with this canonical personnummer or samordningsnummer
    (or, with ``reserve_number``, reservnummer), whether or not the asking user may see who it
    is; NULL when there is none. Nothing else of the patient comes out of it.

    For the gate's search: a protected patient found by number gets the masked card and a
    denied access entry, not "no match" (ACCESS-1, AUDIT-1). Use it as a filter value,
    ``Patient.objects.filter(pk=PatientIdForNumber(number))``, to keep the search one query.
    The database is given the number's keyed digest, never the number (LEAK-6).
    """

    function = "hjm_patient_id_for_number"
    output_field = BigIntegerField()

    def __init__(self, number: str, *, reserve_number: bool = False) -> None:
        field = PatientIdentity._meta.get_field(
            "reserve_number" if reserve_number else "personal_identity_number"
        )
        assert isinstance(field, EncryptedNumberField)
        super().__init__(Value(field.digest(number)), Value(reserve_number))


def relation_kind_counts(patient_id: int) -> list[dict[str, object]]:
    """How many register relations of each kind the patient has, ``[{"kind", "count"}]``.

    For the protection administrator deciding a grant (ACCESS-3), who sees the linked persons
    as counts, never as numbers, and usually holds no grant that would open the rows.
    """
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT relation_kind, relations FROM hjm_patient_relation_kinds(%s) "
            "ORDER BY relation_kind",
            [patient_id],
        )
        return [{"kind": kind, "count": count} for kind, count in cursor.fetchall()]


def patient_guard_ids(patient_id: int) -> list[int]:
    """The protected patients guarding this one, as the gate counts them (the patient if
    protected, the protected patients the register links it to, PROT-5), read by
    ``hjm_patient_guards`` whoever asks: for rules that must hold for a user who cannot open
    the patient (PRESC-2 on a phone order, a task). Internal ids only; empty for an ordinary
    patient."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT hjm_patient_guards(%s) ORDER BY 1", [patient_id])
        return [guard for (guard,) in cursor.fetchall()]


class PatientGuards(Func):
    """:func:`patient_guard_ids` of the row's patient as an annotation, ordered the same way:
    ``Patient.objects.annotate(guard_ids=PatientGuards("pk"))``. The gate reads the patient and
    its guards in one statement this way (issue 16), one round trip fewer on every patient read.
    The function restores the caller's ``hjm.context`` before it returns, so row-level security
    on the rest of the statement sees the user, as it does when the guards are read apart."""

    template = "ARRAY(SELECT hjm_patient_guards(%(expressions)s) ORDER BY 1)"
    output_field = ArrayField(BigIntegerField())


def patient_guard_ids_many(patient_ids: Iterable[int]) -> dict[int, list[int]]:
    """:func:`patient_guard_ids` of many patients in one statement (a wave's pick list concerns
    hundreds): each patient's guards by id, empty for an ordinary patient."""
    ids = sorted(set(patient_ids))
    guards: dict[int, list[int]] = {pk: [] for pk in ids}
    if not ids:
        return guards
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT p, g FROM unnest(%s::bigint[]) AS p, LATERAL hjm_patient_guards(p) AS g "
            "ORDER BY 1, 2",
            [ids],
        )
        for patient_id, guard in cursor.fetchall():
            guards[patient_id].append(guard)
    return guards

"""A patient as a label for this user: who they are where the user may see it, else masked.

Lists and headings name a patient by name and personnummer first and the internal reference
second; a patient the user may not see now is "Skyddade personuppgifter" and the birth year,
nothing else (ACCESS-1), not even the reference, as the masked card. The decision is the gate's
(``decide_for_guards_many``): a protected patient, or one the register links to one (PROT-5),
is named only to a user holding a grant or an emergency access in force who confirmed the
password within the step-up window (ACCESS-4). Row-level security agrees: an identity it hides
is absent, and the label is masked.

Batch-friendly: a page of any length costs the same queries (the guards in one statement, the
user's grants in one when anyone is guarded, the patients with their identities in one, and one
INSERT into the access log). Every row is an access to patient data and is logged (AUDIT-1):
one entry per row, naming the row's object (the prescription, the order, the document). A name
shown is an allowed read; a masked label is logged as the gate logs a masked read, denied
(there is no outcome of its own for "listed, masked"), so the review shows it as the gate's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from django.conf import settings

from patients.models import AccessAction, AccessOutcome, Patient, PatientIdentity
from patients.presenters import PatientCard, full_card, masked_card
from patients.services import access_entries_record_each
from protection.gate import AccessContext, Decision, decide_for_guards_many
from protection.rls import patient_guard_ids_many


def patient_labels_for_user(
    *, ctx: AccessContext, rows: Iterable[tuple[int, str]], object_type: str
) -> dict[int, PatientCard]:
    """Each patient's card as this user may see it now, by patient id: the full card or the
    masked one. ``rows`` are the page's (patient id, object id) pairs; each pair whose patient
    is named is logged as a read of ``object_type`` with that id."""
    rows = list(rows)
    guards = patient_guard_ids_many(patient_id for patient_id, _ in rows)
    if not guards:
        return {}
    decisions = decide_for_guards_many(ctx, guards)
    patients = Patient.objects.select_related("home_region", "identity").filter(pk__in=guards)
    cards: dict[int, PatientCard] = {}
    shown: dict[int, Patient] = {}
    patients_by_id: dict[int, Patient] = {}
    for patient in patients:
        patients_by_id[patient.pk] = patient
        identity = _identity(patient)
        if decisions[patient.pk] is Decision.FULL and identity is not None:
            cards[patient.pk] = replace(
                full_card(patient, identity, own_county_code=settings.REGION_COUNTY_CODE),
                guarded=bool(guards[patient.pk]),
            )
            shown[patient.pk] = patient
        else:
            cards[patient.pk] = masked_card(patient)
    # AUDIT-1: every row logged, in one INSERT; a masked row as the gate logs a masked read.
    entries = [
        (
            patients_by_id[patient_id],
            object_id,
            AccessOutcome.ALLOWED if patient_id in shown else AccessOutcome.DENIED,
        )
        for patient_id, object_id in dict.fromkeys(rows)
        if patient_id in patients_by_id
    ]
    if entries:
        access_entries_record_each(
            actor=ctx.actor,
            action=AccessAction.READ,
            object_type=object_type,
            entries=entries,
        )
    return cards


def _identity(patient: Patient) -> PatientIdentity | None:
    # Row-level security hides the identity of a patient the user may not see: fail closed.
    try:
        identity: PatientIdentity = patient.identity
    except PatientIdentity.DoesNotExist:
        return None
    return identity

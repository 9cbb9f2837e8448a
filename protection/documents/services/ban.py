"""The printing ban (PRINT-1, PRINT-2, LETTER-1): may a document of a kind be made about a
patient, and on what route. Asked at the request (as the requester, with the gate's decision),
in the worker (against the protection now) and at the download.

Messages are for users (Swedish through gettext) and name job numbers and internal references
only (LEAK-1/2). They are stored untranslated and shown translated: the worker has no user
language, the page has.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from patients.freetext import identity_words, mentions_any
from patients.identity import contains_identity_number
from patients.models import AccessAction, AccessOutcome, Patient, PatientIdentity
from patients.services import Actor, access_entries_record
from protection.documents import kinds
from protection.gate import (
    AccessContext,
    Decision,
    decide_for_guards,
    decide_for_guards_many,
)
from protection.models import DocumentJob, DocumentJobPatient, DocumentRoute
from protection.refusals import Denial, Refusal
from protection.rls import patient_guard_ids, patient_guard_ids_many

REFUSED_PROTECTED = gettext_noop(
    "The document concerns a patient with protected identity. Such documents are never "
    "printed or made into PDFs."
)
REFUSED_FORWARDABLE = gettext_noop(
    "If it is to be forwarded to another principal, give the receiver and the reason."
)
REFUSED_RESERVE_NUMBER = gettext_noop(
    "The patient is known only by a reservnummer. Skatteverket's forwarding service finds a "
    "person by personnummer or samordningsnummer only, so no forwarding letter can be made: "
    "contact the patient through the prescriber instead."
)
REFUSED_NOT_VISIBLE = gettext_noop(
    "You cannot see who this patient is, so you cannot make a document about them."
)
REFUSED_NAMES_PERSON = gettext_noop(
    "The document would name a patient with protected identity. Papers that move goods name "
    "only the order number, the prescriber's unit and the prescriber."
)
# What the requester of a paper that moves goods reads when it is refused or withdrawn: never
# why, since "a patient with protected identity" beside an order number is the very link such a
# paper must not make (PRINT-1). Asked for again, it is made in the form the order needs now.
MAKE_AGAIN = gettext_noop("This paper has to be made again: ask for it anew.")


def shown_reason(kind: kinds.DocumentKind, why: str) -> str:
    """The reason a refused or withdrawn job shows its requester (a msgid)."""
    return MAKE_AGAIN if kind.identity_free else why


class DocumentError(Exception):
    """A request the rules refuse; the message tells the user what to do instead."""


class DocumentRefused(DocumentError, Refusal):
    """PRINT-1 (or LETTER-1): the document may not be made. Its denied *print* entries (one per
    refused patient) are written by ``protection.refusals.refusals_kept`` at the service's edge,
    so they are kept whatever transaction the refusal rolls back (AUDIT-1)."""


def subject_guards(patient: Patient, identity: PatientIdentity | None) -> list[int]:
    """The protected patients guarding this one, counted by ``hjm_patient_guards`` whoever
    asks, as the gate counts them (a relation row-level security hides from the asking user
    still guards); none to count when row-level security hid the identity, which the route
    decides on its own."""
    return patient_guard_ids(patient.pk) if identity is not None else []


def subjects_guards(
    subjects: Sequence[tuple[Patient, PatientIdentity | None]],
) -> dict[int, list[int]]:
    """:func:`subject_guards` of many patients (with their identities as read) in one
    statement: ``hjm_patient_guards`` counts the same guards as the gate, whoever asks, so a
    relation row-level security hides from the requester still guards (never fewer)."""
    guards = patient_guard_ids_many(
        patient.pk for patient, identity in subjects if identity is not None
    )
    return {
        patient.pk: guards.get(patient.pk, []) if identity is not None else []
        for patient, identity in subjects
    }


def subjects_decisions(
    ctx: AccessContext,
    identities: dict[int, PatientIdentity | None],
    guards: dict[int, list[int]],
) -> dict[int, Decision]:
    """:func:`subject_decision` of many patients, with one read of the requester's grants."""
    decided = decide_for_guards_many(ctx, guards)
    return {pk: Decision.MASKED if identities.get(pk) is None else decided[pk] for pk in guards}


def subject_decision(
    ctx: AccessContext, identity: PatientIdentity | None, guards: list[int]
) -> Decision:
    """The gate's answer for the requester (``decide``) from guards already counted, so the
    request and the download count them once per patient."""
    return Decision.MASKED if identity is None else decide_for_guards(ctx, guards)


def route_for(
    *,
    kind: kinds.DocumentKind,
    identity: PatientIdentity | None,
    guards: list[int],
    decision: Decision | None,
    forwarding: bool,
) -> tuple[str | None, str]:
    """PRINT-1/2, LETTER-1 for one patient: (route, "") or (None, the refusal's msgid).

    ``guards`` are the patient's (:func:`subject_guards`). ``decision`` is the gate's answer
    for the requester, or None in the worker, where what counts is the protection now (the
    worker asks on its own whether the requester's grant is still in force, since it has no
    session to step up).
    """
    if kind.identity_free:
        # PRINT-1: a paper that moves goods is made for anyone allowed the kind, but about a
        # patient the requester may not see in full, or who is guarded, only without identity.
        hidden = identity is None or (decision is not None and decision is not Decision.FULL)
        if hidden or guards:
            return DocumentRoute.IDENTITY_FREE, ""
        return DocumentRoute.ORDINARY, ""
    if identity is None:  # hidden by row-level security: protected, or linked to a protected
        return None, REFUSED_NOT_VISIBLE if decision is not None else REFUSED_PROTECTED
    if decision is not None and decision is not Decision.FULL:
        return None, REFUSED_PROTECTED
    if not guards:
        # An unprotected patient is on the ordinary route even when the document is forwarded
        # (PRINT-2): should the patient become protected, PRINT-3 withdraws it like any other.
        return DocumentRoute.ORDINARY, ""
    if kind.letter:
        # LETTER-1 for the protected patient and the persons linked to them (PROT-5): the
        # letter carries no address and, on paper, travels through the forwarding service.
        if not identity.personal_identity_number:
            return None, REFUSED_RESERVE_NUMBER
        return DocumentRoute.FORWARDING_LETTER, ""
    if forwarding and kind.forwarding_allowed:
        # PRINT-2: the reason is on record, and the document stays (it was made to be sent).
        return DocumentRoute.FORWARDED, ""
    return None, REFUSED_PROTECTED


def refusal_text(msgid: str, kind: kinds.DocumentKind) -> str:
    text = _(msgid)
    if msgid == REFUSED_PROTECTED and kind.forwarding_allowed:
        text = f"{text} {_(REFUSED_FORWARDABLE)}"
    return text


def subject_refusal(
    *,
    job: DocumentJob,
    kind: kinds.DocumentKind,
    subject: DocumentJobPatient,
    identity: PatientIdentity | None,
    guards: list[int],
    decision: Decision | None,
) -> str:
    """PRINT-1 again for one patient of an existing job, in the worker (``decision`` None) or
    at the download: the refusal's msgid, or "" when the document may still be made or handed
    out. A patient asked for on the ordinary route and protected since is refused: the
    snapshot taken then names them."""
    route, why = route_for(
        kind=kind,
        identity=identity,
        guards=guards,
        decision=decision,
        forwarding=bool(job.forward_reason),
    )
    if route is None:
        return why
    if subject.route == DocumentRoute.ORDINARY and route != DocumentRoute.ORDINARY:
        return REFUSED_PROTECTED
    return ""


def snapshot_names_person(
    snapshot: Any, identity: PatientIdentity | None, *, text: str | None = None
) -> bool:
    """PRINT-1 in the worker, for a patient on the identity-free route: whether the stored
    snapshot carries an identity number, the patient's name or street address. The builder was
    not given the identity; this is the second line, should it have read it anyway."""
    # ``text``: the snapshot already serialised, when asked for each of many patients.
    text = json.dumps(snapshot, ensure_ascii=False) if text is None else text
    if contains_identity_number(text):
        return True
    if identity is None:
        return False
    numbers = [n for n in (identity.personal_identity_number, identity.reserve_number) if n]
    if any(number in text for number in numbers):
        return True
    return mentions_any(text, identity_words(identity, addresses=True))


def print_denials(
    actor: Actor, patients: Sequence[Patient], *, object_type: str, id_: str
) -> list[Denial]:
    """The *print* entries of a document about ``patients`` (AUDIT-1), as the denials a
    ``DocumentRefused`` carries; :func:`audit_print` writes them with another outcome."""
    return [
        Denial(
            actor=actor,
            action=AccessAction.PRINT,
            patient=patient,
            object_type=object_type,
            object_id=id_,
        )
        for patient in patients
    ]


def audit_print(
    actor: Actor, patients: Sequence[Patient], outcome: AccessOutcome, *, object_type: str, id_: str
) -> None:
    """AUDIT-1: one *print* entry per patient the document concerns, written now (in one
    INSERT)."""
    access_entries_record(
        actor=actor,
        action=AccessAction.PRINT,
        outcome=outcome,
        patients=patients,
        object_type=object_type,
        object_id=id_,
    )

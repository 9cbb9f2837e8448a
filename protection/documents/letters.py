"""Letters to patients (LETTER-1..4), made through the document pipeline.

- LETTER-3: digital mailbox first where the patient has one; e-mail only at the person's own
  recorded request; otherwise paper. The subject never carries personal data.
- LETTER-1/2: paper to a protected patient goes through Skatteverket's forwarding service. The
  PDF holds the letter, an inner-envelope sheet (the region's logo, the sending
  administration, the full personnummer or samordningsnummer; never a reservnummer) and an
  outer-envelope sheet with only the forwarding address: no sender, no return address, no
  window-envelope layout. Letters without a registered-mail requirement that go to the same
  forwarding address share one outer envelope; a registered letter travels alone.
- LETTER-4: a parcel through the forwarding service is at most 20 kg, 1 m long and 2.5 m in
  length plus girth; anything larger goes to the prescriber's unit.
- Paper to an ordinary patient is an ordinary letter to the registered address.

Sending digitally or by e-mail is an integration point that is not connected yet: such a letter
is recorded with its channel and its PDF is made, and the page says it waits for sending.
Issued letters never change (a database trigger); a correction is a new letter.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patients.freetext import mentions_patient
from patients.identity import contains_identity_number
from patients.models import Patient, PatientIdentity, Region
from patients.presenters import full_card
from protection.documents import kinds
from protection.documents.services import DocumentError, document_request
from protection.gate import AccessContext
from protection.models import DocumentJob, DocumentRoute, Letter, LetterChannel
from protection.permissions import holds_role_permission

LETTER_KIND = "protection.letter"
LETTER_PERMISSION = "protection.add_letter"
# Skatteverket's forwarding address (seed 000 §3.3), used unless the register gives the person
# a special postal address.
FORWARDING_ADDRESS = ("Skatteverkets förmedlingsuppdrag", "Box 2820", "403 20 Göteborg")


@dataclass(frozen=True)
class LetterTemplate:
    code: str
    label: str | Promise
    closing: str | Promise


LETTER_TEMPLATES = {
    template.code: template
    for template in (
        LetterTemplate(
            "general", gettext_lazy("Letter"), gettext_lazy("Contact us if you have questions.")
        ),
        LetterTemplate(
            "fitting",
            gettext_lazy("Appointment for a fitting"),
            gettext_lazy("Welcome! Contact us if the time does not suit you."),
        ),
        LetterTemplate(
            "return",
            gettext_lazy("Return of a device"),
            gettext_lazy("Contact your prescriber to book the collection."),
        ),
    )
}


def letter_channel(
    *, has_digital_mailbox: bool, email_requested: bool, wants_email: bool, protected: bool
) -> LetterChannel:
    """LETTER-3: digital first; e-mail only when the person asked for it; else paper, through
    Skatteverket for a protected person (LETTER-1)."""
    if has_digital_mailbox:
        return LetterChannel.DIGITAL
    if wants_email:
        if not email_requested:
            raise DocumentError(
                _("E-mail: letters go by e-mail only when the person has asked for it.")
            )
        return LetterChannel.EMAIL
    return LetterChannel.FORWARDING if protected else LetterChannel.POST


def subject_check(subject: str, identity: PatientIdentity | None) -> str:
    """LETTER-3, LEAK-2: a subject carries no personal data: no identity number, and nothing
    of the patient's own (name, number, address, phone, e-mail), by the shared checker."""
    subject = subject.strip()
    if not subject:
        raise DocumentError(_("Subject: write a subject."))
    if contains_identity_number(subject):
        raise DocumentError(_("Subject: no personnummer in the subject."))
    if identity is not None and mentions_patient(subject, identity):
        raise DocumentError(_("Subject: no name or address of the patient in the subject."))
    return subject


# --- LETTER-4 -------------------------------------------------------------------------------

MAX_PARCEL_KG = Decimal("20")
MAX_PARCEL_LENGTH_M = Decimal("1")
MAX_PARCEL_LENGTH_PLUS_GIRTH_M = Decimal("2.5")


class ParcelRoute(enum.Enum):
    FORWARDING = "forwarding"  # through Skatteverket's forwarding service
    PRESCRIBER_UNIT = "prescriber_unit"  # too large: to the prescriber's unit (PRESC-2)


def parcel_route(*, weight_kg: Decimal, length_m: Decimal, girth_m: Decimal) -> ParcelRoute:
    """LETTER-4: whether a parcel for a protected person may go through the forwarding service.
    The limits are inclusive; the dimensions are the catalogue's, given by the caller."""
    if weight_kg < 0 or length_m < 0 or girth_m < 0:
        raise ValueError("parcel dimensions cannot be negative")
    fits = (
        weight_kg <= MAX_PARCEL_KG
        and length_m <= MAX_PARCEL_LENGTH_M
        and length_m + girth_m <= MAX_PARCEL_LENGTH_PLUS_GIRTH_M
    )
    return ParcelRoute.FORWARDING if fits else ParcelRoute.PRESCRIBER_UNIT


# --- LETTER-1: envelopes --------------------------------------------------------------------


@dataclass(frozen=True)
class EnvelopeItem:
    key: int
    registered: bool
    address: tuple[str, ...]


def envelope_plan(items: Sequence[EnvelopeItem]) -> list[list[EnvelopeItem]]:
    """LETTER-1: which inner letters share an outer envelope. Letters to the same forwarding
    address share one; a registered letter travels alone. In the order given."""
    envelopes: list[list[EnvelopeItem]] = []
    shared: dict[tuple[str, ...], list[EnvelopeItem]] = {}
    for item in items:
        if item.registered:
            envelopes.append([item])
            continue
        envelope = shared.get(item.address)
        if envelope is None:
            envelope = shared[item.address] = []
            envelopes.append(envelope)
        envelope.append(item)
    return envelopes


def address_lines(address: dict[str, Any] | None) -> list[str]:
    """A Swedish postal address as the lines of an envelope."""
    if not address:
        return []
    lines = [str(address[key]) for key in ("care_of", "street1", "street2") if address.get(key)]
    postal_code = str(address.get("postal_code") or "")
    if len(postal_code) == 5 and postal_code.isdigit():
        postal_code = f"{postal_code[:3]} {postal_code[3:]}"
    city = str(address.get("city") or "")
    if postal_code or city:
        lines.append(f"{postal_code} {city}".strip())
    return lines


def forwarding_address(identity: PatientIdentity) -> tuple[str, ...]:
    """LETTER-1: the person's special postal address from the register, else Skatteverket's."""
    special = address_lines(identity.special_postal_address)
    return tuple(special) if special else FORWARDING_ADDRESS


# --- issuing --------------------------------------------------------------------------------


def letters_issue(
    *,
    ctx: AccessContext,
    patients: Sequence[Patient],
    template: str,
    subject: str,
    body: str,
    registered: bool = False,
    wants_email: bool = False,
) -> DocumentJob:
    """Issue one letter to each patient, made into one print-ready PDF (one job)."""
    if not holds_role_permission(ctx.user, LETTER_PERMISSION):
        raise DocumentError(_("Your role does not send letters to patients."))
    unit_id = ctx.actor.unit_id
    if unit_id is None:
        raise DocumentError(_("Sending unit: you must work for a unit to send letters."))
    if template not in LETTER_TEMPLATES:
        raise DocumentError(_("Template: choose one of the letter templates."))
    body = body.strip()
    if not body:
        raise DocumentError(_("Text: write the letter."))
    planned: list[tuple[Patient, str, bool]] = []
    for patient in patients:
        # As the user (row-level security): a hidden identity is refused by document_request.
        identity = PatientIdentity.objects.filter(patient_id=patient.pk).first()
        checked = subject_check(subject, identity)
        email_requested = bool(identity and identity.email and identity.email_requested_at)
        # Refused here, before anything is recorded, when e-mail was not asked for.
        letter_channel(
            has_digital_mailbox=patient.has_digital_mailbox,
            email_requested=email_requested,
            wants_email=wants_email,
            protected=patient.is_protected,
        )
        planned.append((patient, checked, email_requested))

    def record(job: DocumentJob) -> None:
        # The channel follows the route the printing ban gave each patient: paper to a patient
        # whose guard set is non-empty (protected, or linked to a protected person: PROT-5)
        # goes through the forwarding service (LETTER-1), never to an address.
        routes = dict(job.subjects.values_list("patient_id", "route"))
        Letter.objects.bulk_create(
            Letter(
                patient=patient,
                unit_id=unit_id,
                created_by=ctx.user,
                template=template,
                subject=checked,
                body=body,
                registered=registered,
                channel=letter_channel(
                    has_digital_mailbox=patient.has_digital_mailbox,
                    email_requested=email_requested,
                    wants_email=wants_email,
                    protected=routes[patient.pk] == DocumentRoute.FORWARDING_LETTER,
                ),
                job=job,
            )
            for patient, checked, email_requested in planned
        )

    return document_request(
        ctx=ctx, kind=LETTER_KIND, patients=[p for p, _s, _e in planned], on_created=record
    )


# --- the document ---------------------------------------------------------------------------


def _shown_number(number: str) -> str:
    return f"{number[:8]}-{number[8:]}"


def letter_snapshot(request: kinds.SnapshotRequest) -> dict[str, Any]:
    """The letter kind's snapshot, taken when the letters are issued, in print order: each
    letter, and for paper through Skatteverket its inner-envelope sheet, then the
    outer-envelope sheet of each envelope."""
    routes = {subject.patient_id: subject.route for subject in request.subjects}
    letters = list(request.job.letters.select_related("unit", "patient__identity").order_by("pk"))
    region = Region.objects.filter(county_code=settings.REGION_COUNTY_CODE).first()
    region_name = region.name if region else ""
    today = timezone.localdate().isoformat()
    sheets: dict[int, dict[str, Any]] = {}
    for letter in letters:
        identity = letter.patient.identity
        card = full_card(letter.patient, identity, own_county_code=settings.REGION_COUNTY_CODE)
        forwarding = letter.channel == LetterChannel.FORWARDING
        # LETTER-1: no address of a patient whose guard set is non-empty (protected, or linked
        # to a protected person: PROT-5), whatever the channel; only the forwarding service's
        # envelope sheets carry an address, the forwarding one.
        guarded = routes.get(letter.patient_id) != DocumentRoute.ORDINARY
        sheets[letter.pk] = {
            "letter": {
                "pk": letter.pk,
                "subject": letter.subject,
                "body": letter.body,
                "registered": letter.registered,
            },
            "closing": str(LETTER_TEMPLATES[letter.template].closing),
            "name": card.name,
            "date": today,
            "unit_name": letter.unit.name,
            "region_name": region_name,
            "forwarding": forwarding,
            # LETTER-1: only on the inner envelope, and only a personnummer or samordningsnummer
            # (the route was refused for a patient known only by reservnummer).
            "identity_number": _shown_number(identity.personal_identity_number or "")
            if forwarding
            else "",
            # An ordinary letter carries the registered address; any other none.
            "address": [] if forwarding or guarded else address_lines(identity.registered_address),
            "forwarding_address": list(forwarding_address(identity)) if forwarding else [],
        }
    parts: list[dict[str, Any]] = []
    paper = [sheet for sheet in sheets.values() if not sheet["forwarding"]]
    parts += [{"type": "letter", "sheet": sheet} for sheet in paper]
    plan = envelope_plan(
        [
            EnvelopeItem(
                key=sheet["letter"]["pk"],
                registered=sheet["letter"]["registered"],
                address=tuple(sheet["forwarding_address"]),
            )
            for sheet in sheets.values()
            if sheet["forwarding"]
        ]
    )
    for envelope in plan:
        for item in envelope:
            parts.append({"type": "letter", "sheet": sheets[item.key]})
            parts.append({"type": "inner", "sheet": sheets[item.key]})
        parts.append(
            {
                "type": "outer",
                "address": list(envelope[0].address),
                "registered": envelope[0].registered,
                "count": len(envelope),
            }
        )
    return {"parts": parts, "envelopes": len(plan)}


LETTER_DOCUMENT = kinds.DocumentKind(
    code=LETTER_KIND,
    label=gettext_lazy("Letter"),
    template="documents/letter.html",
    build_snapshot=letter_snapshot,
    permission=LETTER_PERMISSION,
    protected_form=kinds.ProtectedForm.FORWARDING_LETTER,
)

"""How a patient is shown. Every page, admin list, export and document goes through here.

A masked card carries the internal reference, the birth year and the protection label, and
nothing else: no name, no number, no region, no address (ACCESS-1, PROT-2, LEAK-1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from patients.models import Patient, PatientIdentity, PatientStatus

PROTECTED_LABEL = _("Protected identity")


@dataclass(frozen=True)
class PatientCard:
    reference: str
    birth_year: int | None
    masked: bool
    protected: bool
    name: str = ""
    identity_number: str = ""
    identity_kind: str | Promise = ""
    age: int | None = None
    home_region: str = ""
    out_of_region: bool = False
    status: str = ""
    status_label: str | Promise = ""
    # The patient is protected or linked by the register to a protected patient (PROT-5), as
    # the gate counted the guards: a guardian shown in full after step-up is not protected
    # but the page still names someone close to a protected child, so it prints only a notice
    # (PRINT-1) and never shows the guardian's registered address.
    guarded: bool = False

    @property
    def protection_label(self) -> str | Promise:
        return PROTECTED_LABEL if self.protected or self.masked else ""


def masked_card(patient: Patient) -> PatientCard:
    return PatientCard(
        reference=patient.reference,
        birth_year=patient.birth_year,
        masked=True,
        protected=patient.is_protected,
        guarded=True,
    )


def _name_in_use(identity: PatientIdentity) -> str:
    """The register's Tilltalsnamnsmarkering: first digit the name in use, second a second part."""
    names: str = identity.given_names
    given = names.split()
    marker = identity.name_in_use_marker
    if marker is None or not given:
        return names
    first, second = divmod(marker, 10)
    if not 1 <= first <= len(given):
        return names
    called = given[first - 1]
    if 1 <= second <= len(given):
        called = f"{called}-{given[second - 1]}"
    return called


def _birth_date(number: str) -> date | None:
    try:
        day = int(number[6:8])
        return date(int(number[:4]), int(number[4:6]), day - 60 if day > 60 else day)
    except ValueError:
        return None


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def full_card(patient: Patient, identity: PatientIdentity, *, own_county_code: str) -> PatientCard:
    number = identity.personal_identity_number
    if number:
        shown_number = f"{number[:8]}-{number[8:]}"
        kind = _("Samordningsnummer") if int(number[6:8]) > 60 else _("Personnummer")
        born = _birth_date(number)
    else:
        shown_number = identity.reserve_number or ""
        kind = _("Reservnummer")
        born = None
    name = " ".join(
        part for part in (_name_in_use(identity), identity.middle_name, identity.surname) if part
    )
    region = patient.home_region
    return PatientCard(
        reference=patient.reference,
        birth_year=patient.birth_year,
        masked=False,
        protected=patient.is_protected,
        name=name,
        identity_number=shown_number,
        identity_kind=kind,
        age=_age(born, timezone.localdate()),
        home_region=region.name if region else "",
        out_of_region=region is not None and region.county_code != own_county_code,
        status=patient.status,
        status_label=PatientStatus(patient.status).label,
    )


def prints_only_notice(cards: Iterable[PatientCard | None]) -> bool:
    """PRINT-1: a page showing any of these cards is about a protected patient (or one linked to
    one, PROT-5, or one hidden from the user) and prints only a notice."""
    return any(
        card is not None and (card.protected or card.masked or card.guarded) for card in cards
    )

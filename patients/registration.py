"""Patients the register does not give (REG-1, REG-2): hand registration and reservnummer.

Writes on the patients floor only. Who may call these, the search for an existing patient
through the gate, and telling the administration unit are the protection floor's
(``protection/services/registration.py``), which sits above the gate.

Errors never carry the number or the name (they end up in logs and on pages).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.identity import IdentityNumber, IdentityNumberError, parse_reserve_number
from patients.models import Patient, PatientIdentity, Region, RegistrationSource

# National reserve id letters (Inera: A-Z without I, O, Q, V, W).
_NATIONAL_LETTERS = "ABCDEFGHJKLMNPRSTUXYZ"
# Attempts at a free random reservnummer before giving up (a collision is already rare).
_GENERATE_ATTEMPTS = 20


class RegistrationError(Exception):
    """A refused registration, with a message the user can act on (names the field)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class HandRegistration:
    """What customer service types in when the register has no hit (the seeds' fields)."""

    given_names: str
    surname: str
    number: IdentityNumber | None = None
    birth_date: date | None = None
    care_of: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    foreign_street: str = ""
    foreign_city: str = ""
    country: str = ""
    municipality_code: str = ""
    phone: str = ""
    home_region: Region | None = None


def _luhn_check_digit(digits: str) -> str:
    total = 0
    for index, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if index % 2 == 0 else 1)
        total += d // 10 + d % 10
    return str((10 - total % 10) % 10)


def _national_candidate(birth_date: date | None) -> str:
    letters = "".join(secrets.choice(_NATIONAL_LETTERS) for _ in range(2))
    sex = secrets.choice(_NATIONAL_LETTERS)  # unknown sex: a letter
    if birth_date is None:
        # Unknown birth date: 00, a running number with MM 20-99 and DD 40-59.
        body = f"00{secrets.randbelow(100):02d}{20 + secrets.randbelow(80):02d}"
        body += f"{40 + secrets.randbelow(20):02d}"
    else:
        body = f"{birth_date.year // 100 + 3:02d}{birth_date:%y%m%d}"
    eleven = body + letters + sex
    expanded = "".join(ch if ch.isdigit() else str(ord(ch)) for ch in eleven)
    return eleven + _luhn_check_digit(expanded)


def _vgr_candidate(birth_date: date | None) -> str:
    if birth_date is None:
        raise RegistrationError(
            _("Birth date: a Västra Götaland reservnummer needs the birth date."),
            field="birth_date",
        )
    letter, digit = secrets.choice((("K", "5"), ("M", "7"), ("X", "8")))
    serial = f"{secrets.randbelow(100):02d}"
    return f"{birth_date:%Y%m%d}{letter}{serial}" + _luhn_check_digit(
        f"{birth_date:%y%m%d}{digit}{serial}"
    )


def _stockholm_candidate(issued_on: date) -> str:
    # 99, the year of issue, six digits (format only: the region publishes no check digit).
    return f"99{issued_on.year:04d}{secrets.randbelow(1_000_000):06d}"


def reserve_number_generate(
    *, formats: Sequence[str], birth_date: date | None, issued_on: date | None = None
) -> IdentityNumber:
    """REG-2: a new reservnummer in the region's first configured format, checked by the same
    parser every other path uses (IDENT-2). Not yet taken by anyone: the caller stores it under
    the unique constraint, which is the final word."""
    if not formats:
        raise RegistrationError(_("No reserve number format is configured."))
    name = formats[0]
    issued_on = issued_on or timezone.localdate()
    for _attempt in range(_GENERATE_ATTEMPTS):
        if name == "national":
            candidate = _national_candidate(birth_date)
        elif name == "vgr":
            candidate = _vgr_candidate(birth_date)
        elif name == "stockholm":
            candidate = _stockholm_candidate(issued_on)
        else:
            raise RegistrationError(_("No reserve number format is configured."))
        number = parse_reserve_number(candidate, formats=[name])
        if not PatientIdentity.objects.filter(reserve_number=number.value).exists():
            return number
    raise RegistrationError(_("No free reservnummer was found; try again."))


def _swedish_address(data: HandRegistration) -> dict[str, str | None] | None:
    if not (data.street or data.postal_code or data.city):
        return None
    # The register's keys (patients.navet.parser.records.SwedishAddress), so cards read both.
    return {
        "care_of": data.care_of or None,
        "street1": None,
        "street2": data.street or None,
        "postal_code": data.postal_code or None,
        "city": data.city or None,
    }


def _foreign_address(data: HandRegistration) -> dict[str, str | None] | None:
    if not (data.foreign_street or data.foreign_city or data.country):
        return None
    return {
        "street1": data.foreign_street or None,
        "street2": data.foreign_city or None,
        "street3": None,
        "country": data.country or None,
    }


@transaction.atomic
def patient_register_by_hand(
    *, data: HandRegistration, registered_by_id: int, reserve_formats: Sequence[str]
) -> Patient:
    """REG-1: a patient the register does not give. With no number, a reservnummer is issued
    in the region's format (REG-2). Name, address and phone are stored encrypted like the
    register's (LEAK-3, LEAK-6). A number that already belongs to a patient is refused (the
    unique digest decides, whoever can see that patient), so there is never a duplicate."""
    if not data.given_names.strip() or not data.surname.strip():
        field = "given_names" if not data.given_names.strip() else "surname"
        raise RegistrationError(_("Enter the patient's name."), field=field)
    number = data.number
    if number is None:
        number = reserve_number_generate(formats=reserve_formats, birth_date=data.birth_date)
    if data.birth_date is not None and number.birth_date not in (None, data.birth_date):
        raise RegistrationError(
            _("Birth date: it does not match the date in the identity number."),
            field="birth_date",
        )
    birth = number.birth_date or data.birth_date
    reserve = number.kind == "reservnummer"
    try:
        with transaction.atomic():
            patient = Patient.objects.create(
                birth_year=birth.year if birth else None,
                home_region=data.home_region,
                registration_source=RegistrationSource.HAND,
                hand_registered_by_id=registered_by_id,
                hand_registered_at=timezone.now(),
            )
            PatientIdentity.objects.create(
                patient=patient,
                personal_identity_number=None if reserve else number.value,
                reserve_number=number.value if reserve else None,
                reserve_number_format=number.reserve_format or "",
                given_names=data.given_names.strip(),
                surname=data.surname.strip(),
                # The encrypted JSON field takes a dict; its stubs know only TextField's types.
                registered_address=_swedish_address(data),  # type: ignore[misc]
                foreign_address=_foreign_address(data),
                municipality_code=data.municipality_code.strip() or None,
                phone=data.phone.strip() or None,
            )
    except IntegrityError:
        raise RegistrationError(
            _("Identity number: a patient with this number is already registered."),
            field="number",
        ) from None
    return patient


def another_patients_number() -> str:
    """The one refusal of a number another patient holds, whoever that patient is (ACCESS-1:
    a protected holder is refused in the same words as an ordinary one)."""
    return _(
        "Identity number: it belongs to another patient; the two must be merged by the "
        "administration unit."
    )


@transaction.atomic
def identity_numbers_link(
    *,
    patient_id: int,
    personal_number: IdentityNumber | None,
    reserve_number: IdentityNumber | None,
) -> PatientIdentity:
    """REG-2: record a reservnummer on a patient with a personnummer, or the personnummer on a
    patient known by a reservnummer, so both numbers find the one patient and the device
    history follows the person. A number already recorded is never replaced here (that is
    the register's or a person's decision), and a number that is another patient's is refused:
    merging two patients is done by hand."""
    identity = PatientIdentity.objects.select_for_update().get(patient_id=patient_id)
    if reserve_number is not None:
        if reserve_number.kind != "reservnummer":
            raise RegistrationError(_("Reservnummer: this is not a reservnummer."), field="number")
        if identity.reserve_number is not None:
            raise RegistrationError(_("Reservnummer: the patient already has one."), field="number")
        identity.reserve_number = reserve_number.value
        identity.reserve_number_format = reserve_number.reserve_format or ""
    if personal_number is not None:
        if personal_number.kind == "reservnummer":
            raise RegistrationError(
                _("Personnummer: enter a personnummer or samordningsnummer."), field="number"
            )
        if identity.personal_identity_number is not None:
            raise RegistrationError(_("Personnummer: the patient already has one."), field="number")
        identity.personal_identity_number = personal_number.value
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError:
        raise RegistrationError(another_patients_number(), field="number") from None
    if personal_number is not None and personal_number.birth_date is not None:
        Patient.objects.filter(pk=patient_id, birth_year__isnull=True).update(
            birth_year=personal_number.birth_date.year
        )
    return identity


__all__ = [
    "HandRegistration",
    "IdentityNumberError",
    "RegistrationError",
    "another_patients_number",
    "identity_numbers_link",
    "patient_register_by_hand",
    "reserve_number_generate",
]

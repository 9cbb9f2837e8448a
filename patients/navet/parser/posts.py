"""Reading one ``Folkbokforingspost`` into a ``NavetRecord``, or a ``Rejection`` saying why not.

The element is walked child by child by local tag name (no XPath), so that a file with a default
or prefixed namespace reads the same. A reason names elements, limits and codes only, never a
name, an identity number or an address (LEAK-1).
"""

from __future__ import annotations

import re

from lxml import etree

from patients.identity import IdentityNumberError, canonical_from_register, is_coordination_number
from patients.navet.parser.records import (
    DEREGISTRATION_CODES,
    RELATION_KINDS,
    ForeignAddress,
    NavetRecord,
    Rejection,
    Relation,
    SwedishAddress,
)


class _Reject(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


# Small helpers. Tags are compared by local name: "{ns}Name" -> "Name".


def local_name(tag: object) -> str:
    if not isinstance(tag, str):
        return ""  # not an element (an entity reference, say): matches no name
    return tag[tag.index("}") + 1 :] if tag[:1] == "{" else tag


def element_text(el: etree._Element) -> str | None:
    text = el.text
    if text is None:
        return None
    # An xsi:nil element has no content, so it is None like an empty one.
    return text.strip() or None


def _limit(value: str | None, limit: int, what: str) -> str | None:
    if value is not None and len(value) > limit:
        raise _Reject(f"{what} is longer than {limit} characters")
    return value


def _date(value: str | None, what: str) -> str | None:
    """A register date (YYYYMMDD; an incomplete one has zeros for month or day)."""
    if value is not None and not (len(value) == 8 and value.isascii() and value.isdigit()):
        raise _Reject(f"{what} is not a date (YYYYMMDD)")
    return value


def _lenient_date(value: str | None) -> str | None:
    if value is not None and len(value) == 8 and value.isascii() and value.isdigit():
        return value
    return None


def _flag(value: str | None, what: str) -> bool:
    if value is None or value == "N":
        return False
    if value == "J":
        return True
    raise _Reject(f"{what} is neither J nor N")


# IdentityNumberError codes of canonical_from_register -> reason text.
_IDENTITY_REASONS = {
    "format": "not 12 digits",
    "empty": "empty",
    "century": "invalid century",
    "reserve_number": "a reserve number, not a personnummer,",
    "date": "invalid date",
    "birth_number": "invalid birth number 000",
    "check_digit": "invalid check digit",
}


def _identity_reason(error: IdentityNumberError, where: str) -> str:
    # Built from the error's code only, never from the number (LEAK-1).
    text = _IDENTITY_REASONS.get(error.code)
    if text is None:
        text = "invalid number (" + re.sub(r"[^a-z0-9]+", " ", error.code.lower()).strip() + ")"
    return f"{text} in {where}"


def _canonical(raw: str | None, where: str) -> str:
    if raw is None:
        raise _Reject(f"{where} is empty")
    try:
        return canonical_from_register(raw)
    except IdentityNumberError as error:
        raise _Reject(_identity_reason(error, where)) from None


def leaves(el: etree._Element) -> dict[str, str | None]:
    """Local name -> stripped text (None when empty or nil) of every child of ``el``."""
    out: dict[str, str | None] = {}
    for child in el:
        tag: str = child.tag  # type: ignore[assignment]  # str once parsed
        if tag[0] == "{":
            tag = tag[tag.index("}") + 1 :]
        text = child.text
        out[tag] = (text.strip() or None) if text is not None else None
    return out


def _swedish_address(el: etree._Element, where: str) -> SwedishAddress | None:
    get = leaves(el).get
    care_of = get("CareOf")
    street1 = get("Utdelningsadress1")
    street2 = get("Utdelningsadress2")
    postal_code = get("PostNr")
    city = get("Postort")
    if (
        care_of is None
        and street1 is None
        and street2 is None
        and postal_code is None
        and city is None
    ):
        return None
    if care_of is not None and len(care_of) > 35:
        raise _Reject(f"CareOf in {where} is longer than 35 characters")
    if street1 is not None and len(street1) > 35:
        raise _Reject(f"Utdelningsadress1 in {where} is longer than 35 characters")
    if street2 is not None and len(street2) > 35:
        raise _Reject(f"Utdelningsadress2 in {where} is longer than 35 characters")
    if postal_code is not None and not (
        len(postal_code) == 5 and postal_code.isascii() and postal_code.isdigit()
    ):
        raise _Reject(f"PostNr in {where} is not 5 digits")
    if city is not None and len(city) > 27:
        raise _Reject(f"Postort in {where} is longer than 27 characters")
    return SwedishAddress(care_of, street1, street2, postal_code, city)


def _foreign_address(el: etree._Element) -> ForeignAddress | None:
    get = leaves(el).get
    street1 = _limit(get("Utdelningsadress1"), 35, "Utdelningsadress1 in Utlandsadress")
    street2 = _limit(get("Utdelningsadress2"), 35, "Utdelningsadress2 in Utlandsadress")
    street3 = _limit(get("Utdelningsadress3"), 35, "Utdelningsadress3 in Utlandsadress")
    country = _limit(get("Land"), 35, "Land in Utlandsadress")
    if street1 is None and street2 is None and street3 is None and country is None:
        return None
    return ForeignAddress(street1, street2, street3, country)


def _relations(el: etree._Element) -> tuple[Relation, ...]:
    """Relations; an invalid or missing number keeps the relation with ``identity_number=None``;
    a relation without a known ``Relationstyp`` cannot be interpreted and is left out."""
    result: list[Relation] = []
    for rel in el:
        number = None
        kind = from_date = to_date = None
        for child in rel:
            tag: str = child.tag  # type: ignore[assignment]  # str once parsed
            if tag[0] == "{":
                tag = tag[tag.index("}") + 1 :]
            if tag == "RelationId":
                # PersonNr; FodelsetidNr (a person without personnummer) gives no number.
                raw = leaves(child).get("PersonNr")
                if raw is not None:
                    try:
                        number = canonical_from_register(raw)
                    except IdentityNumberError:
                        number = None
            elif tag == "Relationstyp":
                kind = element_text(child)
            elif tag == "RelationFromdatum":
                from_date = _lenient_date(element_text(child))
            elif tag == "RelationTomdatum":
                to_date = _lenient_date(element_text(child))
        if kind in RELATION_KINDS and local_name(rel.tag) == "Relation":
            result.append(Relation(kind, number, from_date, to_date))
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# One Folkbokforingspost.


def parse_post(
    post: etree._Element, position: int, known_county_codes: frozenset[str]
) -> NavetRecord | Rejection:
    secrecy_raw = protected_raw = post_id = None
    person: etree._Element | None = None
    for child in post:
        tag: str = child.tag  # type: ignore[assignment]  # str once parsed
        if tag[0] == "{":
            tag = tag[tag.index("}") + 1 :]
        if tag == "Personpost":
            person = child
        elif tag == "Sekretessmarkering":
            secrecy_raw = element_text(child)
        elif tag == "SkyddadFolkbokforing":
            protected_raw = element_text(child)
        elif tag == "Arendeuppgift":
            post_id = leaves(child).get("PostId")
    try:
        if post_id is not None and len(post_id) > 16:
            post_id = None  # not echoed back: it is not a PostId
            raise _Reject("PostId is longer than 16 characters")
        if person is None:
            raise _Reject("Personpost is missing")
        return _parse_person(
            person,
            position,
            post_id,
            _flag(secrecy_raw, "Sekretessmarkering"),
            _flag(protected_raw, "SkyddadFolkbokforing"),
            known_county_codes,
        )
    except _Reject as rejected:
        raw_xml = etree.tostring(post, encoding="unicode", with_tail=False)
        return Rejection(
            position,
            post_id,
            rejected.reason,
            raw_xml,
            identity_number=_identity_if_valid(person),
            protection_flagged="J" in (secrecy_raw, protected_raw),
        )


def _identity_if_valid(person: etree._Element | None) -> str | None:
    """The record's own number when it is valid, so a rejected record can still be matched."""
    if person is None:
        return None
    for child in person:
        if local_name(child.tag) == "PersonId":
            for number in child:
                try:
                    return canonical_from_register(element_text(number) or "")
                except IdentityNumberError:
                    return None
    return None


def _parse_person(
    person: etree._Element,
    position: int,
    post_id: str | None,
    confidentiality: bool,
    protected: bool,
    known_county_codes: frozenset[str],
) -> NavetRecord:
    identity: str | None = None
    coordination = False
    referral = None
    given = middle = surname = None
    marker: int | None = None
    county = municipality = registration_date = None
    registered = special = None
    foreign = None
    dereg_code = dereg_date = None
    relations: tuple[Relation, ...] = ()

    for child in person:
        tag: str = child.tag  # type: ignore[assignment]  # str once parsed
        if tag[0] == "{":
            tag = tag[tag.index("}") + 1 :]
        if tag == "PersonId":
            # A choice of PersonNr and TilldelatPersonNrSamordningsNr.
            id_values = leaves(child)
            if "PersonNr" in id_values:
                identity = _canonical(id_values["PersonNr"], "PersonId")
                coordination = is_coordination_number(identity)
            elif "TilldelatPersonNrSamordningsNr" in id_values:
                identity = _canonical(id_values["TilldelatPersonNrSamordningsNr"], "PersonId")
                coordination = True
            else:
                raise _Reject("PersonId has neither PersonNr nor TilldelatPersonNrSamordningsNr")
        elif tag == "Namn":
            get = leaves(child).get
            given = get("Fornamn")
            if given is not None and len(given) > 80:
                raise _Reject("Fornamn is longer than 80 characters")
            surname = get("Efternamn")
            if surname is not None and len(surname) > 60:
                raise _Reject("Efternamn is longer than 60 characters")
            middle = get("Mellannamn")
            if middle is not None and len(middle) > 40:
                raise _Reject("Mellannamn is longer than 40 characters")
            raw = get("Tilltalsnamnsmarkering")
            if raw is not None:
                if not (len(raw) == 2 and raw.isascii() and raw.isdigit() and raw >= "10"):
                    raise _Reject("Tilltalsnamnsmarkering is not a number from 10 to 99")
                marker = int(raw)
        elif tag == "Folkbokforing":
            get = leaves(child).get
            county = get("LanKod")
            if county is not None and len(county) > 2:
                raise _Reject("LanKod is longer than 2 characters")
            municipality = get("KommunKod")
            if municipality is not None and len(municipality) > 2:
                raise _Reject("KommunKod is longer than 2 characters")
            registration_date = _date(get("Folkbokforingsdatum"), "Folkbokforingsdatum")
        elif tag == "Adresser":
            for item in child:
                item_tag: str = item.tag  # type: ignore[assignment]  # str once parsed
                if item_tag[0] == "{":
                    item_tag = item_tag[item_tag.index("}") + 1 :]
                if item_tag == "Folkbokforingsadress":
                    registered = _swedish_address(item, "Folkbokforingsadress")
                elif item_tag == "SarskildPostadress":
                    special = _swedish_address(item, "SarskildPostadress")
                elif item_tag == "Utlandsadress":
                    foreign = _foreign_address(item)
        elif tag == "Relationer":
            relations = _relations(child)
        elif tag == "Avregistrering":
            get = leaves(child).get
            dereg_code = get("AvregistreringsorsakKod")
            if dereg_code is not None and dereg_code not in DEREGISTRATION_CODES:
                raise _Reject(_unknown_code("AvregistreringsorsakKod", dereg_code))
            dereg_date = _date(get("Avregistreringsdatum"), "Avregistreringsdatum")
        elif tag == "HanvisningsPersonNr":
            raw = element_text(child)
            if raw is not None:
                referral = _canonical(raw, "HanvisningsPersonNr")

    if identity is None:
        raise _Reject("PersonId is missing")
    if county is not None and county not in known_county_codes:
        raise _Reject(_unknown_code("LanKod", county, "county code"))
    return NavetRecord(
        position,
        post_id,
        identity,
        coordination,
        referral,
        confidentiality,
        protected,
        given,
        middle,
        surname,
        marker,
        county,
        municipality,
        registration_date,
        registered,
        special,
        foreign,
        dereg_code,
        dereg_date,
        relations,
    )


def _unknown_code(element: str, code: str, noun: str = "code") -> str:
    # A code is not personal data, but only a short plain code is quoted back.
    if len(code) <= 2 and code.isascii() and code.isalnum():
        return f"unknown {noun} {code} in {element}"
    return f"unknown {noun} in {element}"

"""Streaming reader of Skatteverket's population register files (Navet, ``Navetavisering``).

A file becomes a stream of typed records (``NavetRecord``) or rejections (``Rejection``), in file
order. Nothing here touches the database: the caller applies the records and decides what to do
with duplicates (both are yielded, in order), protection changes and so on.

- Streaming: ``lxml.etree.iterparse`` reports only the end of each ``Folkbokforingspost``; the
  post is read by walking its children directly (no XPath), by local tag name so that a file
  with a default or prefixed namespace reads the same, then cleared and detached together with
  the posts before it, so memory stays flat however large the file (a full extract of a large
  region is 1.7 million records, well over a gigabyte).
- A file that is not well-formed (including one cut off in the middle), has a DOCTYPE (Navet
  files have none; refusing it rules out entity tricks) or is not a ``Navetavisering`` raises
  ``NavetFileError`` when the problem is reached; records before it may already have been
  yielded, so the caller applies a file in one transaction. An unreadable file raises
  ``NavetFileError`` too ("cannot read the file: ...").
- A record that cannot be applied is yielded as a ``Rejection`` and the stream goes on: a missing
  or invalid ``PersonId`` or ``HanvisningsPersonNr``, an unknown county code, a value over its
  schema length or of the wrong form (``PostNr``, dates, ``Tilltalsnamnsmarkering``), a flag
  other than J/N, an unknown ``AvregistreringsorsakKod``. The first problem found is the reason.
- Empty and ``xsi:nil`` elements are None (a nil element has no content); text is stripped. An
  absent or nil flag is N, the schema default.
- Relations keep their type and canonical number; a number that is not a valid ``PersonNr``
  (or a ``FodelsetidNr``) gives ``identity_number=None`` without rejecting the record, and a
  relation whose ``Relationstyp`` is not one of the schema's is left out.

LEAK-1: messages and reasons produced here name elements, limits, line numbers and codes only,
never a name, an identity number or an address; lxml's own message (which may quote a piece of
the file) is not passed on, and ``NavetFileError`` is raised without chaining it. The one field
with personal data outside ``NavetRecord`` is ``Rejection.raw_xml`` (the record as delivered, for
the encrypted quarantine), which is kept out of ``repr()``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from lxml import etree

from patients.identity import IdentityNumberError, canonical_from_register, is_coordination_number

__all__ = [
    "FileInfo",
    "ForeignAddress",
    "NavetFileError",
    "NavetRecord",
    "Rejection",
    "Relation",
    "SwedishAddress",
    "iter_records",
    "read_file_info",
]

ROOT_TAG = "Navetavisering"
POSTS_TAG = "Folkbokforingsposter"
POST_TAG = "Folkbokforingspost"
RELATION_KINDS = frozenset({"B", "MO", "FA", "F", "V", "VF", "M", "P"})
DEREGISTRATION_CODES = frozenset({"AV", "UV", "GN", "AN", "AS", "GS", "OB", "TA"})

# Parser options shared by both readers: no DTD, no entity expansion, no network.
_PARSER_OPTIONS: dict[str, Any] = {
    "remove_comments": True,
    "remove_pis": True,
    "remove_blank_text": True,
    "collect_ids": False,
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
}


class NavetFileError(Exception):
    """The file cannot be read as a Navet notification at all (the whole file is refused)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class FileInfo:
    bestallnings_id: str | None
    filnamn: str | None
    filnr: int | None
    effective_date: str | None
    record_count: int | None  # AntalPoster


@dataclass(frozen=True, slots=True)
class SwedishAddress:
    """``Folkbokforingsadress`` or ``SarskildPostadress``."""

    care_of: str | None
    street1: str | None
    street2: str | None
    postal_code: str | None
    city: str | None


@dataclass(frozen=True, slots=True)
class ForeignAddress:
    """``Utlandsadress``."""

    street1: str | None
    street2: str | None
    street3: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class Relation:
    kind: str  # B, MO, FA, F, V, VF, M, P
    identity_number: str | None  # canonical 12 digits for a valid PersonNr, else None
    from_date: str | None
    to_date: str | None


@dataclass(frozen=True, slots=True)
class NavetRecord:
    position: int  # 1-based index of the Folkbokforingspost in the file
    post_id: str | None
    identity_number: str
    coordination_number: bool
    referral_number: str | None  # HanvisningsPersonNr: the person's new number
    confidentiality_marking: bool  # Sekretessmarkering J
    protected_registration: bool  # SkyddadFolkbokforing J
    given_names: str | None
    middle_name: str | None
    surname: str | None
    name_in_use_marker: int | None
    county_code: str | None
    municipality_code: str | None
    registration_date: str | None
    registered_address: SwedishAddress | None
    special_postal_address: SwedishAddress | None
    foreign_address: ForeignAddress | None
    deregistration_code: str | None
    deregistration_date: str | None
    relations: tuple[Relation, ...]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that cannot be applied. ``reason`` never holds a name, an identity number or an
    address (LEAK-1); ``raw_xml`` is the record as delivered, for the encrypted quarantine: it
    holds personal data, so it is left out of ``repr()`` and must never be logged or shown."""

    position: int
    post_id: str | None
    reason: str
    raw_xml: str = field(default="", repr=False)
    # PROT-1 fail-safe: a rejected record that carries a protection flag must still protect the
    # person. Both kept out of repr() for the same reason as raw_xml.
    identity_number: str | None = field(default=None, repr=False)
    protection_flagged: bool = field(default=False, repr=False)


class _Reject(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


# ---------------------------------------------------------------------------------------------
# Small helpers. Tags are compared by local name: "{ns}Name" -> "Name".


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""  # not an element (an entity reference, say): matches no name
    return tag[tag.index("}") + 1 :] if tag[:1] == "{" else tag


def _text(el: etree._Element) -> str | None:
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


def _leaves(el: etree._Element) -> dict[str, str | None]:
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
    get = _leaves(el).get
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
    get = _leaves(el).get
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
                raw = _leaves(child).get("PersonNr")
                if raw is not None:
                    try:
                        number = canonical_from_register(raw)
                    except IdentityNumberError:
                        number = None
            elif tag == "Relationstyp":
                kind = _text(child)
            elif tag == "RelationFromdatum":
                from_date = _lenient_date(_text(child))
            elif tag == "RelationTomdatum":
                to_date = _lenient_date(_text(child))
        if kind in RELATION_KINDS and _local(rel.tag) == "Relation":
            result.append(Relation(kind, number, from_date, to_date))
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# One Folkbokforingspost.


def _parse_post(
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
            secrecy_raw = _text(child)
        elif tag == "SkyddadFolkbokforing":
            protected_raw = _text(child)
        elif tag == "Arendeuppgift":
            post_id = _leaves(child).get("PostId")
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
        if _local(child.tag) == "PersonId":
            for number in child:
                try:
                    return canonical_from_register(_text(number) or "")
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
            id_values = _leaves(child)
            if "PersonNr" in id_values:
                identity = _canonical(id_values["PersonNr"], "PersonId")
                coordination = is_coordination_number(identity)
            elif "TilldelatPersonNrSamordningsNr" in id_values:
                identity = _canonical(id_values["TilldelatPersonNrSamordningsNr"], "PersonId")
                coordination = True
            else:
                raise _Reject("PersonId has neither PersonNr nor TilldelatPersonNrSamordningsNr")
        elif tag == "Namn":
            get = _leaves(child).get
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
            get = _leaves(child).get
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
            get = _leaves(child).get
            dereg_code = get("AvregistreringsorsakKod")
            if dereg_code is not None and dereg_code not in DEREGISTRATION_CODES:
                raise _Reject(_unknown_code("AvregistreringsorsakKod", dereg_code))
            dereg_date = _date(get("Avregistreringsdatum"), "Avregistreringsdatum")
        elif tag == "HanvisningsPersonNr":
            raw = _text(child)
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


# ---------------------------------------------------------------------------------------------
# File-level errors.

_ERROR_NAMES: dict[int, str] = {
    value: name for name, value in vars(etree.ErrorTypes).items() if isinstance(value, int)
}
_ERROR_TEXTS = {
    "ERR_TAG_NAME_MISMATCH": "opening and ending tag mismatch",
    "ERR_DOCUMENT_END": "extra content after the end of the document",
    "ERR_INVALID_CHAR": "invalid character",
    "ERR_INVALID_ENCODING": "invalid bytes for the character encoding",
    "ERR_UNKNOWN_ENCODING": "unknown character encoding",
    "ERR_UNSUPPORTED_ENCODING": "unsupported character encoding",
    "ERR_UNDECLARED_ENTITY": "undeclared entity",
    "ERR_GT_REQUIRED": "'>' expected",
    "ERR_LT_IN_ATTRIBUTE": "'<' in an attribute value",
    "ERR_NAME_REQUIRED": "element name expected",
    "ERR_ATTRIBUTE_WITHOUT_VALUE": "attribute without a value",
    "ERR_ATTRIBUTE_REDEFINED": "attribute given twice",
    "ERR_DOCUMENT_EMPTY": "the file is empty",
}
# Errors that cutting a file short cannot cause.
_NOT_FROM_CUTTING = frozenset(
    {"ERR_DOCUMENT_END", "ERR_TAG_NAME_MISMATCH", "ERR_ATTRIBUTE_REDEFINED"}
)
_NAME_IN_MESSAGE = re.compile(r"[A-Za-z_][\w.-]*")
# Element names of the format, the only words of lxml's message that may be quoted back.
_KNOWN_ELEMENTS = frozenset(
    {
        ROOT_TAG, POSTS_TAG, POST_TAG, "Aviseringsinformation", "Filinformation", "Utfil",
        "Sekretessmarkering", "SkyddadFolkbokforing", "Arendeuppgift", "PostId", "Personpost",
        "PersonId", "PersonNr", "TilldelatPersonNrSamordningsNr", "HanvisningsPersonNr",
        "Avregistrering", "AvregistreringsorsakKod", "Avregistreringsdatum", "Namn", "Fornamn",
        "Mellannamn", "Efternamn", "Tilltalsnamnsmarkering", "Folkbokforing", "LanKod",
        "KommunKod", "Folkbokforingsdatum", "Adresser", "Folkbokforingsadress",
        "SarskildPostadress", "Utlandsadress", "CareOf", "Utdelningsadress1",
        "Utdelningsadress2", "Utdelningsadress3", "PostNr", "Postort", "Land", "Relationer",
        "Relation", "RelationId", "Relationstyp", "Civilstand", "Medborgarskap", "Historik",
    }
)  # fmt: skip


def _syntax_error(error: etree.XMLSyntaxError, stream: BinaryIO) -> NavetFileError:
    """A NavetFileError describing ``error`` without quoting the file's content (LEAK-1).

    lxml's message is not passed on (it can quote text of the file); only its error type, the
    line, and element names of the format that it mentions are.
    """
    name = _ERROR_NAMES.get(error.code, "")
    raw = (error.msg or "").split(", line ")[0]
    line = error.lineno or None
    if name == "ERR_DOCUMENT_EMPTY" or raw.startswith(("Document is empty", "no element found")):
        return NavetFileError("not well-formed XML: the file is empty or has no root element")
    if name == "ERR_TAG_NOT_FINISHED" or raw.startswith("Premature end of data"):
        open_tags = [w for w in _NAME_IN_MESSAGE.findall(raw) if w in _KNOWN_ELEMENTS]
        inside = f" inside {open_tags[0]}" if open_tags else ""
        problem = f"the file ends in the middle of the document{inside} (truncated?)"
    else:
        problem = _ERROR_TEXTS.get(name) or (
            name.removeprefix("ERR_").replace("_", " ").lower() if name else "syntax error"
        )
        if name == "ERR_TAG_NAME_MISMATCH":
            quoted = [w for w in _NAME_IN_MESSAGE.findall(raw) if w in _KNOWN_ELEMENTS]
            if quoted:
                problem += f" ({', '.join(dict.fromkeys(quoted))})"
        if name not in _NOT_FROM_CUTTING and line is not None and _on_last_line(stream, line):
            problem += "; the file ends there (truncated?)"
    where = f" at line {line}" if line else ""
    return NavetFileError(f"not well-formed XML{where}: {problem}")


def _on_last_line(stream: BinaryIO, line: int) -> bool:
    """Whether ``line`` is the last line of the file (ignoring a final newline).

    Only called on the error path; reads the file once more to count its lines.
    """
    try:
        stream.seek(0)
        newlines = 0
        last = b""
        while chunk := stream.read(1 << 20):
            newlines += chunk.count(b"\n")
            last = chunk
    except (OSError, ValueError):
        return False
    total = newlines + (0 if last.endswith(b"\n") else 1)
    return line >= total


def _wrong_root(tag: object) -> NavetFileError:
    local = _local(tag)
    shown = local if _NAME_IN_MESSAGE.fullmatch(local) and len(local) <= 40 else "unknown"
    return NavetFileError(f"not a Navetavisering file: the root element is {shown}")


def _file_error(error: OSError) -> NavetFileError:
    return NavetFileError(f"cannot read the file: {error.strerror or type(error).__name__}")


def _check_document(root: etree._Element) -> None:
    """The file-level checks that can be made as soon as the root element exists."""
    if root.getroottree().docinfo.doctype:
        # Navet files have none; refusing it rules out entity tricks of every kind.
        raise NavetFileError("not a Navetavisering file: a DOCTYPE declaration is not allowed")
    if _local(root.tag) != ROOT_TAG:
        raise _wrong_root(root.tag)


def _misplaced(post: etree._Element) -> NavetFileError:
    line = f" at line {post.sourceline}" if post.sourceline else ""
    return NavetFileError(
        f"not a Navetavisering file: the {POST_TAG}{line} is not in {ROOT_TAG}/{POSTS_TAG}"
    )


def _no_posts() -> NavetFileError:
    return NavetFileError(f"not a Navetavisering file: no {POSTS_TAG} element")


# ---------------------------------------------------------------------------------------------
# Public API.


def read_file_info(path: str | os.PathLike[str]) -> FileInfo | None:
    """The ``Filinformation`` of the file, or None when it has none.

    Reads only the head of the file, up to the start of ``Folkbokforingsposter``.
    """
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as error:
        raise _file_error(error) from None
    info: FileInfo | None = None
    try:
        context = etree.iterparse(stream, events=("start", "end"), **_PARSER_OPTIONS)
        checked = False
        for event, element in context:
            if not checked:
                _check_document(element)
                checked = True
            tag = _local(element.tag)
            if event == "start":
                if tag == POSTS_TAG:
                    return info
            elif tag == "Filinformation":
                info = _file_info(element)
    except etree.XMLSyntaxError as error:
        raise _syntax_error(error, stream) from None
    except OSError as error:
        raise _file_error(error) from None
    finally:
        stream.close()
    raise _no_posts()


def _file_info(element: etree._Element) -> FileInfo:
    values: dict[str, str | None] = {}
    for child in element:
        tag = _local(child.tag)
        if tag == "Utfil":
            values.update(_leaves(child))
        else:
            values[tag] = _text(child)

    def number(name: str) -> int | None:
        raw = values.get(name)
        if raw is None:
            return None
        if not (raw.isascii() and raw.isdigit()):
            raise NavetFileError(f"{name} in Filinformation is not a number")
        return int(raw)

    return FileInfo(
        bestallnings_id=values.get("BestallningsId"),
        filnamn=values.get("Filnamn"),
        filnr=number("FilNr"),
        effective_date=values.get("Effektueringsdatum"),
        record_count=number("AntalPoster"),
    )


def iter_records(
    path: str | os.PathLike[str], *, known_county_codes: frozenset[str]
) -> Iterator[NavetRecord | Rejection]:
    """Yield every ``Folkbokforingspost`` of the file, in order, as a record or a rejection.

    Raises ``NavetFileError`` when the file turns out not to be a well-formed Navetavisering
    (or cannot be read); records before the problem have been yielded already.
    """
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as error:
        raise _file_error(error) from None
    try:
        context = etree.iterparse(stream, events=("end",), tag="{*}" + POST_TAG, **_PARSER_OPTIONS)
        posts: etree._Element | None = None  # the Folkbokforingsposter element
        for position, (_event, post) in enumerate(context, start=1):
            parent = post.getparent()
            if parent is not posts or parent is None:
                # The first record (the parent's proxy is kept alive in ``posts``, so later
                # records find the very same object) or one in the wrong place.
                root = post.getroottree().getroot()
                _check_document(root)
                if (
                    position > 1
                    or parent is None
                    or parent.getparent() is not root
                    or _local(parent.tag) != POSTS_TAG
                ):
                    raise _misplaced(post)
                posts = parent
            item = _parse_post(post, position, known_county_codes)
            # Free what has been read: the post's content and the posts before it.
            post.clear(keep_tail=False)
            while post.getprevious() is not None:
                del parent[0]
            yield item
        root = context.root
        if root is None:
            raise _no_posts()
        _check_document(root)
        if posts is None and not any(_local(child.tag) == POSTS_TAG for child in root):
            raise _no_posts()
    except etree.XMLSyntaxError as error:
        raise _syntax_error(error, stream) from None
    except OSError as error:
        raise _file_error(error) from None
    finally:
        stream.close()

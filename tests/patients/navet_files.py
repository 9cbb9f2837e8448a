"""Small Navet (``Navetavisering``) files for tests.

Every personnummer written here is one of Skatteverket's test numbers (IDENT-4); numbers that
must be *invalid* are test numbers with a broken check digit or date, and a valid
samordningsnummer is computed at run time from a date in the 1800s (nobody alive), never
written into the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

from patients.navet.parser import NavetRecord, Rejection, iter_records

SHARED = Path(__file__).resolve().parents[3] / "shared"
SAMPLE = SHARED / "specs" / "navet" / "sample-avisering.xml"
SCHEMA = SHARED / "specs" / "navet" / "Navetavisering.xsd"

ALL_COUNTY_CODES = frozenset(
    {"01", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13"}
    | {"14", "17", "18", "19", "20", "21", "22", "23", "24", "25"}
)
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# Skatteverket test personnummer (../shared/data/testpersonnummer.txt).
PNR_A = "194201077098"
PNR_B = "194201199124"
PNR_C = "194202138014"
PNR_D = "195001182046"
PNR_E = "200001011493"
# Broken on purpose: PNR_A with a wrong check digit, and with month 13.
BAD_CHECK_DIGIT = "194201077099"
BAD_DATE = "194213077098"

FILE_INFO = """
  <Aviseringsinformation>
    <Medieleverantor><OrgNr>162021004748</OrgNr></Medieleverantor>
    <Mediemottagare><OrgNr>162321000255</OrgNr></Mediemottagare>
    <Filinformation>
      <BestallningsId>00000999-TEST-0001</BestallningsId>
      <Bestallningstyp>Avisering</Bestallningstyp>
      <Produkt>NAVET</Produkt>
      <Utfil>
        <Filnamn>TEST.AVI.20261122.XML</Filnamn>
        <Effektueringsdatum>20261122</Effektueringsdatum>
        <AntalPoster>{count}</AntalPoster>
        <AntalPosterTotalt>{count}</AntalPosterTotalt>
        <AntalFiler>1</AntalFiler>
        <FilNr>3</FilNr>
        <JobbId>42</JobbId>
      </Utfil>
    </Filinformation>
  </Aviseringsinformation>"""


def luhn_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return str((10 - total % 10) % 10)


def coordination_number_1800s() -> str:
    """A valid samordningsnummer (day + 60) for a birth date in 1851: built, not stored."""
    body = "51" + "03" + str(17 + 60) + "123"  # 1851-03-17, birth number 123
    return "18" + body + luhn_digit(body)


def post(
    number: str | None = PNR_A,
    *,
    id_element: str = "PersonNr",
    secrecy: str | None = "N",
    protected: str | None = "N",
    post_id: str | None = None,
    referral: str | None = None,
    deregistration: str = "",
    given: str = "Karl",
    middle: str | None = None,
    surname: str = "Lindqvist",
    marker: str | None = None,
    county: str | None = "12",
    municipality: str | None = "80",
    registration_date: str | None = "19750601",
    addresses: str | None = None,
    relations: str = "",
    person_id: str | None = None,
) -> str:
    """One ``Folkbokforingspost``; ``None`` leaves an element out, raw strings go in as is."""
    parts = ["    <Folkbokforingspost>"]
    if secrecy is not None:
        parts.append(f"      <Sekretessmarkering>{secrecy}</Sekretessmarkering>")
    if protected is not None:
        parts.append(f"      <SkyddadFolkbokforing>{protected}</SkyddadFolkbokforing>")
    if post_id is not None:
        parts.append(f"      <Arendeuppgift><PostId>{post_id}</PostId></Arendeuppgift>")
    parts.append("      <Personpost>")
    if person_id is not None:
        parts.append(person_id)
    elif number is not None:
        parts.append(f"        <PersonId><{id_element}>{number}</{id_element}></PersonId>")
    if referral is not None:
        parts.append(f"        <HanvisningsPersonNr>{referral}</HanvisningsPersonNr>")
    parts.append(deregistration)
    parts.append("        <Namn>")
    if marker is not None:
        parts.append(f"          <Tilltalsnamnsmarkering>{marker}</Tilltalsnamnsmarkering>")
    parts.append(f"          <Fornamn>{given}</Fornamn>")
    if middle is not None:
        parts.append(f"          <Mellannamn>{middle}</Mellannamn>")
    parts.append(f"          <Efternamn>{surname}</Efternamn>")
    parts.append("        </Namn>")
    if county is not None or municipality is not None or registration_date is not None:
        parts.append("        <Folkbokforing>")
        if registration_date is not None:
            parts.append(f"<Folkbokforingsdatum>{registration_date}</Folkbokforingsdatum>")
        if county is not None:
            parts.append(f"          <LanKod>{county}</LanKod>")
        if municipality is not None:
            parts.append(f"          <KommunKod>{municipality}</KommunKod>")
        parts.append("        </Folkbokforing>")
    if addresses is None:
        addresses = swedish_address()
    if addresses:
        parts.append(f"        <Adresser>{addresses}</Adresser>")
    if relations:
        parts.append(f"        <Relationer>{relations}</Relationer>")
    parts.append("      </Personpost>")
    parts.append("    </Folkbokforingspost>")
    return "\n".join(p for p in parts if p)


def swedish_address(
    kind: str = "Folkbokforingsadress",
    *,
    care_of: str | None = None,
    street1: str | None = None,
    street2: str | None = "Storgatan 12 B",
    postal_code: str | None = "21142",
    city: str | None = "MALMÖ",
) -> str:
    fields = [
        ("CareOf", care_of),
        ("Utdelningsadress1", street1),
        ("Utdelningsadress2", street2),
        ("PostNr", postal_code),
        ("Postort", city),
    ]
    inner = "".join(f"<{tag}>{value}</{tag}>" for tag, value in fields if value is not None)
    return f"<{kind}>{inner}</{kind}>"


def foreign_address(
    *,
    street1: str | None = "Calle Mayor 5",
    street2: str | None = "29600 Marbella",
    street3: str | None = None,
    country: str | None = "SPANIEN",
) -> str:
    fields = [
        ("Utdelningsadress1", street1),
        ("Utdelningsadress2", street2),
        ("Utdelningsadress3", street3),
        ("Land", country),
    ]
    inner = "".join(f"<{tag}>{value}</{tag}>" for tag, value in fields if value is not None)
    return f"<Utlandsadress>{inner}</Utlandsadress>"


def relation(
    kind: str, number: str | None, *, id_element: str = "PersonNr", extra: str = ""
) -> str:
    ident = f"<{id_element}>{number}</{id_element}>" if number is not None else ""
    return (
        f"<Relation><RelationId>{ident}</RelationId><Relationstyp>{kind}</Relationstyp>"
        f"{extra}</Relation>"
    )


def deregistration(code: str, day: str | None = "20261118") -> str:
    date = f"<Avregistreringsdatum>{day}</Avregistreringsdatum>" if day else ""
    return (
        "<Avregistrering>"
        f"<AvregistreringsorsakKod>{code}</AvregistreringsorsakKod>{date}"
        "</Avregistrering>"
    )


def document(
    *posts: str, file_info: bool = True, namespace: str | None = None, root: str = "Navetavisering"
) -> str:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    header = FILE_INFO.format(count=len(posts)) if file_info else ""
    body = "\n".join(posts)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{root}{xmlns} xmlns:xsi="{XSI}">{header}\n'
        f"  <Folkbokforingsposter>\n{body}\n  </Folkbokforingsposter>\n"
        f"</{root}>\n"
    )


def write(directory: Path, text: str, name: str = "navet.xml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def with_prefix(text: str, prefix: str, namespace: str) -> str:
    """The same document with every element in ``namespace`` under ``prefix``."""
    text = re.sub(r"<(/?)([A-Za-z]\w*)", rf"<\1{prefix}:\2", text)
    return text.replace(
        f"<{prefix}:Navetavisering", f'<{prefix}:Navetavisering xmlns:{prefix}="{namespace}"', 1
    )


def parse(path: Path, codes: frozenset[str] = ALL_COUNTY_CODES) -> list[NavetRecord | Rejection]:
    return list(iter_records(path, known_county_codes=codes))


def records(items: list[NavetRecord | Rejection]) -> list[NavetRecord]:
    assert all(isinstance(item, NavetRecord) for item in items), [
        item for item in items if isinstance(item, Rejection)
    ]
    return [item for item in items if isinstance(item, NavetRecord)]


def assert_no_personal_data(text: str, *values: str) -> None:
    """LEAK-1: no name, number or address in a reason or message."""
    for value in values:
        assert value not in text, f"{value!r} leaked into {text!r}"
    for number in (PNR_A, BAD_CHECK_DIGIT, BAD_DATE, PNR_A[2:], "7098", "7099"):
        assert number not in text

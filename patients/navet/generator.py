"""Large synthetic Navet extracts (*grunduttag*) for benchmarks and volume tests.

``write_extract`` streams a schema-valid ``Navetavisering`` file with ``count`` distinct persons:
names, registered addresses, county and municipality codes, civil status, citizenship, some
relations (spouse ``M``, child ``B``, guardian ``V``), a share registered outside the region, a
few deceased (``AV``) and emigrated (``UV``) persons, a few with a samordningsnummer, and every
``protected_every``-th person protected (alternately *skyddad folkbokföring*, delivered with a
special postal address and no registered address, and *sekretessmarkering*). The file is written
with buffered text writes, not by building a tree, so 1.7 million records take seconds, not
minutes; the same ``seed`` always gives the same file.

Identity numbers. These files are generated on the fly for benchmarks and tests and are never
committed; only Skatteverket's published test personnummer may appear in fixtures (IDENT-4).
Generating that many *valid* numbers (correct date and Luhn check digit) without risking a living
person's real number is done by giving every generated person a birth date in 1800-1899, written
in the 12-digit form with century ``18``. Nobody born in the 1800s is alive, so no generated number
can belong to a living person (a number can coincide with one given to someone long dead, or with
one of Skatteverket's test numbers from the 1890s; neither identifies a living person). There are
36 524 days x 999 birth numbers (001-999) = 36 487 476 slots; person ``i`` gets slot
``(i * 1 000 003 + offset(seed)) mod 36 487 476``, a bijection because the prime 1 000 003 does not
divide the number of slots, so up to 36 million persons (far more than the 2 million needed) are
distinct, spread over the whole century and over every birth number. Samordningsnummer are the
same slot with day + 60, so they are distinct from every personnummer too.
"""

from __future__ import annotations

import datetime
import os
import random
from collections.abc import Sequence
from xml.sax.saxutils import escape

__all__ = ["MAX_PERSONS", "STRIDE", "PersonNumbers", "write_extract"]

_FIRST_DAY = datetime.date(1800, 1, 1)
_DAYS = (datetime.date(1900, 1, 1) - _FIRST_DAY).days  # 36 524
MAX_PERSONS = _DAYS * 999  # birth numbers 001-999 (000 is never issued)
STRIDE = 1_000_003  # prime, so coprime to MAX_PERSONS = 2^2 * 3^3 * 23 * 37 * 397

# The 21 county codes (LanKod) of Sweden, for residents registered outside the region.
_ALL_COUNTIES = (
    "01", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13",
    "14", "17", "18", "19", "20", "21", "22", "23", "24", "25",
)  # fmt: skip

_FEMALE = (
    "Anna", "Eva", "Maria", "Karin", "Kristina", "Lena", "Sara", "Kerstin", "Emma", "Ingrid",
    "Marie", "Malin", "Jenny", "Birgitta", "Hanna", "Inger", "Annika", "Linda", "Elin", "Susanne",
    "Monica", "Johanna", "Sofia", "Carina", "Elisabeth", "Ulla", "Katarina", "Linnéa", "Helena",
    "Åsa", "Ida", "Camilla", "Cecilia", "Margareta", "Anneli", "Gunilla", "Maja", "Astrid", "Elsa",
)  # fmt: skip
_MALE = (
    "Lars", "Mikael", "Anders", "Johan", "Erik", "Per", "Peter", "Karl", "Thomas", "Jan",
    "Daniel", "Fredrik", "Hans", "Bengt", "Andreas", "Stefan", "Mats", "Magnus", "Mattias",
    "Jonas", "Marcus", "Nils", "Bo", "Alexander", "Oskar", "Leif", "Björn", "Sven", "Göran",
    "Gustav", "Olof", "Henrik", "Åke", "Rolf", "Emil", "Axel", "Viktor", "Oscar", "Ulf",
)  # fmt: skip
_MIDDLE = ("Lind", "Berg", "Ek", "Holm", "Dahl", "Sjö", "Ström", "Lund")
_SURNAMES = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
    "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Olofsson", "Lindström",
    "Lindqvist", "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg", "Lind", "Lundgren",
    "Lundqvist", "Mattsson", "Berglund", "Fredriksson", "Sandberg", "Henriksson", "Forsberg",
    "Sjöberg", "Wallin", "Ali", "Engström", "Mohamed", "Eklund", "Danielsson", "Lundin",
    "Håkansson", "Björk", "Bergman", "Gunnarsson", "Holm", "Wikström", "Samuelsson", "Isaksson",
    "Fransson", "Bergqvist", "Nyström", "Holmberg", "Arvidsson", "Löfgren", "Söderberg", "Nyberg",
)  # fmt: skip
_STREETS = (
    "Storgatan", "Kyrkogatan", "Drottninggatan", "Skolgatan", "Järnvägsgatan", "Södra vägen",
    "Norra Vallgatan", "Parkvägen", "Villavägen", "Ringvägen", "Industrigatan", "Stationsgatan",
    "Björkvägen", "Tallvägen", "Ängsvägen", "Strandvägen", "Hamngatan", "Östra Förstadsgatan",
    "Lilla Torg", "Kungsgatan", "Trädgårdsgatan", "Bäckvägen", "Smedjegatan", "Vallgatan",
)  # fmt: skip
# (KommunKod, Postort, first three digits of PostNr)
_TOWNS = (
    ("80", "MALMÖ", "211"), ("80", "MALMÖ", "214"), ("80", "MALMÖ", "217"),
    ("81", "LUND", "222"), ("81", "LUND", "224"), ("82", "LANDSKRONA", "261"),
    ("83", "HELSINGBORG", "252"), ("83", "HELSINGBORG", "254"), ("84", "HÖGANÄS", "263"),
    ("85", "ESLÖV", "241"), ("86", "YSTAD", "271"), ("87", "TRELLEBORG", "231"),
    ("90", "KRISTIANSTAD", "291"), ("91", "SIMRISHAMN", "272"), ("92", "ÄNGELHOLM", "262"),
    ("93", "HÄSSLEHOLM", "281"), ("42", "HÖÖR", "243"), ("43", "HÖRBY", "242"),
    ("60", "OSBY", "283"), ("33", "SVALÖV", "268"), ("61", "BROMÖLLA", "295"),
)  # fmt: skip
_COUNTRIES = (
    ("Calle Mayor", "MARBELLA", "SPANIEN"),
    ("Storgata", "OSLO", "NORGE"),
    ("Nørregade", "KØBENHAVN", "DANMARK"),
    ("High Street", "LONDON", "STORBRITANNIEN"),
    ("Hauptstraße", "BERLIN", "TYSKLAND"),
)
_CIVIL = ("OG", "G", "G", "S", "Ä", "OG")
_CITIZEN = ("SE", "SE", "SE", "SE", "SE", "SE", "SE", "SE", "FI", "NO", "DK", "PL", "SY", "IQ")

_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<Navetavisering>
  <Aviseringsinformation>
    <Medieleverantor>
      <OrgNr>162021004748</OrgNr>
      <Organisationsnamn>Skatteverket</Organisationsnamn>
    </Medieleverantor>
    <Mediemottagare>
      <KundNr>00012345</KundNr>
      <OrgNr>162321000255</OrgNr>
      <Organisationsnamn>Synthetic benchmark region</Organisationsnamn>
    </Mediemottagare>
    <Filinformation>
      <BestallningsId>{bestallnings_id}</BestallningsId>
      <Bestallningstyp>Grunduttag</Bestallningstyp>
      <Produkt>NAVET</Produkt>
      <Utfil>
        <Filnamn>{filnamn}</Filnamn>
        <Effektueringsdatum>{effective}</Effektueringsdatum>
        <AntalPoster>{count}</AntalPoster>
        <AntalPosterTotalt>{count}</AntalPosterTotalt>
        <AntalFiler>1</AntalFiler>
        <FilNr>1</FilNr>
        <JobbId>{jobb_id}</JobbId>
      </Utfil>
    </Filinformation>
  </Aviseringsinformation>
  <Folkbokforingsposter>
"""
_FOOTER = "  </Folkbokforingsposter>\n</Navetavisering>\n"
_EFFECTIVE_DATE = "20261121"
_CHUNK = 2000  # records per write


def _esc(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(escape(v) for v in values)


_FEMALE_X = _esc(_FEMALE)
_MALE_X = _esc(_MALE)
_MIDDLE_X = _esc(_MIDDLE)
_SURNAMES_X = _esc(_SURNAMES)
_STREETS_X = _esc(_STREETS)


def _luhn_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        d = (ord(ch) - 48) * (2 - (i & 1))
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


class PersonNumbers:
    """Person index -> a valid 12-digit number born in the 1800s (see the module docstring)."""

    def __init__(self, seed: int) -> None:
        self._offset = random.Random(f"navet-numbers-{seed}").randrange(MAX_PERSONS)
        self._dates: list[tuple[str, str, int]] = []
        for n in range(_DAYS):
            d = _FIRST_DAY + datetime.timedelta(days=n)
            self._dates.append(
                (f"{d.year:04d}{d.month:02d}", f"{d.year % 100:02d}{d.month:02d}", d.day)
            )

    def number(self, index: int, *, coordination: bool = False) -> str:
        slot = (index * STRIDE + self._offset) % MAX_PERSONS
        year_month, short_year_month, day = self._dates[slot // 999]
        if coordination:
            day += 60
        tail = f"{day:02d}{slot % 999 + 1:03d}"
        return year_month + tail + _luhn_digit(short_year_month + tail)

    def birth_date(self, index: int) -> str:
        slot = (index * STRIDE + self._offset) % MAX_PERSONS
        year_month, _, day = self._dates[slot // 999]
        return f"{year_month}{day:02d}"


def write_extract(
    path: str | os.PathLike[str],
    *,
    count: int,
    protected_every: int = 500,
    seed: int = 1,
    county_codes: Sequence[str] = ("12",),
    out_of_region_every: int = 20,
) -> None:
    """Write a synthetic full extract of ``count`` distinct persons to ``path``.

    Every ``protected_every``-th person (1-based; 0 disables) is protected, alternately with
    ``SkyddadFolkbokforing`` J (a ``SarskildPostadress``, no ``Folkbokforingsadress``) and
    ``Sekretessmarkering`` J, so exactly ``count // protected_every`` records carry a flag.
    Every ``out_of_region_every``-th person (0 disables) is registered in a county not in
    ``county_codes``; the others in one of ``county_codes``.
    """
    if count < 0 or count > MAX_PERSONS:
        raise ValueError(f"count must be between 0 and {MAX_PERSONS}")
    if not county_codes or any(len(c) != 2 or not c.isdigit() for c in county_codes):
        raise ValueError("county_codes must be two-digit county codes")
    home_counties = tuple(county_codes)
    other_counties = tuple(c for c in _ALL_COUNTIES if c not in home_counties)
    numbers = PersonNumbers(seed)
    rng = random.Random(seed)
    rand = rng.random
    randrange = rng.randrange
    choice = rng.choice

    header = _HEADER.format(
        bestallnings_id=f"{seed % 100_000_000:08d}-GRUN-0001",
        filnamn=f"GRUND.{seed % 100_000_000}.{_EFFECTIVE_DATE}.XML",
        effective=_EFFECTIVE_DATE,
        count=count,
        jobb_id=1 + seed % 99_999_999,
    )
    with open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
        out.write(header)
        chunk: list[str] = []
        append = chunk.append
        for i in range(1, count + 1):
            index = i - 1
            protected = protected_every > 0 and i % protected_every == 0
            skyddad = protected and (i // protected_every) % 2 == 1
            sekretess = protected and not skyddad
            out_of_region = (
                out_of_region_every > 0 and i % out_of_region_every == 0 and bool(other_counties)
            )
            deceased = i % 97 == 0
            emigrated = not deceased and not out_of_region and i % 89 == 0
            coordination = i % 101 == 0
            female = rand() < 0.5

            append("    <Folkbokforingspost>\n")
            if protected:
                secrecy_flag = "J" if sekretess else "N"
                protected_flag = "J" if skyddad else "N"
                append(
                    f"      <Sekretessmarkering>{secrecy_flag}</Sekretessmarkering>\n"
                    f"      <SkyddadFolkbokforing>{protected_flag}</SkyddadFolkbokforing>\n"
                )
            elif i % 3:
                # Most records spell out N; some leave the flags out (schema default N).
                append(
                    "      <Sekretessmarkering>N</Sekretessmarkering>\n"
                    "      <SkyddadFolkbokforing>N</SkyddadFolkbokforing>\n"
                )
            append("      <Personpost>\n")
            number = numbers.number(index, coordination=coordination)
            if coordination:
                append(
                    "        <PersonId><TilldelatPersonNrSamordningsNr>"
                    f"{number}</TilldelatPersonNrSamordningsNr></PersonId>\n"
                )
            else:
                append(f"        <PersonId><PersonNr>{number}</PersonNr></PersonId>\n")
            if deceased or emigrated:
                append(
                    "        <Avregistrering>\n"
                    f"          <AvregistreringsorsakKod>{'AV' if deceased else 'UV'}"
                    "</AvregistreringsorsakKod>\n"
                    f"          <Avregistreringsdatum>20{randrange(10, 27):02d}"
                    f"{randrange(1, 13):02d}{randrange(1, 29):02d}</Avregistreringsdatum>\n"
                    "        </Avregistrering>\n"
                )
            append(f"        <Fodelsedatum>{numbers.birth_date(index)}</Fodelsedatum>\n")

            first = choice(_FEMALE_X if female else _MALE_X)
            append("        <Namn>\n")
            if rand() < 0.3:
                second = choice(_FEMALE_X if female else _MALE_X)
                first = f"{first} {second}"
                marker = choice((10, 20))
                append(f"          <Tilltalsnamnsmarkering>{marker}</Tilltalsnamnsmarkering>\n")
            append(f"          <Fornamn>{first}</Fornamn>\n")
            if rand() < 0.05:
                append(f"          <Mellannamn>{choice(_MIDDLE_X)}</Mellannamn>\n")
            append(f"          <Efternamn>{choice(_SURNAMES_X)}</Efternamn>\n        </Namn>\n")

            kommun, postort, postnr = choice(_TOWNS)
            if not emigrated:
                county = choice(other_counties) if out_of_region else choice(home_counties)
                append(
                    "        <Folkbokforing>\n"
                    f"          <Folkbokforingsdatum>{randrange(1950, 2026)}"
                    f"{randrange(1, 13):02d}{randrange(1, 29):02d}</Folkbokforingsdatum>\n"
                    f"          <LanKod>{county}</LanKod>\n"
                    f"          <KommunKod>{kommun}</KommunKod>\n"
                    "        </Folkbokforing>\n"
                )
            if emigrated:
                street, town, country = choice(_COUNTRIES)
                append(
                    "        <Adresser>\n          <Utlandsadress>\n"
                    f"            <Utdelningsadress1>{escape(street)} {randrange(1, 120)}"
                    "</Utdelningsadress1>\n"
                    f"            <Utdelningsadress2>{escape(town)}</Utdelningsadress2>\n"
                    f"            <Land>{escape(country)}</Land>\n"
                    "          </Utlandsadress>\n        </Adresser>\n"
                )
            elif skyddad:
                append(
                    "        <Adresser>\n          <SarskildPostadress>\n"
                    "            <Utdelningsadress1>Förmedlingsuppdrag</Utdelningsadress1>\n"
                    f"            <Utdelningsadress2>Box {randrange(100, 9999)}"
                    "</Utdelningsadress2>\n"
                    "            <PostNr>40320</PostNr>\n"
                    "            <Postort>GÖTEBORG</Postort>\n"
                    "          </SarskildPostadress>\n        </Adresser>\n"
                )
            elif not deceased:
                append("        <Adresser>\n          <Folkbokforingsadress>\n")
                if rand() < 0.02:
                    append(
                        f"            <CareOf>{choice(_FEMALE_X)} {choice(_SURNAMES_X)}</CareOf>\n"
                    )
                entrance = choice(("", "", "", " A", " B", " LGH 1102"))
                append(
                    f"            <Utdelningsadress2>{choice(_STREETS_X)} {randrange(1, 80)}"
                    f"{entrance}</Utdelningsadress2>\n"
                    f"            <PostNr>{postnr}{randrange(0, 100):02d}</PostNr>\n"
                    f"            <Postort>{postort}</Postort>\n"
                    "          </Folkbokforingsadress>\n        </Adresser>\n"
                )
            civil = choice(_CIVIL)
            append(
                f"        <Civilstand>\n          <CivilstandKod>{civil}</CivilstandKod>\n"
                "        </Civilstand>\n"
            )
            relations: list[tuple[int, str]] = []
            if civil == "G" and rand() < 0.6:
                relations.append((index ^ 1, "M"))
            if i % 7 == 0:
                relations.append((index + 3, "B"))
                if i % 14 == 0:
                    relations.append((index + 5, "B"))
            if i % 11 == 0:
                relations.append((index + 7, "V"))
            if relations:
                append("        <Relationer>\n")
                for other, kind in relations:
                    other_number = numbers.number(other % MAX_PERSONS)
                    append(
                        "          <Relation>\n"
                        "            <RelationId>"
                        f"<PersonNr>{other_number}</PersonNr></RelationId>\n"
                        f"            <Relationstyp>{kind}</Relationstyp>\n"
                        "          </Relation>\n"
                    )
                append("        </Relationer>\n")
            append(
                "        <Medborgarskap>\n"
                f"          <MedborgarskapslandKod>{choice(_CITIZEN)}</MedborgarskapslandKod>\n"
                "        </Medborgarskap>\n"
                "      </Personpost>\n    </Folkbokforingspost>\n"
            )
            if i % _CHUNK == 0:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
        out.write(_FOOTER)

"""The Navet parser (``patients.navet.parser``): records, relations and rejections.

No database: files are written to ``tmp_path``. Hand-written files use Skatteverket's test
personnummer only (IDENT-4). Files the parser refuses, the file's head and generated extracts
are in test_navet_files.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from patients.navet.parser import (
    FileInfo,
    ForeignAddress,
    NavetRecord,
    Rejection,
    Relation,
    SwedishAddress,
    read_file_info,
)
from tests.patients import navet_files as nf
from tests.patients.navet_files import assert_no_personal_data, parse, records


def only_rejection(tmp_path: Path, *posts: str, codes=nf.ALL_COUNTY_CODES) -> Rejection:
    """Write ``posts`` plus an ordinary record after them; the first must be rejected and the
    stream must go on to the last one."""
    tail = nf.post(nf.PNR_E, given="Eva", surname="Ek")
    items = parse(nf.write(tmp_path, nf.document(*posts, tail)), codes)
    assert isinstance(items[0], Rejection), items[0]
    assert isinstance(items[-1], NavetRecord)
    assert items[-1].identity_number == nf.PNR_E
    return items[0]


# --- the shared sample ----------------------------------------------------------------------


def test_sample_parses_into_six_records_with_flags_addresses_and_deregistrations():
    """PROT-1 flags, PROT-3 AV, IDENT-1 canonical numbers: the shared sample, record by record."""
    items = records(parse(nf.SAMPLE))
    assert [r.position for r in items] == [1, 2, 3, 4, 5, 6]
    ordinary, secret, protected, elsewhere, deceased, emigrated = items

    assert ordinary.identity_number == "194201077098"
    assert not ordinary.coordination_number
    assert ordinary.referral_number is None
    assert (ordinary.confidentiality_marking, ordinary.protected_registration) == (False, False)
    assert (ordinary.given_names, ordinary.middle_name, ordinary.surname) == (
        "Karl Gustav",
        None,
        "Lindqvist",
    )
    assert ordinary.name_in_use_marker == 10
    assert (ordinary.county_code, ordinary.municipality_code) == ("12", "80")
    assert ordinary.registration_date == "19750601"
    assert ordinary.registered_address == SwedishAddress(
        care_of=None, street1=None, street2="Storgatan 12 B", postal_code="21142", city="MALMÖ"
    )
    assert ordinary.special_postal_address is None
    assert ordinary.foreign_address is None
    assert ordinary.deregistration_code is None
    assert ordinary.relations == ()
    assert ordinary.post_id is None

    # PROT-1: sekretessmarkering; the address is still delivered.
    assert (secret.confidentiality_marking, secret.protected_registration) == (True, False)
    assert secret.registered_address is not None
    assert secret.registered_address.city == "HELSINGBORG"
    assert secret.relations == (Relation("M", "194202138014", None, None),)

    # PROT-1: skyddad folkbokföring; no residential address, the forwarding service instead.
    assert (protected.confidentiality_marking, protected.protected_registration) == (False, True)
    assert protected.registered_address is None
    assert protected.special_postal_address == SwedishAddress(
        None, "Förmedlingsuppdrag", "Box 2820", "40320", "GÖTEBORG"
    )

    # No flags at all: the schema default N.
    assert (elsewhere.confidentiality_marking, elsewhere.protected_registration) == (False, False)
    assert elsewhere.county_code == "01"
    assert elsewhere.registered_address is not None
    assert elsewhere.registered_address.care_of == "Anna Berg"

    # PROT-3: a death is delivered as AV with its date; the marking comes along.
    assert (deceased.deregistration_code, deceased.deregistration_date) == ("AV", "20261118")
    assert deceased.confidentiality_marking
    assert deceased.registered_address is None

    assert (emigrated.deregistration_code, emigrated.deregistration_date) == ("UV", "20250301")
    assert emigrated.county_code is None
    assert emigrated.foreign_address == ForeignAddress(
        "Calle Mayor 5", "29600 Marbella", None, "SPANIEN"
    )


def test_sample_file_info():
    assert read_file_info(nf.SAMPLE) == FileInfo(
        bestallnings_id="00000123-FO01-0001",
        filnamn="FO01.AVI.20261121.XML",
        filnr=1,
        effective_date="20261121",
        record_count=6,
    )


def test_sample_out_of_region_county_is_rejected_when_not_known():
    items = parse(nf.SAMPLE, frozenset({"12"}))
    rejected = [item for item in items if isinstance(item, Rejection)]
    assert [r.position for r in rejected] == [4]
    assert rejected[0].reason == "unknown county code 01 in LanKod"
    assert_no_personal_data(rejected[0].reason, "194203027018", "Olof", "Berg", "Sveavägen")


@pytest.mark.parametrize("style", ["default", "prefixed"])
def test_namespaced_sample_gives_the_same_records(tmp_path, style):
    text = nf.SAMPLE.read_text(encoding="utf-8")
    if style == "default":
        text = text.replace("<Navetavisering>", '<Navetavisering xmlns="urn:se:skv:navet">', 1)
    else:
        text = nf.with_prefix(text, "n", "urn:se:skv:navet")
    path = nf.write(tmp_path, text)
    assert parse(path) == parse(nf.SAMPLE)
    assert read_file_info(path) == read_file_info(nf.SAMPLE)


# --- identity numbers -----------------------------------------------------------------------


def test_coordination_number_from_element_and_from_day_plus_60(tmp_path):
    """IDENT-1: TilldelatPersonNrSamordningsNr, or a day part over 60, is a samordningsnummer."""
    coordination = nf.coordination_number_1800s()
    path = nf.write(
        tmp_path,
        nf.document(
            nf.post(nf.PNR_A, id_element="TilldelatPersonNrSamordningsNr"),
            nf.post(coordination),
            nf.post(nf.PNR_B),
        ),
    )
    first, second, third = records(parse(path))
    assert (first.identity_number, first.coordination_number) == (nf.PNR_A, True)
    assert (second.identity_number, second.coordination_number) == (coordination, True)
    assert (third.identity_number, third.coordination_number) == (nf.PNR_B, False)


def test_referral_number_is_the_new_number(tmp_path):
    path = nf.write(tmp_path, nf.document(nf.post(nf.PNR_A, referral=nf.PNR_B)))
    (record,) = records(parse(path))
    assert (record.identity_number, record.referral_number) == (nf.PNR_A, nf.PNR_B)


def test_whitespace_is_stripped_and_empty_elements_are_none(tmp_path):
    path = nf.write(
        tmp_path,
        nf.document(
            nf.post(
                f"  {nf.PNR_A}\n ",
                secrecy=" J ",
                given="  Karl  ",
                middle="",
                surname=" Lindqvist\n",
                county=" 12 ",
                addresses=nf.swedish_address(street1="   ", city=" MALMÖ "),
            )
        ),
    )
    (record,) = records(parse(path))
    assert record.identity_number == nf.PNR_A
    assert record.confidentiality_marking
    assert (record.given_names, record.middle_name, record.surname) == ("Karl", None, "Lindqvist")
    assert record.county_code == "12"
    assert record.registered_address == SwedishAddress(
        None, None, "Storgatan 12 B", "21142", "MALMÖ"
    )


def test_nil_flags_mean_n_and_nil_fields_are_none(tmp_path):
    """PROT-1: an absent or xsi:nil flag is the schema default N."""
    nil = 'xsi:nil="true"'
    text = nf.document(
        nf.post(nf.PNR_A, secrecy=None, protected=None),
        nf.post(nf.PNR_B, secrecy=None, protected=None).replace(
            "<Personpost>",
            f"<Sekretessmarkering {nil}/><SkyddadFolkbokforing {nil}></SkyddadFolkbokforing>"
            "<Personpost>",
        ),
        nf.post(nf.PNR_C, secrecy="", protected="").replace(
            "<Fornamn>Karl</Fornamn>", f"<Fornamn {nil}/>"
        ),
    )
    items = records(parse(nf.write(tmp_path, text)))
    assert [(r.confidentiality_marking, r.protected_registration) for r in items] == [
        (False, False)
    ] * 3
    assert items[2].given_names is None


def test_duplicate_records_are_both_yielded_in_order(tmp_path):
    path = nf.write(
        tmp_path,
        nf.document(
            nf.post(nf.PNR_A, surname="Lindqvist"),
            nf.post(nf.PNR_B),
            nf.post(nf.PNR_A, surname="Holm", protected="J", addresses=""),
        ),
    )
    items = records(parse(path))
    assert [(r.position, r.identity_number, r.surname) for r in items] == [
        (1, nf.PNR_A, "Lindqvist"),
        (2, nf.PNR_B, "Lindqvist"),
        (3, nf.PNR_A, "Holm"),
    ]
    assert items[2].protected_registration


def test_post_id_is_read(tmp_path):
    path = nf.write(tmp_path, nf.document(nf.post(nf.PNR_A, post_id="A1B2C3D4E5F6G7H8")))
    (record,) = records(parse(path))
    assert record.post_id == "A1B2C3D4E5F6G7H8"


# --- relations ------------------------------------------------------------------------------


def test_relations_keep_kind_and_canonical_number(tmp_path):
    """PROT-5 needs the relations: an unreadable number keeps the relation without a number."""
    relations = "".join(
        [
            nf.relation(
                "V",
                nf.PNR_B,
                extra="<RelationFromdatum>20200101</RelationFromdatum>"
                "<RelationTomdatum>20381231</RelationTomdatum>",
            ),
            nf.relation("B", nf.PNR_E),
            nf.relation("M", nf.BAD_CHECK_DIGIT),
            nf.relation("FA", "19420107", id_element="FodelsetidNr"),
            nf.relation("MO", None),
            nf.relation("XX", nf.PNR_C),  # not a Relationstyp: cannot be interpreted
        ]
    )
    path = nf.write(tmp_path, nf.document(nf.post(nf.PNR_A, relations=relations)))
    (record,) = records(parse(path))
    assert record.relations == (
        Relation("V", nf.PNR_B, "20200101", "20381231"),
        Relation("B", nf.PNR_E, None, None),
        Relation("M", None, None, None),
        Relation("FA", None, None, None),
        Relation("MO", None, None, None),
    )


# --- rejections -----------------------------------------------------------------------------

LONG = "Å" * 100

REJECTIONS = [
    pytest.param(
        {"number": nf.BAD_CHECK_DIGIT}, "invalid check digit in PersonId", id="check-digit"
    ),
    pytest.param({"number": nf.BAD_DATE}, "invalid date in PersonId", id="date"),
    pytest.param({"number": "19420107709"}, "not 12 digits in PersonId", id="short"),
    pytest.param({"number": "99420107709X"}, "not 12 digits in PersonId", id="letters"),
    pytest.param({"number": ""}, "PersonId is empty", id="empty-number"),
    pytest.param({"number": None}, "PersonId is missing", id="no-person-id"),
    pytest.param(
        {"person_id": "<PersonId><Annat>1</Annat></PersonId>"},
        "PersonId has neither PersonNr nor TilldelatPersonNrSamordningsNr",
        id="person-id-without-number",
    ),
    pytest.param({"county": "99"}, "unknown county code 99 in LanKod", id="county"),
    pytest.param({"county": "123"}, "LanKod is longer than 2 characters", id="county-length"),
    pytest.param(
        {"municipality": "801"}, "KommunKod is longer than 2 characters", id="municipality"
    ),
    pytest.param({"given": "K" * 81}, "Fornamn is longer than 80 characters", id="fornamn"),
    pytest.param({"middle": "M" * 41}, "Mellannamn is longer than 40 characters", id="mellan"),
    pytest.param({"surname": "L" * 61}, "Efternamn is longer than 60 characters", id="efternamn"),
    pytest.param(
        {"marker": "5"}, "Tilltalsnamnsmarkering is not a number from 10 to 99", id="marker"
    ),
    pytest.param(
        {"addresses": nf.swedish_address(care_of="C" * 36)},
        "CareOf in Folkbokforingsadress is longer than 35 characters",
        id="careof",
    ),
    pytest.param(
        {"addresses": nf.swedish_address(street1="S" * 36)},
        "Utdelningsadress1 in Folkbokforingsadress is longer than 35 characters",
        id="street1",
    ),
    pytest.param(
        {"addresses": nf.swedish_address(street2="Storgatan " + "1" * 26)},
        "Utdelningsadress2 in Folkbokforingsadress is longer than 35 characters",
        id="street2",
    ),
    pytest.param(
        {"addresses": nf.swedish_address(city="M" * 28)},
        "Postort in Folkbokforingsadress is longer than 27 characters",
        id="postort",
    ),
    pytest.param(
        {"addresses": nf.swedish_address(postal_code="211420")},
        "PostNr in Folkbokforingsadress is not 5 digits",
        id="postnr-long",
    ),
    pytest.param(
        {"addresses": nf.swedish_address(postal_code="211 4")},
        "PostNr in Folkbokforingsadress is not 5 digits",
        id="postnr-space",
    ),
    pytest.param(
        {"addresses": nf.swedish_address("SarskildPostadress", street2="B" * 36)},
        "Utdelningsadress2 in SarskildPostadress is longer than 35 characters",
        id="special-address",
    ),
    pytest.param(
        {"addresses": nf.foreign_address(street3="U" * 36)},
        "Utdelningsadress3 in Utlandsadress is longer than 35 characters",
        id="foreign-street",
    ),
    pytest.param(
        {"addresses": nf.foreign_address(country="L" * 36)},
        "Land in Utlandsadress is longer than 35 characters",
        id="land",
    ),
    pytest.param({"post_id": "P" * 17}, "PostId is longer than 16 characters", id="postid"),
    pytest.param(
        {"referral": nf.BAD_CHECK_DIGIT},
        "invalid check digit in HanvisningsPersonNr",
        id="referral",
    ),
    pytest.param(
        {"secrecy": "X"}, "Sekretessmarkering is neither J nor N", id="sekretessmarkering"
    ),
    pytest.param({"protected": "Ja"}, "SkyddadFolkbokforing is neither J nor N", id="skyddad"),
    pytest.param(
        {"deregistration": nf.deregistration("XY")},
        "unknown code XY in AvregistreringsorsakKod",
        id="deregistration-code",
    ),
    pytest.param(
        {"deregistration": nf.deregistration("AV", day="2026-11-18")},
        "Avregistreringsdatum is not a date (YYYYMMDD)",
        id="deregistration-date",
    ),
    pytest.param(
        {"registration_date": "1975"},
        "Folkbokforingsdatum is not a date (YYYYMMDD)",
        id="registration-date",
    ),
]


@pytest.mark.parametrize(("changes", "reason"), REJECTIONS)
def test_a_record_that_cannot_be_applied_is_rejected_and_the_stream_goes_on(
    tmp_path, changes, reason
):
    """LEAK-1: the reason names the element and the problem, never a name, number or address."""
    rejected = only_rejection(tmp_path, nf.post(**changes))
    assert rejected.position == 1
    assert rejected.reason == reason
    assert_no_personal_data(
        rejected.reason, "Karl", "Lindqvist", "Storgatan", "MALMÖ", "21142", "Calle", "SPANIEN"
    )
    for value in changes.values():
        if isinstance(value, str) and len(value) > 3 and value not in ("Ja",):
            assert value not in rejected.reason


def test_values_at_their_limits_are_accepted(tmp_path):
    path = nf.write(
        tmp_path,
        nf.document(
            nf.post(
                post_id="P" * 16,
                given="K" * 80,
                middle="M" * 40,
                surname="L" * 60,
                marker="99",
                addresses=nf.swedish_address(
                    care_of="C" * 35, street1="S" * 35, street2="T" * 35, city="Ö" * 27
                )
                + nf.swedish_address("SarskildPostadress", street2="B" * 35)
                + nf.foreign_address(street1="U" * 35, street3="V" * 35, country="L" * 35),
            )
        ),
    )
    (record,) = records(parse(path))
    assert record.post_id == "P" * 16
    assert len(record.given_names or "") == 80
    assert record.name_in_use_marker == 99
    assert record.registered_address is not None
    assert record.registered_address.city == "Ö" * 27
    assert record.special_postal_address is not None
    assert record.foreign_address == ForeignAddress("U" * 35, "29600 Marbella", "V" * 35, "L" * 35)


def test_rejection_carries_post_id_and_the_raw_record_outside_its_repr(tmp_path):
    """The raw record goes to the encrypted quarantine; repr() (logs) must not show it."""
    rejected = only_rejection(tmp_path, nf.post(nf.BAD_CHECK_DIGIT, post_id="ABC123"))
    assert rejected.post_id == "ABC123"
    assert nf.BAD_CHECK_DIGIT in rejected.raw_xml
    assert "<Efternamn>Lindqvist</Efternamn>" in rejected.raw_xml
    assert_no_personal_data(repr(rejected), "Lindqvist", "Karl")


def test_over_long_post_id_is_not_echoed_back(tmp_path):
    rejected = only_rejection(tmp_path, nf.post(post_id="P" * 17))
    assert rejected.post_id is None


def test_positions_count_every_post_including_rejected_ones(tmp_path):
    path = nf.write(
        tmp_path,
        nf.document(
            nf.post(nf.PNR_A), nf.post(nf.BAD_DATE), nf.post(nf.PNR_B), nf.post(county="77")
        ),
    )
    items = parse(path)
    assert [(type(i).__name__, i.position) for i in items] == [
        ("NavetRecord", 1),
        ("Rejection", 2),
        ("NavetRecord", 3),
        ("Rejection", 4),
    ]

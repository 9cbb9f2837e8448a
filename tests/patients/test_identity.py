"""Tests for patients.identity (IDENT-1, IDENT-2, IDENT-3).

IDENT-4: the only valid personnummer written in this file are Skatteverket's test numbers
(/work/shared/data/testpersonnummer.txt). The list holds no samordningsnummer, so those are
built at run time from a test number (day + 60, Luhn digit recomputed), as are the few other
numbers that must be valid apart from one deliberate fault; none of them appears literally.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from django.utils import translation

from patients.identity import (
    RESERVE_FORMATS,
    IdentityNumber,
    IdentityNumberError,
    canonical_from_register,
    is_coordination_number,
    parse_identity_number,
    parse_personal_identity_number,
    parse_reserve_number,
)

TODAY = date(2025, 6, 1)


@pytest.fixture(autouse=True)
def _english_messages():
    """The messages are compared in English; the Swedish catalogue is checked in the views."""
    with translation.override("en"):
        yield


ALL_FORMATS = ("national", "vgr", "stockholm")

# Skatteverket test personnummer (IDENT-4).
TEST_NUMBERS = ("194201077098", "194201199124", "194202269207", "194203027018")
BORN_1890 = "189001019802"
BORN_2000 = "200001011493"
LEAP_DAY_1904 = "190402299812"
LEAP_DAY_1976 = "197602292380"

# Reserve numbers (never personnummer: letters, or 12 digits starting with 99).
NATIONAL_FEMALE_1995 = "22950606FH22"  # XX 22 = 19 + 3, G digit 2
NATIONAL_UNKNOWN_SEX_1978 = "25780404KHD5"  # XX 25 = 19 + 6, G letter
NATIONAL_2010 = "23100101AB28"  # XX 23 = 20 + 3
NATIONAL_UNKNOWN_DATE = "00342145BZ38"  # XX 00: YYMMDD is a running number
VGR_1980 = "19800101K125"
VGR_2001 = "20011231M052"
VGR_1970 = "19700615X898"
STOCKHOLM = "992019456781"
STOCKHOLM_2 = "992023123456"


def _luhn_digit(nine: str) -> str:
    """Independent of the module: weights 2, 1, 2, ... from the left over nine digits."""
    total = 0
    for i, ch in enumerate(nine):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def _with_luhn(eleven: str) -> str:
    """A 12-digit number YYYYMMDDNNN + the correct check digit."""
    return eleven + _luhn_digit(eleven[2:])


def _coordination(personnummer: str) -> str:
    """The samordningsnummer with the same date and birth number (day + 60, new check digit)."""
    day = int(personnummer[6:8]) + 60
    return _with_luhn(f"{personnummer[:6]}{day:02d}{personnummer[8:11]}")


def _wrong_check(canonical: str) -> str:
    """The same number with a different (so wrong) last digit."""
    return canonical[:-1] + str((int(canonical[-1]) + 1) % 10)


def _short(canonical: str, separator: str = "-") -> str:
    return f"{canonical[2:8]}{separator}{canonical[8:]}"


def _assert_message_hides(error: IdentityNumberError, text: str) -> None:
    """The message (and repr) must not echo the number or any four-digit run of it."""
    digits = re.sub(r"\D", "", text)
    shown = (str(error.message), str(error), repr(error))
    for rendered in shown:
        assert text.strip() not in rendered or not text.strip()
        for i in range(len(digits) - 3):
            assert digits[i : i + 4] not in rendered, rendered


# --- IDENT-1: accepted forms -----------------------------------------------------------------


def _forms(canonical: str) -> list[str]:
    return [
        canonical,  # YYYYMMDDNNNC
        f"{canonical[:8]}-{canonical[8:]}",  # YYYYMMDD-NNNC
        _short(canonical),  # YYMMDD-NNNC
        canonical[2:],  # YYMMDDNNNC
        f"  {_short(canonical)}\t\n",  # surrounding whitespace
        f" {canonical} ",
        f"{canonical[2:8]}\u2013{canonical[8:]}",  # en dash pasted from a document
    ]


@pytest.mark.parametrize("canonical", TEST_NUMBERS)
def test_ident_1_accepts_all_forms_and_normalises_to_12_digits(canonical: str) -> None:
    expected_birth = date(int(canonical[:4]), int(canonical[4:6]), int(canonical[6:8]))
    for text in _forms(canonical):
        number = parse_personal_identity_number(text, today=TODAY)
        assert number.value == canonical, text
        assert number.kind == "personnummer"
        assert number.birth_date == expected_birth
        assert number.reserve_format is None
        assert number.formatted() == f"{canonical[:8]}-{canonical[8:]}"


def test_ident_1_plus_separator_means_a_hundred_years_or_older() -> None:
    with_plus = parse_personal_identity_number(_short(BORN_1890, "+"), today=TODAY)
    assert with_plus.value == BORN_1890
    assert with_plus.birth_year == 1890
    # The same ten digits with "-" (or none) belong to someone under 100: born 1990.
    for text in (_short(BORN_1890, "-"), BORN_1890[2:]):
        under_100 = parse_personal_identity_number(text, today=TODAY)
        assert under_100.value == "19" + BORN_1890[2:]
        assert under_100.birth_year == 1990


@pytest.mark.parametrize(
    ("today", "expected_century"),
    [
        (TODAY, "20"),
        (date(2000, 1, 1), "20"),  # born today: not after today
        (date(1999, 12, 31), "19"),  # would be tomorrow: previous century
    ],
)
def test_ident_1_century_is_the_most_recent_not_after_today(
    today: date, expected_century: str
) -> None:
    number = parse_personal_identity_number(_short(BORN_2000), today=today)
    assert number.value == expected_century + BORN_2000[2:]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_short(LEAP_DAY_1904, "+"), LEAP_DAY_1904),
        (LEAP_DAY_1904, LEAP_DAY_1904),
        (_short(LEAP_DAY_1976), LEAP_DAY_1976),
    ],
)
def test_ident_1_leap_day_is_a_real_date(text: str, expected: str) -> None:
    assert parse_personal_identity_number(text, today=TODAY).value == expected


def test_ident_1_today_defaults_to_the_current_date() -> None:
    assert parse_personal_identity_number(_short(TEST_NUMBERS[0])).value == TEST_NUMBERS[0]


# --- IDENT-1: samordningsnummer --------------------------------------------------------------


@pytest.mark.parametrize("personnummer", [*TEST_NUMBERS, BORN_1890])
def test_ident_1_samordningsnummer_is_day_plus_60(personnummer: str) -> None:
    canonical = _coordination(personnummer)
    separator = "+" if personnummer.startswith("18") else "-"
    texts = [canonical, f"{canonical[:8]}-{canonical[8:]}", _short(canonical, separator)]
    if separator == "-":
        texts.append(canonical[2:])
    for text in texts:
        number = parse_personal_identity_number(text, today=TODAY)
        assert number.kind == "samordningsnummer", text
        assert number.value == canonical  # the canonical form keeps day + 60
        assert number.birth_date == date(
            int(personnummer[:4]), int(personnummer[4:6]), int(personnummer[6:8])
        )
        assert number.formatted() == f"{canonical[:8]}-{canonical[8:]}"
    assert is_coordination_number(canonical)
    assert not is_coordination_number(personnummer)
    assert canonical_from_register(canonical) == canonical


def test_ident_1_is_coordination_number_refuses_non_canonical_input() -> None:
    with pytest.raises(IdentityNumberError) as excinfo:
        is_coordination_number(_short(TEST_NUMBERS[0]))
    assert excinfo.value.code == "format"


# --- IDENT-1: refused input, each with its code ----------------------------------------------


def _refused_personal_cases() -> list[tuple[str, str, date]]:
    pnr = TEST_NUMBERS[0]
    wrong_check = _wrong_check(pnr)
    return [
        ("", "empty", TODAY),
        ("   \t", "empty", TODAY),
        ("abcdefghij", "format", TODAY),
        (pnr + "1", "format", TODAY),  # 13 digits
        (pnr[2:11], "format", TODAY),  # 9 digits
        (pnr[2:] + "x", "format", TODAY),
        (f"{pnr[2:8]} {pnr[8:]}", "format", TODAY),  # space is not a separator
        (f"{pnr[:8]}+{pnr[8:]}", "format", TODAY),  # "+" only with the 10-digit form
        (f"{pnr[2:7]}-{pnr[7:]}", "format", TODAY),  # separator in the wrong place
        (
            "\u0661\u0669\u0664\u0662\u0660\u0661\u0660\u0667\u0667\u0660\u0669\u0668",
            "format",
            TODAY,
        ),
        ("17" + pnr[2:], "century", TODAY),
        ("21" + pnr[2:], "century", TODAY),
        (STOCKHOLM, "reserve_number", TODAY),  # 12 digits starting with 99
        (_with_luhn("19421301709"), "date", TODAY),  # month 13
        (_with_luhn("19420132709"), "date", TODAY),  # day 32
        (_with_luhn("19420230709"), "date", TODAY),  # 30 February
        (_with_luhn("19420100709"), "date", TODAY),  # day 0
        (_with_luhn("19420160709"), "date", TODAY),  # samordningsnummer day 0
        (_with_luhn("19420192709"), "date", TODAY),  # samordningsnummer day 32
        (_short(_with_luhn("19000229709"), "+"), "date", TODAY),  # 1900 was no leap year
        (BORN_2000, "future", date(1999, 6, 1)),
        (f"{BORN_2000[:8]}-{BORN_2000[8:]}", "future", date(1999, 12, 31)),
        (_with_luhn("20990101709"), "future", TODAY),
        (_with_luhn("19420107000"), "birth_number", TODAY),
        (wrong_check, "check_digit", TODAY),
        (_short(wrong_check), "check_digit", TODAY),
        (wrong_check[2:], "check_digit", TODAY),
        (_wrong_check(_coordination(pnr)), "check_digit", TODAY),
    ]


@pytest.mark.parametrize(("text", "code", "today"), _refused_personal_cases())
def test_ident_1_refuses_with_a_code_naming_the_problem(text: str, code: str, today: date) -> None:
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_personal_identity_number(text, today=today)
    assert excinfo.value.code == code
    assert isinstance(excinfo.value, ValueError)
    assert str(excinfo.value.message)  # a human message
    _assert_message_hides(excinfo.value, text)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("format", "Enter 10 or 12 digits, e.g. YYYYMMDD-NNNN."),
        ("date", "The date part is not a real date."),
        ("check_digit", "The check digit is wrong."),
    ],
)
def test_ident_1_messages_name_the_field_problem(code: str, message: str) -> None:
    cases = {c: t for t, c, _today in _refused_personal_cases()}
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_personal_identity_number(cases[code], today=TODAY)
    assert str(excinfo.value) == message


def test_ident_1_error_messages_are_lazy_translatable() -> None:
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_personal_identity_number("x", today=TODAY)
    assert not isinstance(excinfo.value.message, str)  # a lazy proxy, translated when shown
    assert str(excinfo.value.message) == str(excinfo.value)


def test_ident_1_repr_of_a_parsed_number_hides_it() -> None:
    number = parse_personal_identity_number(TEST_NUMBERS[0], today=TODAY)
    assert TEST_NUMBERS[0][2:8] not in repr(number)
    assert TEST_NUMBERS[0][8:] not in repr(number)
    assert "personnummer" in repr(number)


# --- IDENT-1: bulk register fast path --------------------------------------------------------


@pytest.mark.parametrize("canonical", [*TEST_NUMBERS, BORN_1890, BORN_2000, LEAP_DAY_1904])
def test_ident_1_register_fast_path_accepts_valid_numbers(canonical: str) -> None:
    assert canonical_from_register(canonical) == canonical


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "format"),
        (TEST_NUMBERS[0][2:], "format"),  # 10-digit form is not the register's form
        (f"{TEST_NUMBERS[0][:8]}-{TEST_NUMBERS[0][8:]}", "format"),
        (f" {TEST_NUMBERS[0]}", "format"),
        ("19420107709a", "format"),
        ("17" + TEST_NUMBERS[0][2:], "century"),
        (STOCKHOLM, "reserve_number"),
        (_with_luhn("19420230709"), "date"),
        (_with_luhn("19421301709"), "date"),
        (_with_luhn("19000229709"), "date"),
        (_with_luhn("19420192709"), "date"),
        (_with_luhn("19420107000"), "birth_number"),
        (_wrong_check(TEST_NUMBERS[0]), "check_digit"),
    ],
)
def test_ident_1_register_fast_path_refuses_invalid_numbers(value: str, code: str) -> None:
    with pytest.raises(IdentityNumberError) as excinfo:
        canonical_from_register(value)
    assert excinfo.value.code == code
    _assert_message_hides(excinfo.value, value)


# --- IDENT-2: reserve number formats ---------------------------------------------------------


def test_ident_2_registry_holds_the_documented_formats() -> None:
    assert set(RESERVE_FORMATS) == {"national", "vgr", "stockholm"}
    for name, fmt in RESERVE_FORMATS.items():
        assert fmt.name == name


@pytest.mark.parametrize(
    ("text", "fmt", "canonical", "birth_date"),
    [
        (NATIONAL_FEMALE_1995, "national", NATIONAL_FEMALE_1995, date(1995, 6, 6)),
        (NATIONAL_UNKNOWN_SEX_1978, "national", NATIONAL_UNKNOWN_SEX_1978, date(1978, 4, 4)),
        (NATIONAL_2010, "national", NATIONAL_2010, date(2010, 1, 1)),
        (NATIONAL_UNKNOWN_DATE, "national", NATIONAL_UNKNOWN_DATE, None),
        ("22950606-fh22", "national", NATIONAL_FEMALE_1995, date(1995, 6, 6)),
        (f"  {NATIONAL_UNKNOWN_DATE} ", "national", NATIONAL_UNKNOWN_DATE, None),
        (VGR_1980, "vgr", VGR_1980, date(1980, 1, 1)),
        (VGR_2001, "vgr", VGR_2001, date(2001, 12, 31)),
        (VGR_1970, "vgr", VGR_1970, date(1970, 6, 15)),
        ("19800101-k125", "vgr", VGR_1980, date(1980, 1, 1)),
        (STOCKHOLM, "stockholm", STOCKHOLM, None),
        (STOCKHOLM_2, "stockholm", STOCKHOLM_2, None),
        ("99 2019 45678 1", "stockholm", STOCKHOLM, None),
    ],
)
def test_ident_2_accepts_each_reserve_format(
    text: str, fmt: str, canonical: str, birth_date: date | None
) -> None:
    for formats in ([fmt], ALL_FORMATS):
        number = parse_reserve_number(text, formats=formats)
        assert number.kind == "reservnummer"
        assert number.reserve_format == fmt
        assert number.value == canonical
        assert number.formatted() == canonical
        assert number.birth_date == birth_date


@pytest.mark.parametrize(
    ("text", "formats", "code"),
    [
        # national
        ("22950606FH23", ["national"], "check_digit"),
        ("23100101AB27", ["national"], "check_digit"),
        ("00342145BZ31", ["national"], "check_digit"),
        ("22950606FI22", ["national"], "reserve_letter"),
        ("22950606OH22", ["national"], "reserve_letter"),
        ("22950606FHQ2", ["national"], "reserve_letter"),
        ("22950231FH22", ["national"], "date"),  # 31 February
        ("22951306FH22", ["national"], "date"),  # month 13
        ("19950606FH22", ["national"], "reserve_format"),  # 18-21 are never used
        ("21950606FH22", ["national"], "reserve_format"),
        ("99950606FH22", ["national"], "reserve_format"),
        ("00341245BZ38", ["national"], "reserve_format"),  # unknown date: MM must be 20-99
        ("00342165BZ38", ["national"], "reserve_format"),  # unknown date: DD must be 40-59
        ("22950606F122", ["national"], "reserve_format"),  # no format of that shape
        ("22950606FH2", ["national"], "reserve_format"),
        # vgr
        ("19800101K126", ["vgr"], "check_digit"),
        ("19800101M125", ["vgr"], "check_digit"),  # letter counts in the check digit
        ("19800101A125", ["vgr"], "reserve_letter"),
        ("19800230K125", ["vgr"], "date"),
        ("19801301K125", ["vgr"], "date"),
        ("17800101K125", ["vgr"], "century"),
        ("19800101KK25", ["vgr"], "reserve_format"),
        ("19800101K12", ["vgr"], "reserve_format"),
        # stockholm
        ("982019456781", ["stockholm"], "reserve_format"),
        ("99201945678", ["stockholm"], "reserve_format"),
        ("9920194567812", ["stockholm"], "reserve_format"),
        ("99201945678A", ["stockholm"], "reserve_format"),
        # general
        ("", ALL_FORMATS, "empty"),
        ("  - ", ALL_FORMATS, "empty"),
        (VGR_1980, [], "reserve_format"),  # nothing configured
        (VGR_1980, ["national", "stockholm"], "reserve_format"),  # not a configured format
    ],
)
def test_ident_2_refuses_invalid_reserve_numbers(text: str, formats: list[str], code: str) -> None:
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_reserve_number(text, formats=formats)
    assert excinfo.value.code == code
    _assert_message_hides(excinfo.value, text)


def _parse_with_unknown_reserve_format() -> IdentityNumber:
    return parse_reserve_number(VGR_1980, formats=["vgr", "skane"])


def _search_with_unknown_reserve_format() -> IdentityNumber:
    return parse_identity_number(TEST_NUMBERS[0], reserve_formats=["skane"], today=TODAY)


@pytest.mark.parametrize(
    "call", [_parse_with_unknown_reserve_format, _search_with_unknown_reserve_format]
)
def test_ident_2_unknown_format_name_is_refused_and_named(
    call: Callable[[], IdentityNumber],
) -> None:
    with pytest.raises(IdentityNumberError) as excinfo:
        call()
    assert excinfo.value.code == "unknown_format"
    assert "skane" in str(excinfo.value)


def test_ident_2_a_single_format_name_string_is_not_split_into_characters() -> None:
    assert parse_reserve_number(VGR_1980, formats="vgr").reserve_format == "vgr"


# --- IDENT-2: reservnummer and personnummer are never confused -------------------------------

RESERVE_NUMBERS = [
    (NATIONAL_FEMALE_1995, "national"),
    (NATIONAL_UNKNOWN_SEX_1978, "national"),
    (NATIONAL_UNKNOWN_DATE, "national"),
    (VGR_1980, "vgr"),
    (VGR_2001, "vgr"),
    (STOCKHOLM, "stockholm"),
]


@pytest.mark.parametrize(("text", "fmt"), RESERVE_NUMBERS)
def test_ident_2_search_box_recognises_reserve_numbers(text: str, fmt: str) -> None:
    number = parse_identity_number(text, reserve_formats=ALL_FORMATS, today=TODAY)
    assert number.kind == "reservnummer"
    assert number.reserve_format == fmt


@pytest.mark.parametrize(("text", "fmt"), RESERVE_NUMBERS)
def test_ident_2_reserve_number_is_never_a_personnummer(text: str, fmt: str) -> None:
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_personal_identity_number(text, today=TODAY)
    assert excinfo.value.code in {"format", "reserve_number"}
    # Also when its own format is not configured, the search box does not take it as one.
    others = [name for name in ALL_FORMATS if name != fmt]
    with pytest.raises(IdentityNumberError):
        parse_identity_number(text, reserve_formats=others, today=TODAY)


def test_ident_2_stockholm_number_without_stockholm_configured_gets_a_sensible_error() -> None:
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_identity_number(STOCKHOLM, reserve_formats=["vgr"], today=TODAY)
    assert excinfo.value.code == "reserve_number"
    assert "reserve number" in str(excinfo.value)
    _assert_message_hides(excinfo.value, STOCKHOLM)


@pytest.mark.parametrize("canonical", [*TEST_NUMBERS, BORN_2000, _coordination(TEST_NUMBERS[1])])
def test_ident_2_personnummer_is_never_a_reserve_number(canonical: str) -> None:
    for text in (canonical, f"{canonical[:8]}-{canonical[8:]}", _short(canonical)):
        with pytest.raises(IdentityNumberError) as excinfo:
            parse_reserve_number(text, formats=ALL_FORMATS)
        assert excinfo.value.code == "reserve_format"
        number = parse_identity_number(text, reserve_formats=ALL_FORMATS, today=TODAY)
        assert number.kind in {"personnummer", "samordningsnummer"}
        assert number.value == canonical


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("19800101K126", "check_digit"),  # vgr-shaped: the reserve error is the one reported
        ("22950606FI22", "reserve_letter"),
        ("hello", "format"),  # no reserve shape: the personnummer error is reported
        ("", "empty"),
        (_wrong_check(TEST_NUMBERS[0]), "check_digit"),
        (_with_luhn("19421301709"), "date"),
        (BORN_2000, "future"),
    ],
)
def test_ident_2_search_box_reports_the_relevant_error(text: str, code: str) -> None:
    with pytest.raises(IdentityNumberError) as excinfo:
        parse_identity_number(text, reserve_formats=ALL_FORMATS, today=date(1999, 1, 1))
    assert excinfo.value.code == code
    _assert_message_hides(excinfo.value, text)


# --- IDENT-3: birth year ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TEST_NUMBERS[0], 1942),
        (_short(BORN_1890, "+"), 1890),
        (_short(BORN_2000), 2000),
        (_coordination(TEST_NUMBERS[2]), 1942),
        (NATIONAL_FEMALE_1995, 1995),
        (NATIONAL_2010, 2010),
        (NATIONAL_UNKNOWN_DATE, None),
        (VGR_1980, 1980),
        (VGR_2001, 2001),
        (STOCKHOLM, None),  # 99yyyy: the year of issue, not of birth
    ],
)
def test_ident_3_birth_year_is_derived_from_the_number(text: str, expected: int | None) -> None:
    number = parse_identity_number(text, reserve_formats=ALL_FORMATS, today=TODAY)
    assert number.birth_year == expected


def test_ident_3_birth_year_is_none_without_a_birth_date() -> None:
    number = IdentityNumber(
        kind="reservnummer", value=STOCKHOLM, birth_date=None, reserve_format="stockholm"
    )
    assert number.birth_year is None

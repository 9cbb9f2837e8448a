"""Swedish identity numbers: parsing, validation and canonical form (IDENT-1, IDENT-2, IDENT-3).

Pure Python, no database and no settings access: callers pass the configured reserve number
formats (the ``RESERVE_NUMBER_FORMATS`` setting) and, in tests, ``today``.

Error messages never contain the number that was entered (it may belong to a person with
protected identity, and messages end up in logs); ``repr()`` of an :class:`IdentityNumber`
hides the number and the birth date for the same reason.

Personnummer and samordningsnummer (IDENT-1)
--------------------------------------------
Accepted input, with surrounding whitespace ignored:

* ``YYMMDD-NNNC``, ``YYMMDDNNNC`` (under 100 years old) and ``YYMMDD+NNNC`` (100 or older);
* ``YYYYMMDDNNNC`` and ``YYYYMMDD-NNNC``.

Typographic dashes (U+2010 to U+2013, U+2212) count as ``-``. The canonical form is 12 digits
``YYYYMMDDNNNC``. For the 10-digit forms the century is the most recent one that does not put
the birth date after ``today``; ``+`` moves it one century further back. The check digit ``C``
is the Luhn digit over ``YYMMDDNNN``. A samordningsnummer is the same with 60 added to the day;
its canonical form keeps the +60. The birth number ``NNN`` is never ``000``.

Reservnummer (IDENT-2)
----------------------
Formats are looked up by name in :data:`RESERVE_FORMATS`. Input is upper-cased and spaces and
``-`` are removed; the result is the canonical value. Every format contains a letter or starts
with ``99``, so a reservnummer can never be a valid personnummer or samordningsnummer (a
12-digit personnummer starts with 18, 19 or 20).

``vgr`` (Västra Götaland), ``yyyymmdd[KMX]ggC``
    A birth date, a letter K, M or X, two digits and a check digit: the Luhn check over the
    last ten characters with the letter read as K=5, M=7, X=8.

``stockholm`` (Region Stockholm), ``99yyyyNNNNNC``
    12 digits starting with 99. Format only: published examples do not pass Luhn. According
    to Region Stockholm (vardgivarguiden.se, "Reservnummer") the four digits after 99 are the
    year the number was *issued*, not the birth year, so no birth year is derived.

``national`` (Inera's nationellt reservid, NRID, OID 1.2.752.74.9.1), ``XXYYMMDDNNGC``
    Source: Inera's description "Nationellt Reservidformat" for the Personuppgiftstjänsten
    (confluence.cgiostersund.se/display/PU/Nationellt+Reservidformat), which summarises
    "Nationellt ReservID - specifikation 1.0"; the same text of the G and C sections is quoted
    in github.com/tbillas/SwedishIdentifier, and HL7 Sweden's basprofiler use the matching
    pattern ``[0-9]{8}`` + two letters + (digit or letter) + digit. The specification PDF
    itself was not available. Our reading:

    * ``XX``: ``00`` when the birth date is unknown; otherwise the birth century plus a
      constant 3, 6, ..., 78 (first series: 19 -> 22, 20 -> 23). 01-17 are reserved and 18-21
      are never used, so they cannot be confused with a personnummer. Because the constant is a
      multiple of 3, the century is the one of 18, 19, 20 congruent to ``XX`` modulo 3 (so
      22..98 are valid; 01-21 and 99 are refused).
    * ``YYMMDD``: the birth date when known (a real date); when ``XX`` is ``00`` a running
      number with MM 20-99 and DD 40-59 (no birth date is derived).
    * ``NN``: two capital letters A-Z except I, O, Q, V, W.
    * ``G``: a digit (sex as in a personnummer) or, for unknown sex, a capital letter A-Z
      except I, O, Q, V, W.
    * ``C``: "Luhn, letters replaced by their ASCII value (A -> 65), computed over the eleven
      characters XXYYMMDDNNG". We read this literally: every letter is replaced by its decimal
      ASCII code (two digits) and the standard Luhn check digit is computed over the resulting
      string of digits. (tbillas/SwedishIdentifier instead weights each letter code as a
      single Luhn position; the two readings give different digits for most numbers.) The
      computation is isolated in :func:`_national_check_digit_ok`.

Birth year (IDENT-3)
--------------------
:attr:`IdentityNumber.birth_year` comes from the birth date: always present for personnummer
and samordningsnummer, for ``vgr`` and for ``national`` with a known date, otherwise ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal, TypeAlias
from urllib.parse import unquote

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    StrOrPromise: TypeAlias = str | _StrPromise

__all__ = [
    "IDENTITY_NUMBER_IN_TEXT",
    "RESERVE_FORMATS",
    "IdentityKind",
    "IdentityNumber",
    "IdentityNumberError",
    "ReserveFormat",
    "canonical_from_register",
    "contains_identity_number",
    "identity_number_spans",
    "is_coordination_number",
    "normalise_text",
    "parse_identity_number",
    "parse_personal_identity_number",
    "parse_reserve_number",
    "redact_identity_numbers",
]

IdentityKind: TypeAlias = Literal["personnummer", "samordningsnummer", "reservnummer"]


class IdentityNumberError(ValueError):
    """A refused identity number. ``code`` is machine-readable, ``message`` is for people.

    The message never contains the number itself.
    """

    code: str
    message: StrOrPromise

    def __init__(self, message: StrOrPromise, code: str) -> None:
        super().__init__(message, code)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)

    def __repr__(self) -> str:
        return f"IdentityNumberError(code={self.code!r}, message={str(self.message)!r})"


# Messages (English msgids; translated through the .po files).
_MSG_EMPTY = _("Enter an identity number.")
_MSG_FORMAT = _("Enter 10 or 12 digits, e.g. YYYYMMDD-NNNN.")
_MSG_CENTURY = _("The year must begin with 18, 19 or 20.")
_MSG_LOOKS_RESERVE = _(
    "This looks like a reserve number, not a personal identity number or coordination number."
)
_MSG_DATE = _("The date part is not a real date.")
_MSG_FUTURE = _("The date part is in the future.")
_MSG_BIRTH_NUMBER = _("The three digits after the date cannot be 000.")
_MSG_CHECK_DIGIT = _("The check digit is wrong.")
_MSG_NO_RESERVE_FORMATS = _("No reserve number format is configured.")
_MSG_RESERVE_FORMAT = _("This does not match any of the configured reserve number formats.")
_MSG_NATIONAL_LETTERS = _("The letters in a national reserve number cannot be I, O, Q, V or W.")
_MSG_NATIONAL_PREFIX = _("A national reserve number must begin with 00 or with 22 to 98.")
_MSG_NATIONAL_SERIAL = _(
    "A national reserve number without a birth date must have 20-99 in the month part "
    "and 40-59 in the day part."
)
_MSG_VGR_LETTER = _("The letter in a Västra Götaland reserve number must be K, M or X.")

_ASCII_DIGITS: Final = frozenset("0123456789")
_DASHES: Final = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2212", "-"))
# Luhn: the digit sum of 2 * d, for d = 0..9.
_LUHN_DOUBLE: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_DAYS_IN_MONTH: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_VALID_CENTURIES: Final = frozenset({"18", "19", "20"})
_COORDINATION_DAY_OFFSET: Final = 60


@dataclass(frozen=True, repr=False)
class IdentityNumber:
    """A parsed, valid identity number in canonical form."""

    kind: IdentityKind
    value: str
    birth_date: date | None
    reserve_format: str | None = None

    @property
    def birth_year(self) -> int | None:
        """IDENT-3: the birth year shown in place of the identity, when it can be derived."""
        return self.birth_date.year if self.birth_date is not None else None

    def formatted(self) -> str:
        """``YYYYMMDD-NNNN`` for personnummer/samordningsnummer, else the canonical value."""
        if self.kind == "reservnummer":
            return self.value
        return f"{self.value[:8]}-{self.value[8:]}"

    def __repr__(self) -> str:
        # Deliberately without the number or the birth date: reprs end up in logs.
        return (
            f"IdentityNumber(kind={self.kind!r}, reserve_format={self.reserve_format!r}, "
            "value=<hidden>)"
        )


# --- helpers -------------------------------------------------------------------------------


def _is_digits(text: str) -> bool:
    return bool(text) and all(ch in _ASCII_DIGITS for ch in text)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _is_real_date(year: int, month: int, day: int) -> bool:
    if year < 1 or not 1 <= month <= 12 or day < 1:
        return False
    if month == 2 and _is_leap(year):
        return day <= 29
    return day <= _DAYS_IN_MONTH[month]


def _luhn_ok(digits: str) -> bool:
    """Standard Luhn over a string of ASCII digits whose last digit is the check digit."""
    total = 0
    double = len(digits) % 2 == 0  # the leftmost digit is doubled when the length is even
    for ch in digits:
        d = ord(ch) - 48
        total += _LUHN_DOUBLE[d] if double else d
        double = not double
    return total % 10 == 0


def _split_day(day_part: int) -> tuple[int, bool]:
    """The real day and whether the number is a samordningsnummer (day + 60)."""
    if day_part > _COORDINATION_DAY_OFFSET:
        return day_part - _COORDINATION_DAY_OFFSET, True
    return day_part, False


def _check_canonical12(canonical: str) -> tuple[date, bool]:
    """Validate a 12-digit string (already known to be ASCII digits) except for the future.

    Returns the birth date and whether it is a samordningsnummer.
    """
    century = canonical[:2]
    if century not in _VALID_CENTURIES:
        if century == "99":
            raise IdentityNumberError(_MSG_LOOKS_RESERVE, "reserve_number")
        raise IdentityNumberError(_MSG_CENTURY, "century")
    year = int(canonical[0:4])
    month = int(canonical[4:6])
    day, coordination = _split_day(int(canonical[6:8]))
    if not _is_real_date(year, month, day):
        raise IdentityNumberError(_MSG_DATE, "date")
    return date(year, month, day), coordination


def _check_tail(canonical: str) -> None:
    if canonical[8:11] == "000":
        raise IdentityNumberError(_MSG_BIRTH_NUMBER, "birth_number")
    if not _luhn_ok(canonical[2:]):
        raise IdentityNumberError(_MSG_CHECK_DIGIT, "check_digit")


# --- personnummer / samordningsnummer (IDENT-1) ----------------------------------------------


def _personal_canonical(text: str, today: date) -> str:
    """The 12-digit form of accepted input, with the century inferred for 10-digit forms."""
    s = text.strip().translate(_DASHES)
    if not s:
        raise IdentityNumberError(_MSG_EMPTY, "empty")
    n = len(s)
    if n == 12 and _is_digits(s):
        return s
    if n == 13 and s[8] == "-" and _is_digits(s[:8]) and _is_digits(s[9:]):
        return s[:8] + s[9:]
    if n == 10 and _is_digits(s):
        short, separator = s, "-"
    elif n == 11 and s[6] in "-+" and _is_digits(s[:6]) and _is_digits(s[7:]):
        short, separator = s[:6] + s[7:], s[6]
    else:
        raise IdentityNumberError(_MSG_FORMAT, "format")

    yy, month = int(short[0:2]), int(short[2:4])
    day, _coordination = _split_day(int(short[4:6]))
    year = today.year - today.year % 100 + yy
    if (year, month, day) > (today.year, today.month, today.day):
        year -= 100
    if separator == "+":
        year -= 100
    return f"{year:04d}{short[2:]}"


def parse_personal_identity_number(text: str, *, today: date | None = None) -> IdentityNumber:
    """IDENT-1: parse a personnummer or samordningsnummer, or raise :class:`IdentityNumberError`.

    Codes: ``empty``, ``format``, ``century``, ``reserve_number`` (12 digits starting with 99),
    ``date``, ``future``, ``birth_number``, ``check_digit``.
    """
    if today is None:
        today = date.today()
    canonical = _personal_canonical(text, today)
    birth_date, coordination = _check_canonical12(canonical)
    if birth_date > today:
        raise IdentityNumberError(_MSG_FUTURE, "future")
    _check_tail(canonical)
    return IdentityNumber(
        kind="samordningsnummer" if coordination else "personnummer",
        value=canonical,
        birth_date=birth_date,
        reserve_format=None,
    )


def canonical_from_register(value: str) -> str:
    """Validate the population register's 12-digit form and return it unchanged.

    The fast path for the bulk import (about 1.3 microseconds a call): no regular expressions,
    no ``date`` objects, no century inference and no future check (the register is the
    authority on who exists). Checks the century (18, 19, 20), the date (day - 60 for a
    samordningsnummer), the birth number and the Luhn digit; raises
    :class:`IdentityNumberError` with the same codes as the other parsers.
    """
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        raise IdentityNumberError(_MSG_FORMAT, "format")
    century = value[:2]
    if century not in _VALID_CENTURIES:
        if century == "99":
            raise IdentityNumberError(_MSG_LOOKS_RESERVE, "reserve_number")
        raise IdentityNumberError(_MSG_CENTURY, "century")
    day, _coordination = _split_day(int(value[6:8]))
    if not _is_real_date(int(value[0:4]), int(value[4:6]), day):
        raise IdentityNumberError(_MSG_DATE, "date")
    _check_tail(value)
    return value


def is_coordination_number(canonical12: str) -> bool:
    """Whether a canonical 12-digit number is a samordningsnummer (day part 61-91)."""
    if len(canonical12) != 12 or not _is_digits(canonical12):
        raise IdentityNumberError(_MSG_FORMAT, "format")
    return _COORDINATION_DAY_OFFSET < int(canonical12[6:8]) <= _COORDINATION_DAY_OFFSET + 31


# --- reservnummer (IDENT-2) ----------------------------------------------------------------


class ReserveFormat:
    """A reserve number format: a cheap shape test, then a full validation.

    ``matches`` decides whether a canonical string is meant to be of this format (so that a
    search box can tell reserve numbers from personnummer); ``validate`` raises
    :class:`IdentityNumberError` naming the problem, or returns the birth date if the format
    contains one.
    """

    name: str
    label: StrOrPromise
    _shape: re.Pattern[str]

    def matches(self, canonical: str) -> bool:
        return self._shape.fullmatch(canonical) is not None

    def validate(self, canonical: str) -> date | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


_NATIONAL_FORBIDDEN_LETTERS: Final = frozenset("IOQVW")


def _national_check_digit_ok(canonical: str) -> bool:
    """Luhn over XXYYMMDDNNG with each letter replaced by its two-digit ASCII code."""
    expanded = "".join(ch if ch in _ASCII_DIGITS else str(ord(ch)) for ch in canonical[:11])
    return _luhn_ok(expanded + canonical[11])


class NationalReserveFormat(ReserveFormat):
    """Inera's national reserve id ``XXYYMMDDNNGC`` (see the module docstring)."""

    name = "national"
    label = _("National reserve number")
    _shape = re.compile(r"[0-9]{8}[A-Z]{2}[A-Z0-9][0-9]")

    def validate(self, canonical: str) -> date | None:
        letters = canonical[8:11]
        if any(ch in _NATIONAL_FORBIDDEN_LETTERS for ch in letters):
            raise IdentityNumberError(_MSG_NATIONAL_LETTERS, "reserve_letter")
        prefix = int(canonical[0:2])
        yy, month, day = int(canonical[2:4]), int(canonical[4:6]), int(canonical[6:8])
        birth_date: date | None
        if prefix == 0:
            if not (20 <= month <= 99 and 40 <= day <= 59):
                raise IdentityNumberError(_MSG_NATIONAL_SERIAL, "reserve_format")
            birth_date = None
        elif 22 <= prefix <= 98:
            century = 18 + (prefix - 18) % 3
            year = century * 100 + yy
            if not _is_real_date(year, month, day):
                raise IdentityNumberError(_MSG_DATE, "date")
            birth_date = date(year, month, day)
        else:
            raise IdentityNumberError(_MSG_NATIONAL_PREFIX, "reserve_format")
        if not _national_check_digit_ok(canonical):
            raise IdentityNumberError(_MSG_CHECK_DIGIT, "check_digit")
        return birth_date


_VGR_LETTER_DIGITS: Final = {"K": "5", "M": "7", "X": "8"}


class VgrReserveFormat(ReserveFormat):
    """Västra Götaland ``yyyymmdd[KMX]ggC``."""

    name = "vgr"
    label = _("Västra Götaland reserve number")
    _shape = re.compile(r"[0-9]{8}[A-Z][0-9]{3}")

    def validate(self, canonical: str) -> date | None:
        letter_digit = _VGR_LETTER_DIGITS.get(canonical[8])
        if letter_digit is None:
            raise IdentityNumberError(_MSG_VGR_LETTER, "reserve_letter")
        if canonical[:2] not in _VALID_CENTURIES:
            raise IdentityNumberError(_MSG_CENTURY, "century")
        year, month, day = int(canonical[0:4]), int(canonical[4:6]), int(canonical[6:8])
        if not _is_real_date(year, month, day):
            raise IdentityNumberError(_MSG_DATE, "date")
        if not _luhn_ok(canonical[2:8] + letter_digit + canonical[9:12]):
            raise IdentityNumberError(_MSG_CHECK_DIGIT, "check_digit")
        return date(year, month, day)


class StockholmReserveFormat(ReserveFormat):
    """Region Stockholm ``99yyyyNNNNNC``: format only, no check digit, no birth year."""

    name = "stockholm"
    label = _("Region Stockholm reserve number")
    _shape = re.compile(r"99[0-9]{10}")

    def validate(self, canonical: str) -> date | None:
        # The shape is the whole format; the year is the year of issue, not of birth.
        return None


RESERVE_FORMATS: Mapping[str, ReserveFormat] = MappingProxyType(
    {
        fmt.name: fmt
        for fmt in (NationalReserveFormat(), VgrReserveFormat(), StockholmReserveFormat())
    }
)


def _resolve_formats(names: Sequence[str]) -> tuple[ReserveFormat, ...]:
    if isinstance(names, str):  # a single name passed by mistake would iterate characters
        names = [names]
    resolved = []
    for name in names:
        fmt = RESERVE_FORMATS.get(name)
        if fmt is None:
            raise IdentityNumberError(
                format_lazy(_("Unknown reserve number format: {name}."), name=name),
                "unknown_format",
            )
        resolved.append(fmt)
    return tuple(resolved)


def _reserve_canonical(text: str) -> str:
    return "".join(text.split()).translate(_DASHES).replace("-", "").upper()


def _parse_reserve(canonical: str, formats: Sequence[ReserveFormat]) -> IdentityNumber:
    """Validate against the formats whose shape matches; the first success wins."""
    first_error: IdentityNumberError | None = None
    for fmt in formats:
        if not fmt.matches(canonical):
            continue
        try:
            birth_date = fmt.validate(canonical)
        except IdentityNumberError as error:
            first_error = first_error or error
            continue
        return IdentityNumber(
            kind="reservnummer",
            value=canonical,
            birth_date=birth_date,
            reserve_format=fmt.name,
        )
    if first_error is not None:
        raise first_error
    raise IdentityNumberError(_MSG_RESERVE_FORMAT, "reserve_format")


def parse_reserve_number(text: str, *, formats: Sequence[str]) -> IdentityNumber:
    """IDENT-2: parse a reservnummer in one of the named formats.

    Codes: ``unknown_format`` (a name not in :data:`RESERVE_FORMATS`), ``empty``,
    ``reserve_format`` (no format matches, or none configured), ``reserve_letter``,
    ``century``, ``date``, ``check_digit``.
    """
    resolved = _resolve_formats(formats)
    canonical = _reserve_canonical(text)
    if not canonical:
        raise IdentityNumberError(_MSG_EMPTY, "empty")
    if not resolved:
        raise IdentityNumberError(_MSG_NO_RESERVE_FORMATS, "reserve_format")
    return _parse_reserve(canonical, resolved)


def parse_identity_number(
    text: str, *, reserve_formats: Sequence[str], today: date | None = None
) -> IdentityNumber:
    """What a search box calls: decide whether ``text`` is a reserve number or a personnummer.

    Text shaped like one of the configured reserve formats is parsed as a reservnummer first,
    so a reservnummer is never taken for a personnummer. If it has such a shape but fails that
    format's validation, it is still tried as a personnummer, and if that fails too the
    reserve number's error is reported (it names the more likely problem). Text of no
    configured reserve shape is parsed as a personnummer/samordningsnummer and that error is
    the one reported.
    """
    resolved = _resolve_formats(reserve_formats)
    if not text.strip():
        raise IdentityNumberError(_MSG_EMPTY, "empty")
    canonical = _reserve_canonical(text)
    candidates = [fmt for fmt in resolved if fmt.matches(canonical)]
    if not candidates:
        return parse_personal_identity_number(text, today=today)
    try:
        return _parse_reserve(canonical, candidates)
    except IdentityNumberError as reserve_error:
        try:
            return parse_personal_identity_number(text, today=today)
        except IdentityNumberError:
            raise reserve_error from None


# --- recognising a number in free text (LEAK-1) ---------------------------------------------

# Anything shaped like a personnummer or samordningsnummer (10 or 12 digits, any dash or a
# space between), a Västra Götaland reservnummer (date, K/M/X, three digits) or a national
# reserve id (eight digits, two letters, a letter or digit, a digit). Deliberately wider than
# the parsers: it guards URLs, log lines and free-text fields, where a false alarm is cheap and
# a miss is a leak. :func:`identity_number_spans` adds the spellings this shape cannot see.
IDENTITY_NUMBER_IN_TEXT: Final = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"(?:\d{2})?\d{6}\s*[-+\u2010-\u2015\u2212]?\s*\d{4}"
    r"|\d{8}[KMXkmx]\d{3}"
    r"|\d{8}[A-Za-z]{2}[0-9A-Za-z]\d"
    r")(?![0-9])"
)
# The reservnummer shapes glued to the letters before them ("nr19800101K123").
_RESERVE_GLUED: Final = re.compile(
    r"(?<![0-9])(?:\d{8}[KMX]\d{3}|\d{8}[A-Z]{2}[0-9A-Z]\d)(?![0-9])"
)
_DIGIT_RUN: Final = re.compile(r"[0-9]+")
# At most this many characters between the date part and the last four digits ("19891222 - 2398"
# is three): further apart, two numbers are two numbers.
_MAX_SEPARATOR: Final = 3
# Percent-decoding rounds: enough for a number encoded twice or three times over, bounded so
# that a crafted string cannot keep the guard busy.
_DECODE_ROUNDS: Final = 4


def normalise_text(text: str) -> str:
    """The text as a person would read it: percent-decoded until stable (``%22``, ``%C2%A0``,
    ``%2520``), Unicode NFKC (full-width digits, no-break spaces) and every decimal digit of
    any script as an ASCII digit."""
    for _round in range(_DECODE_ROUNDS):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch for ch in text
    )


def _valid_number(digits: str) -> bool:
    """A real personnummer or samordningsnummer (date and Luhn) or a Region Stockholm
    reservnummer, in 10 or 12 digits. The century of a 10-digit number is unknown, so its date
    is checked in a leap year."""
    if len(digits) == 12 and digits.startswith("99"):
        return True
    if len(digits) == 12:
        if digits[:2] not in _VALID_CENTURIES:
            return False
        year, digits = int(digits[:4]), digits[2:]
    else:
        year = 2000
    month, day = int(digits[2:4]), int(digits[4:6])
    if day > _COORDINATION_DAY_OFFSET:
        day -= _COORDINATION_DAY_OFFSET
    return _is_real_date(year, month, day) and _luhn_ok(digits)


def identity_number_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` (already :func:`normalise_text`-ed) holds an identity number: the shapes
    of :data:`IDENTITY_NUMBER_IN_TEXT`, and, treating every non-digit as a separator, a run of
    10 or 12 digits, or up to four groups close together that make 10 or 12 digits and end in a
    group of 4 (``891223-2389``, ``89-12-23-2389``, ``1989 1223 2389``), glued to letters or
    split by ``_``, ``/``, ``.`` or anything else. Those wider spellings must be a valid number
    (date and check digit), so that order numbers, dates and counts that merely have the
    length pass."""
    spans = [m.span() for m in IDENTITY_NUMBER_IN_TEXT.finditer(text)]
    spans += [m.span() for m in _RESERVE_GLUED.finditer(text.upper())]
    runs = [m.span() for m in _DIGIT_RUN.finditer(text)]
    for index, (start, end) in enumerate(runs):
        if end - start in (10, 12) and _valid_number(text[start:end]):
            spans.append((start, end))
        # The date written in parts (89-12-23, 1989 1223, 891 223) and the last four digits
        # after it: up to four groups close together, the last of four digits.
        digits, last_end = text[start:end], end
        for next_start, next_end in runs[index + 1 : index + 4]:
            if next_start - last_end > _MAX_SEPARATOR or len(digits) >= 12:
                break
            digits += text[next_start:next_end]
            last_end = next_end
            if next_end - next_start == 4 and len(digits) in (10, 12) and _valid_number(digits):
                spans.append((start, next_end))
    return sorted(set(spans))


def contains_identity_number(text: str) -> bool:
    """LEAK-1: whether ``text`` holds an identity number in any spelling (see
    :func:`identity_number_spans`), percent-encoded or not."""
    return bool(identity_number_spans(normalise_text(text)))


def redact_identity_numbers(text: str, replacement: str) -> str:
    """``text`` with every identity number replaced. Text that holds none comes back as it
    was; text that holds one comes back normalised (:func:`normalise_text`), as the number may
    be visible only once decoded."""
    normal = normalise_text(text)
    spans = identity_number_spans(normal)
    if not spans:
        return text
    parts, position = [], 0
    for start, end in spans:
        if start >= position:
            parts.append(normal[position:start] + replacement)
        position = max(position, end)
    return "".join(parts) + normal[position:]

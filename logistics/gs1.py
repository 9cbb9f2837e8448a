"""GS1 codes as a scanner types them: a GTIN's check digit, and the element string of a
DataMatrix or GS1-128 label (GTIN and serial), in its printed form ``(01)<gtin>(21)<serial>`` or
its raw form, where FNC1 reaches the input field as the group separator (ASCII 29) and the
scanner may put a symbology identifier (``]d2``, ``]C1``, ``]Q3``) first."""

from __future__ import annotations

import re
from dataclasses import dataclass

GS = "\x1d"
_SYMBOLOGY = re.compile(r"^\][A-Za-z][0-9]")
# Application identifiers of fixed length (without the AI) that may stand before or after the
# serial on a label: the GTIN, and the dates.
_FIXED = {"01": 14, "02": 14, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6}
# Variable-length ones, ended by a group separator or the end: batch, serial.
_VARIABLE = {"10", "21"}
_PRINTED = re.compile(r"\((\d{2,4})\)([^()]*)")


@dataclass(frozen=True)
class Scan:
    gtin: str
    serial: str


def gtin_valid(code: str) -> bool:
    """A GTIN-13 or GTIN-14 with its check digit right."""
    if not re.fullmatch(r"\d{13,14}", code):
        return False
    body, check = code[:-1], int(code[-1])
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(body[::-1]))
    return (10 - total % 10) % 10 == check


def gtin_normal(code: str) -> str:
    """A GTIN-13 as the 14 digits a GS1 element string carries (the article's GTIN is stored so)."""
    return code.zfill(14) if re.fullmatch(r"\d{13,14}", code) else code


def _raw(text: str) -> dict[str, str] | None:
    fields: dict[str, str] = {}
    rest = text.lstrip(GS)
    while rest:
        ai = rest[:2]
        if ai in _FIXED:
            size = _FIXED[ai]
            value = rest[2 : 2 + size]
            if len(value) != size or not value.isdigit():
                return None
            fields[ai] = value
            rest = rest[2 + size :].lstrip(GS)
        elif ai in _VARIABLE:
            value, _sep, rest = rest[2:].partition(GS)
            if not value:
                return None
            fields[ai] = value
        else:
            return None
    return fields


def scan_parse(text: str) -> Scan | None:
    """The GTIN and serial of a scanned GS1 element string, or None when ``text`` is not one
    (then it is a plain serial number). The GTIN is returned as scanned, unchecked."""
    code = text.strip().replace("<GS>", GS)
    if not code:
        return None
    if code.startswith("("):
        matches = _PRINTED.findall(code)
        if not matches or "".join(f"({ai}){value}" for ai, value in matches) != code:
            return None
        printed = dict(matches)
        if "01" not in printed:
            return None
        return Scan(gtin=printed["01"].strip(), serial=printed.get("21", "").strip())
    symbology = _SYMBOLOGY.match(code)
    if symbology:
        code = code[symbology.end() :]
    elif not (code.startswith("01") and len(code) >= 16 and gtin_valid(code[2:16])):
        # Without a symbology identifier only a string that opens with a valid GTIN is taken
        # for an element string: a serial number that merely starts with 01 stays a serial.
        return None
    fields = _raw(code)
    if fields is None or "01" not in fields:
        return None
    return Scan(gtin=fields["01"], serial=fields.get("21", ""))

from __future__ import annotations

import logging

import pytest

from config.logging import REDACTED, RedactIdentityNumbers, redact


@pytest.mark.parametrize(
    "number", ["198912222398", "19891222-2398", "8912222398", "891222-2398", "891222+2398"]
)
def test_leak_1_log_lines_never_carry_an_identity_number(number):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "looked up %s", (number,), None)
    RedactIdentityNumbers().filter(record)
    assert number not in record.getMessage()
    assert REDACTED in record.getMessage()


def test_leak_1_redaction_leaves_internal_ids_and_dates_alone():
    assert redact("patient P-7N9357L3WM entry 1234567 on 2026-11-22") == (
        "patient P-7N9357L3WM entry 1234567 on 2026-11-22"
    )


@pytest.mark.parametrize(
    "address",
    [
        "/admin/patients/patient/?q=194201199124",
        "/?number=19420119-9124",
        "/admin/auth/user/?q=420119%2B9124",
        "/patients/194201199124/",
    ],
)
def test_leak_1_no_identity_number_travels_in_a_url(client, address):
    response = client.get(address)
    assert response.status_code == 400
    assert "9124" not in response.content.decode()
    assert "Location" not in response


def test_leak_1_ordinary_query_strings_pass(client):
    assert client.get("/healthz?date=2026-11-22&id=1234567").status_code == 200


def test_leak_1_tracebacks_are_redacted_too():
    try:
        raise ValueError("lookup failed for 19891223-2389")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    RedactIdentityNumbers().filter(record)
    formatted = logging.Formatter().format(record)
    assert "2389" not in formatted
    assert REDACTED in formatted


@pytest.mark.parametrize("text", ["19891223\u20132389", "19800101K123", "22800101AB51"])
def test_leak_1_typographic_dashes_and_reservnummer_are_caught(text):
    assert redact(f"x {text} y") == f"x {REDACTED} y"

"""Identity numbers in any spelling, and names, kept out of URLs and the server log (LEAK-1).

The URL guard and the log filter read text as a person would: percent-decoded (also twice),
Unicode NFKC, every non-digit a separator. Request lines lose their query strings altogether, as
a name typed into an admin search box travels in one.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler

from config.logging import REDACTED, RedactIdentityNumbers, redact

NUMBER = "198912222398"
# Full-width digits, as a Japanese or Chinese input method types them (written by code point).
_FULL_WIDTH = {ord(digit): 0xFF10 + int(digit) for digit in "0123456789"}

SPELLINGS = {
    "a number glued to letters": f"pnr{NUMBER}",
    "a 10-digit number glued to letters": "nr8912222398x",
    "an underscore as separator": "19891222_2398",
    "a short number with an underscore": "891222_2398",
    "a leading encoded space": f"%20{NUMBER}",
    "a leading encoded quote": f"%22{NUMBER}",
    "a leading space encoded twice": f"%2520{NUMBER}",
    "a leading quote encoded twice": f"%2522{NUMBER}",
    "an encoded no-break space inside": "19891222%C2%A02398",
    "an encoded no-break space before": f"%C2%A0{NUMBER}",
    "full-width digits": "19891222-2398".translate(_FULL_WIDTH),
    "a reservnummer glued to letters": "nr19800101K123",
    "the date in parts, century first": "1989-12-22-2398",
    "the date in parts, ten digits": "89-12-22-2398",
    "groups of four with spaces": "1989 1222 2398",
    "groups of three with spaces": "891 222 2398",
}


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_leak_1_the_url_guard_refuses_every_spelling_of_a_number(client, spelling):
    response = client.get(f"/admin/patients/patient/?q={spelling}")
    assert response.status_code == 400
    assert "2398" not in response.content.decode()


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_leak_1_the_log_filter_redacts_every_spelling_of_a_number(spelling):
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "GET /search/?q=%s HTTP/1.1", (spelling,), None
    )
    RedactIdentityNumbers().filter(record)
    message = record.getMessage()
    assert "2398" not in message
    assert "K123" not in message
    assert REDACTED in message


@pytest.mark.parametrize(
    "text",
    [
        "patient P-7N9357L3WM entry 1234567 on 2026-11-22",
        "order F-7N9357L3 at 2026-11-22T10:15:00",
        "batch 12345678_1234",  # twelve digits, but no date and check digit
        "case ÄR-2026-0042 from 2026-11-22 to 2026-12-22",
        "delivered 2026-12-06 at 12:30, 1234 kr",
        "tel 040-123 45 67",
    ],
)
def test_leak_1_ids_dates_and_counts_stay_as_they_were(client, text):
    assert redact(text) == text
    assert client.get("/healthz", {"note": text}).status_code == 200


def _server_output(request_line: str) -> str:
    """What runserver writes for a request line, through the configured handlers."""
    stream = io.StringIO()
    handlers = [
        handler
        for handler in logging.getLogger("django.server").handlers
        if type(handler) is logging.StreamHandler
    ]
    assert handlers, "django.server logs through the configured handlers"
    streams = [handler.setStream(stream) for handler in handlers]
    try:
        fake = SimpleNamespace(request=None, log_date_time_string=lambda: "now")
        WSGIRequestHandler.log_message(fake, '"%s" %s %s', request_line, "200", "1234")
    finally:
        for handler, previous in zip(handlers, streams, strict=True):
            handler.setStream(previous)
    return stream.getvalue()


def test_leak_1_a_name_typed_into_admin_search_never_reaches_the_request_log():
    output = _server_output("GET /admin/patients/patient/?q=Gömdasson&o=1 HTTP/1.1")
    assert "/admin/patients/patient/" in output
    assert "Gömdasson" not in output
    assert "q=" not in output


def test_leak_1_no_log_record_of_an_admin_search_carries_the_name(admin_client, caplog):
    """Whatever the request logs (a 404 included), the searched name is in no record."""
    with caplog.at_level(logging.DEBUG):
        admin_client.get("/admin/patients/patient/", {"q": "Gömdasson"})
        admin_client.get("/admin/no-such-page/", {"q": "Gömdasson"})
    assert caplog.records
    assert not any("Gömdasson" in record.getMessage() for record in caplog.records)


def test_leak_1_gunicorn_access_lines_carry_no_query_string_nor_referrer():
    from gunicorn.config import Config  # type: ignore[import-untyped]
    from gunicorn.glogging import Logger  # type: ignore[import-untyped]

    config = Config()
    source: dict[str, object] = {}
    exec((Path(settings.BASE_DIR) / "gunicorn.conf.py").read_text(), source)  # noqa: S102
    config.set("access_log_format", source["access_log_format"])
    config.set("accesslog", "-")
    logger = Logger(config)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(stream)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/admin/patients/patient/?q=G%C3%B6mdasson",
        "PATH_INFO": "/admin/patients/patient/",
        "QUERY_STRING": "q=G%C3%B6mdasson",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://hjm.example/admin/?q=Hemlig",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(seconds=1))
    line = stream.getvalue()
    assert "/admin/patients/patient/" in line
    assert "mdasson" not in line
    assert "Hemlig" not in line
    assert "q=" not in line

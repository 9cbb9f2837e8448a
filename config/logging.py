"""Logging filter: no identity number ever reaches a log line (LEAK-1), even by mistake.

The code logs internal ids only; this filter is the net under that rule. Anything shaped like a
personnummer, samordningsnummer or reservnummer is replaced before a handler formats the
record: the message with its arguments, and any traceback or stack, which the filter formats
itself so that the handler's formatter finds them already redacted.

A number is found however it is spelt (``patients.identity.identity_number_spans``): next to a
percent-encoded byte (``%22``, ``%C2%A0``), glued to letters, split by ``_``. A line with a number
is written decoded, with the number replaced.

Request lines (``django.server``, ``django.request``) lose their query strings altogether
(:class:`StripQueryStrings`): a name typed into an admin search box travels in one, and a name
is no identity number that redaction could recognise (LEAK-1).

PostgreSQL's DETAIL of a violated constraint ("Failing row contains (...)") carries the whole
row, free text and all (LEAK-1): it is dropped entirely, whatever the row holds.
"""

from __future__ import annotations

import logging
import re

from patients.identity import redact_identity_numbers

REDACTED = "[personnummer borttaget]"
ROW_REMOVED = "[rad borttagen]"
# psycopg renders the server's DETAIL on its own line; the row runs to the end of that line.
_FAILING_ROW = re.compile(r"(Failing row contains|Felande rad innehåller) .*")
_FORMATTER = logging.Formatter()
# A path or URL and the query string after it, up to a space, a quote or the end.
_QUERY_STRING = re.compile(r"(?<=[^\s\"'])\?[^\s\"'#]*")
QUERY_REMOVED = "?[borttagen]"


def redact(text: str) -> str:
    return redact_identity_numbers(_FAILING_ROW.sub(ROW_REMOVED, text), REDACTED)


class RedactIdentityNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class StripQueryStrings(logging.Filter):
    """For the loggers of request lines only: ordinary messages may hold a ``?`` of their own."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _QUERY_STRING.sub(QUERY_REMOVED, message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True

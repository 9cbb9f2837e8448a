"""Logging filter: no identity number ever reaches a log line (LEAK-1), even by mistake.

The code logs internal ids only; this filter is the net under that rule. Anything shaped like a
personnummer, samordningsnummer or reservnummer is replaced before a handler formats the
record: the message with its arguments, and any traceback or stack, which the filter formats
itself so that the handler's formatter finds them already redacted.

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

"""Logging filter: no identity number ever reaches a log line (LEAK-1), even by mistake.

The code logs internal ids only; this filter is the net under that rule. Anything shaped like a
personnummer, samordningsnummer or reservnummer is replaced before a handler formats the
record: the message with its arguments, and any traceback or stack, which the filter formats
itself so that the handler's formatter finds them already redacted.
"""

from __future__ import annotations

import logging

from patients.identity import redact_identity_numbers

REDACTED = "[personnummer borttaget]"
_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    return redact_identity_numbers(text, REDACTED)


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

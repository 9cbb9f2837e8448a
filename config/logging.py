"""Logging filter: no identity number ever reaches a log line (LEAK-1), even by mistake.

The code logs internal ids only; this filter is the net under that rule. Anything shaped like a
personnummer or samordningsnummer (10 or 12 digits, with or without separator) is replaced
before a handler formats the record, including the record's arguments.
"""

from __future__ import annotations

import logging
import re

_NUMBER = re.compile(r"(?<!\d)(?:\d{2})?\d{6}\s*[-+]?\s*\d{4}(?!\d)")
REDACTED = "[personnummer borttaget]"


def redact(text: str) -> str:
    return _NUMBER.sub(REDACTED, text)


class RedactIdentityNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True

"""Parsing a register file beside the import: a parser process feeds the importer.

The importer spends its time in the database and in Python (digests, encryption, comparing);
lxml's parsing takes the GIL for most of its work, so a thread would not run beside it. A
forked process parses the file (``iter_records``) and sends its records and rejections, in file
order and in chunks, through a bounded queue: at most ``QUEUE_CHUNKS`` chunks wait, so memory
stays flat however large the file, and the parser waits whenever the importer is behind. The
importer consumes the same stream as before (records, rejections, then ``NavetFileError`` at
the point where the file went wrong), so a file is still applied in one transaction and
rolled back whole.

The parser process touches no database connection (it inherits the importer's, and leaves it
alone; a forked child exits without running finalisers). Records travel through a pipe of the
same machine, never a log or a broker (LEAK-1).
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
from collections.abc import Iterator
from typing import Any

from patients.navet.parser import NavetFileError, NavetRecord, Rejection, iter_records

CHUNK = 500
QUEUE_CHUNKS = 8
# What the parser process sends after the last chunk, or when it failed other than on the file.
_END = "end"
_CRASHED = "crashed"


def _parse_into(path: str, known_county_codes: frozenset[str], out: Any) -> None:
    chunk: list[NavetRecord | Rejection] = []
    try:
        for item in iter_records(path, known_county_codes=known_county_codes):
            chunk.append(item)
            if len(chunk) >= CHUNK:
                out.put(chunk)
                chunk = []
        out.put(chunk)
        out.put(_END)
    except NavetFileError as error:
        # The records before the problem first, as ``iter_records`` yields them.
        out.put(chunk)
        out.put(NavetFileError(error.message))
    except BaseException:
        out.put(_CRASHED)
        raise


def iter_records_beside(
    path: str | os.PathLike[str], *, known_county_codes: frozenset[str]
) -> Iterator[NavetRecord | Rejection]:
    """``iter_records``, parsed in a process of its own while the caller applies."""
    context = multiprocessing.get_context("fork")
    out: Any = context.Queue(maxsize=QUEUE_CHUNKS)
    parser = context.Process(
        target=_parse_into, args=(os.fspath(path), known_county_codes, out), daemon=True
    )
    parser.start()
    try:
        while True:
            try:
                item = out.get(timeout=1)
            except queue_module.Empty:
                if not parser.is_alive():
                    raise NavetFileError("the file could not be read to its end") from None
                continue
            if isinstance(item, list):
                yield from item
                continue
            if isinstance(item, NavetFileError):
                raise item
            if item == _CRASHED:
                raise NavetFileError("the file could not be read to its end")
            return  # _END
    finally:
        if parser.is_alive():
            parser.terminate()
        parser.join()
        out.close()

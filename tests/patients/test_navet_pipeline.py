"""The parser process beside the import (patients/navet/pipeline.py): the importer sees the
same stream, in the same order, as from ``iter_records`` in its own process."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from patients.navet import pipeline
from patients.navet.parser import NavetFileError, NavetRecord, Rejection
from tests.patients.navet_files import (
    ALL_COUNTY_CODES,
    BAD_CHECK_DIGIT,
    PNR_A,
    PNR_B,
    PNR_C,
    PNR_D,
    document,
    parse,
    post,
    write,
)


def _beside(path: Path) -> list[NavetRecord | Rejection]:
    return list(pipeline.iter_records_beside(path, known_county_codes=ALL_COUNTY_CODES))


def test_records_and_rejections_arrive_in_file_order_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK", 2)  # five posts: three chunks
    numbers = [PNR_A, BAD_CHECK_DIGIT, PNR_B, PNR_C, PNR_D]
    path = write(tmp_path, document(*(post(number) for number in numbers)))
    beside = _beside(path)
    assert beside == parse(path)
    assert [type(item) for item in beside] == [
        NavetRecord,
        Rejection,
        NavetRecord,
        NavetRecord,
        NavetRecord,
    ]


def test_a_file_cut_off_gives_its_records_then_the_file_error(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK", 1)
    whole = document(post(PNR_A), post(PNR_B), post(PNR_C))
    path = write(tmp_path, whole[: whole.index(PNR_C)])
    seen: list[NavetRecord | Rejection] = []
    with pytest.raises(NavetFileError) as raised:
        seen.extend(pipeline.iter_records_beside(path, known_county_codes=ALL_COUNTY_CODES))
    with pytest.raises(NavetFileError) as inline:
        parse(path)
    assert [r.identity_number for r in seen if isinstance(r, NavetRecord)] == [PNR_A, PNR_B]
    assert str(raised.value) == str(inline.value)


def test_a_parser_that_fails_otherwise_stops_the_import_with_a_file_error(tmp_path, monkeypatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(pipeline, "iter_records", broken)
    path = write(tmp_path, document(post(PNR_A)))
    with pytest.raises(NavetFileError, match="could not be read to its end"):
        _beside(path)


def test_an_importer_that_stops_early_ends_the_parser_process(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK", 1)
    monkeypatch.setattr(pipeline, "QUEUE_CHUNKS", 1)
    path = write(tmp_path, document(*(post(n) for n in (PNR_A, PNR_B, PNR_C, PNR_D))))
    stream = pipeline.iter_records_beside(path, known_county_codes=ALL_COUNTY_CODES)
    assert isinstance(next(stream), NavetRecord)
    stream.close()  # the importer's transaction failed: the parser must not be left behind
    assert multiprocessing.active_children() == []

"""The Navet parser's files as a whole (``patients.navet.parser``): files it refuses, the
file's head (``read_file_info``), and the extract generator.

No database: files are written to ``tmp_path``. Hand-written files use Skatteverket's test
personnummer only (IDENT-4); generated extracts use 1800s numbers and are never stored.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from patients.navet.generator import write_extract
from patients.navet.parser import (
    FileInfo,
    NavetFileError,
    NavetRecord,
    Rejection,
    iter_records,
    read_file_info,
)
from tests.patients import navet_files as nf
from tests.patients.navet_files import assert_no_personal_data, parse, records

ROOT = Path(__file__).resolve().parents[2]


# --- files that cannot be read --------------------------------------------------------------


def test_malformed_xml_raises_with_the_line_after_earlier_records(tmp_path):
    text = nf.document(nf.post(nf.PNR_A), nf.post(nf.PNR_B, surname="Lind<qvist"), nf.post())
    path = nf.write(tmp_path, text)
    seen: list[NavetRecord | Rejection] = []
    with pytest.raises(NavetFileError) as raised:
        seen.extend(iter_records(path, known_county_codes=nf.ALL_COUNTY_CODES))
    assert len(seen) == 1  # the caller's transaction rolls these back
    bad_line = next(n for n, line in enumerate(text.splitlines(), 1) if "Lind<qvist" in line)
    message = raised.value.message
    assert message.startswith("not well-formed XML")
    assert f"line {bad_line}" in message
    assert_no_personal_data(message, "Lind", "qvist", nf.PNR_B)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_mismatched_tags_are_named_but_no_content(tmp_path):
    text = nf.document(nf.post(nf.PNR_A).replace("</Efternamn>", "</Fornamn>"))
    with pytest.raises(NavetFileError) as raised:
        parse(nf.write(tmp_path, text))
    assert "tag mismatch" in raised.value.message
    assert "Efternamn" in raised.value.message
    assert_no_personal_data(raised.value.message, "Lindqvist")


def test_truncated_file_raises_instead_of_ending_quietly(tmp_path):
    data = nf.SAMPLE.read_bytes()
    path = tmp_path / "half.xml"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(NavetFileError) as raised:
        parse(path)
    message = raised.value.message
    assert "truncated" in message
    assert "line " in message
    assert_no_personal_data(message, "Lindqvist", "Storgatan", "MALMÖ", "Maria")


@pytest.mark.parametrize("cut", [0.3, 0.55, 0.8, 0.97])
def test_file_cut_anywhere_raises(tmp_path, cut):
    data = nf.SAMPLE.read_bytes()
    path = tmp_path / "cut.xml"
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(NavetFileError):
        parse(path)


def test_wrong_root_element_raises(tmp_path):
    text = nf.document(nf.post(), root="Avisering")
    with pytest.raises(NavetFileError, match="root element is Avisering"):
        parse(nf.write(tmp_path, text))
    with pytest.raises(NavetFileError, match="root element is Avisering"):
        read_file_info(tmp_path / "navet.xml")


def test_wrong_root_without_records_raises(tmp_path):
    path = nf.write(tmp_path, "<html><body>Service unavailable</body></html>")
    with pytest.raises(NavetFileError, match="root element is html"):
        parse(path)


def test_post_outside_folkbokforingsposter_raises(tmp_path):
    text = nf.document(nf.post()).replace("Folkbokforingsposter>", "Poster>")
    with pytest.raises(NavetFileError, match="not in Navetavisering/Folkbokforingsposter"):
        parse(nf.write(tmp_path, text))


def test_missing_folkbokforingsposter_raises(tmp_path):
    path = nf.write(tmp_path, "<Navetavisering><Aviseringsinformation/></Navetavisering>")
    with pytest.raises(NavetFileError, match="no Folkbokforingsposter"):
        parse(path)
    with pytest.raises(NavetFileError, match="no Folkbokforingsposter"):
        read_file_info(path)


def test_empty_file_and_missing_file_raise(tmp_path):
    empty = nf.write(tmp_path, "")
    with pytest.raises(NavetFileError, match="empty"):
        parse(empty)
    with pytest.raises(NavetFileError, match="cannot read the file"):
        parse(tmp_path / "missing.xml")
    with pytest.raises(NavetFileError, match="cannot read the file"):
        read_file_info(tmp_path / "missing.xml")


def test_doctype_and_entities_are_refused(tmp_path):
    text = nf.document(nf.post(given="&x;")).replace(
        "<Navetavisering", '<!DOCTYPE Navetavisering [<!ENTITY x "Karl">]>\n<Navetavisering', 1
    )
    path = nf.write(tmp_path, text)
    with pytest.raises(NavetFileError, match="DOCTYPE"):
        parse(path)
    with pytest.raises(NavetFileError, match="DOCTYPE"):
        read_file_info(path)


def test_an_empty_file_of_records_is_fine(tmp_path):
    path = nf.write(tmp_path, nf.document())
    assert parse(path) == []
    info = read_file_info(path)
    assert info is not None
    assert info.record_count == 0


# --- read_file_info -------------------------------------------------------------------------


def test_file_info_is_none_without_filinformation(tmp_path):
    path = nf.write(tmp_path, nf.document(nf.post(), file_info=False))
    assert read_file_info(path) is None


def test_file_info_reads_only_the_head(tmp_path):
    """It stops at Folkbokforingsposter: what comes after is not even read."""
    text = nf.document(nf.post())
    head = text[: text.index("<Folkbokforingsposter>") + len("<Folkbokforingsposter>")]
    path = nf.write(tmp_path, head + "<<< not XML at all &&&")
    assert read_file_info(path) == FileInfo(
        bestallnings_id="00000999-TEST-0001",
        filnamn="TEST.AVI.20261122.XML",
        filnr=3,
        effective_date="20261122",
        record_count=1,
    )


def test_file_info_with_a_non_numeric_count_raises(tmp_path):
    text = nf.document(nf.post()).replace("<AntalPoster>1<", "<AntalPoster>ett<")
    with pytest.raises(NavetFileError, match="AntalPoster"):
        read_file_info(nf.write(tmp_path, text))


# --- generated extracts ---------------------------------------------------------------------


def test_generated_extract_is_valid_and_parses_back(tmp_path):
    """IDENT-1/IDENT-4: 3 000 distinct valid numbers, all born in the 1800s; PROT-1 flags."""
    xmlschema = pytest.importorskip("xmlschema")
    path = tmp_path / "extract.xml"
    write_extract(path, count=3000, county_codes=("12",), out_of_region_every=20)
    xmlschema.XMLSchema(str(nf.SCHEMA)).validate(str(path))

    info = read_file_info(path)
    assert info is not None
    assert info.record_count == 3000
    assert info.filnr == 1
    assert info.bestallnings_id is not None
    assert len(info.bestallnings_id) == 18

    items = records(parse(path))
    assert len(items) == 3000
    assert [r.position for r in items] == list(range(1, 3001))
    numbers = [r.identity_number for r in items]
    assert len(set(numbers)) == 3000
    related = [rel.identity_number or "" for r in items for rel in r.relations]
    assert related
    assert all(n.startswith("18") for n in numbers + related)

    secret = [r for r in items if r.confidentiality_marking]
    protected = [r for r in items if r.protected_registration]
    assert len(secret) + len(protected) == 3000 // 500
    assert len(secret) == len(protected) == 3
    assert all(r.registered_address is None for r in protected)
    assert all(r.special_postal_address is not None for r in protected)
    assert all(r.registered_address is not None for r in secret if r.deregistration_code is None)

    assert sum(r.county_code not in (None, "12") for r in items) == 3000 // 20
    assert {r.deregistration_code for r in items} == {None, "AV", "UV"}
    assert all(r.foreign_address is not None for r in items if r.deregistration_code == "UV")
    assert any(r.coordination_number for r in items)
    assert {rel.kind for r in items for rel in r.relations} == {"M", "B", "V"}


def test_generator_is_deterministic_per_seed(tmp_path):
    write_extract(tmp_path / "a.xml", count=300, seed=7)
    write_extract(tmp_path / "b.xml", count=300, seed=7)
    write_extract(tmp_path / "c.xml", count=300, seed=8)
    assert (tmp_path / "a.xml").read_bytes() == (tmp_path / "b.xml").read_bytes()
    assert (tmp_path / "a.xml").read_bytes() != (tmp_path / "c.xml").read_bytes()


def test_generator_numbers_stay_distinct_over_a_large_range():
    """Two million persons get distinct numbers, all 1800s (checked without writing a file)."""
    from patients.navet.generator import MAX_PERSONS, STRIDE, PersonNumbers

    assert math.gcd(STRIDE, MAX_PERSONS) == 1  # person -> slot is a bijection
    assert MAX_PERSONS > 2_000_000
    numbers = PersonNumbers(seed=1)
    seen = {numbers.number(i) for i in range(0, 2_000_000, 7)}
    assert len(seen) == len(range(0, 2_000_000, 7))
    assert all(n.startswith("18") for n in seen)


@pytest.fixture(scope="module")
def large_extract(tmp_path_factory):
    path = tmp_path_factory.mktemp("navet") / "large.xml"
    write_extract(path, count=200_000, seed=3)
    return path


@pytest.mark.slow
def test_parsing_a_large_extract_keeps_python_memory_flat(large_extract):
    """200 000 records: the traced Python heap stays far below what holding them would take."""
    tracemalloc.start()
    try:
        count = 0
        for item in iter_records(large_extract, known_county_codes=nf.ALL_COUNTY_CODES):
            assert isinstance(item, NavetRecord)
            count += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert peak < 30 * 2**20, f"traced peak {peak / 2**20:.1f} MB"


@pytest.mark.slow
def test_parsing_a_large_extract_keeps_process_memory_flat(large_extract):
    """lxml's tree lives in C memory that tracemalloc cannot see: the peak resident size of a
    fresh process must not grow with the file (it grows by ~1 GB if posts are not freed)."""
    script = textwrap.dedent(
        """
        import sys
        from patients.navet.parser import iter_records

        def peak_kb():
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])

        codes = frozenset(sys.argv[2].split(","))
        before = peak_kb()
        count = sum(1 for _ in iter_records(sys.argv[1], known_county_codes=codes))
        print(count, peak_kb() - before)
        """
    )
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the peak resident size")
    result = subprocess.run(
        [sys.executable, "-c", script, str(large_extract), ",".join(nf.ALL_COUNTY_CODES)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    count, growth_kb = map(int, result.stdout.split())
    assert count == 200_000
    assert growth_kb < 40 * 1024, f"peak resident size grew by {growth_kb / 1024:.1f} MB"

"""Apply population-register files (Navet) to the patient register.

The contract is ``shared/specs/population-register.md``. Each file is applied in one
transaction: a file that turns out to be malformed half-way is rolled back whole, and the
``RegisterFile`` row inserted first makes a second import of the same file (even a concurrent
one, which waits on the unique key) a no-op. Records are applied in batches with one set-based
statement per table; a record identical to what was last applied (same keyed digest) is skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import operator
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from patients.crypto import keyed_digest
from patients.dbcontext import SYSTEM, db_context
from patients.fields import EncryptedNumberField
from patients.identity import is_coordination_number
from patients.models import (
    NumberChange,
    Patient,
    PatientIdentity,
    PatientRelation,
    PatientStatus,
    QuarantinedRecord,
    Region,
    RegisterEvent,
    RegisterEventKind,
    RegisterFile,
    RegistrationSource,
    new_patient_reference,
)
from patients.navet.parser import (
    NavetFileError,
    NavetRecord,
    Rejection,
    read_file_info,
)
from patients.navet.pipeline import iter_records_beside
from patients.navet.summary import FileOutcome, ImportSummary

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000

_STATUS_BY_CODE = {"AV": PatientStatus.DECEASED, "UV": PatientStatus.EMIGRATED}


class _DryRunRollback(Exception):
    """Raised inside the file's transaction to undo a dry run after counting."""


def register_files_import(*, paths: Sequence[Path], dry_run: bool = False) -> ImportSummary:
    """Import each file in order. A file that cannot be read is reported and nothing of it kept."""
    total = ImportSummary(dry_run=dry_run)
    known_codes = frozenset(Region.objects.values_list("county_code", flat=True))
    for path in paths:
        total.files += 1
        name = path.name
        try:
            outcome, summary = _import_file(path, known_codes=known_codes, dry_run=dry_run)
        except NavetFileError as exc:
            total.errors.append({"file": name, "error": exc.message})
            logger.warning("navet import refused file %s: %s", name, exc.message)
            continue
        except OSError as exc:
            message = f"cannot read the file: {exc.strerror or type(exc).__name__}"
            total.errors.append({"file": name, "error": message})
            logger.warning("navet import could not read %s: %s", name, message)
            continue
        if outcome.already_imported:
            total.already_imported.append(name)
            continue
        total.add(summary)
    return total


def _file_identity(path: Path) -> tuple[str, str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    content_sha = digest.hexdigest()
    info = read_file_info(path)
    if info is not None and info.bestallnings_id and info.filnamn:
        key = f"navet:{info.bestallnings_id}:{info.filnamn}:{info.filnr or 1}"
    else:
        key = f"sha256:{content_sha}"
    return key, content_sha, info


def _import_file(
    path: Path, *, known_codes: frozenset[str], dry_run: bool
) -> tuple[FileOutcome, ImportSummary]:
    outcome = FileOutcome(file=path.name)
    if not os.access(path, os.R_OK):
        raise OSError(13, "permission denied or missing", str(path))
    key, content_sha, info = _file_identity(path)
    summary = ImportSummary(dry_run=dry_run)
    try:
        # The register applies to every patient, protected ones included: the file's
        # transaction runs in the system context that row-level security lets see them all.
        with db_context(SYSTEM):
            try:
                with transaction.atomic():
                    register_file = RegisterFile.objects.create(
                        identity_key=key,
                        file_name=path.name[:255],
                        order_id=(info.bestallnings_id or "") if info else "",
                        file_number=info.filnr if info else None,
                        content_sha256=content_sha,
                    )
            except IntegrityError:
                outcome.already_imported = True
                return outcome, summary
            loaded = _apply_first_load(
                path, known_codes=known_codes, register_file=register_file, dry_run=dry_run
            )
            if loaded is not None:
                summary = loaded
            else:
                _apply_records(
                    # Parsed in a process beside this one (both cores), in file order.
                    iter_records_beside(path, known_county_codes=known_codes),
                    register_file=register_file,
                    summary=summary,
                )
            register_file.summary = {
                k: v for k, v in summary.as_dict().items() if k not in {"rejections"}
            }
            register_file.save(update_fields=["summary"])
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return outcome, summary


class _NotAFirstLoad(Exception):
    """The file names a person twice: the first-load savepoint is undone, the file applied the
    ordinary way (where the later record updates the earlier)."""


def _apply_first_load(
    path: Path, *, known_codes: frozenset[str], register_file: RegisterFile, dry_run: bool
) -> ImportSummary | None:
    """Apply the file to an empty register with the number indexes built after the load.

    None when the register is not empty, or when the file names a person twice; nothing of the
    attempt is kept then. Every record is new in an empty register, so none is looked up; the
    indexes are dropped and built again inside the file's transaction (patients migration 0013),
    so a failed file leaves them as they were, and the unique build checks every number once.
    """
    # A summary of its own: the ordinary import after a failed attempt starts from nothing.
    summary = ImportSummary(dry_run=dry_run)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT navet_first_load_begin()")
                row = cursor.fetchone()
            if row is None or not row[0]:
                return None
            _apply_records(
                iter_records_beside(path, known_county_codes=known_codes),
                register_file=register_file,
                summary=summary,
                first_load=True,
            )
            with connection.cursor() as cursor:
                cursor.execute("SELECT navet_first_load_end()")
    except (_NotAFirstLoad, IntegrityError):
        # IntegrityError: the unique build found a number twice, in batches apart.
        return None
    return summary


def _apply_records(
    stream: Iterable[NavetRecord | Rejection],
    *,
    register_file: RegisterFile,
    summary: ImportSummary,
    first_load: bool = False,
) -> None:
    batch: list[NavetRecord] = []
    numbers_in_batch: set[str] = set()
    for item in stream:
        summary.records += 1
        if isinstance(item, Rejection):
            _quarantine(item, register_file=register_file, summary=summary)
            continue
        if item.referral_number is not None:
            # Rare: the person got a new number. Applied on its own, after what came before
            # (looked up by number even in a first load, where that scans the loaded rows).
            _flush(batch, register_file=register_file, summary=summary, first_load=first_load)
            batch, numbers_in_batch = [], set()
            _apply_referral(item, register_file=register_file, summary=summary)
            continue
        if item.identity_number in numbers_in_batch:
            if first_load:
                raise _NotAFirstLoad
            # The same person twice in one file: records apply in file order, so the batch
            # holding the earlier record is written first and the later record wins.
            _flush(batch, register_file=register_file, summary=summary)
            batch, numbers_in_batch = [], set()
        batch.append(item)
        numbers_in_batch.add(item.identity_number)
        if len(batch) >= BATCH_SIZE:
            _flush(batch, register_file=register_file, summary=summary, first_load=first_load)
            batch, numbers_in_batch = [], set()
    _flush(batch, register_file=register_file, summary=summary, first_load=first_load)


def _quarantine(item: Rejection, *, register_file: RegisterFile, summary: ImportSummary) -> None:
    summary.rejected += 1
    summary.rejections.append(
        {
            "file": register_file.file_name,
            "position": item.position,
            "post_id": item.post_id,
            "reason": item.reason,
        }
    )
    QuarantinedRecord.objects.create(
        register_file=register_file,
        position=item.position,
        post_id=item.post_id or "",
        reason=item.reason[:300],
        record_xml=item.raw_xml,
    )
    if item.protection_flagged and item.identity_number is not None:
        _protect_rejected(item.identity_number, register_file=register_file, summary=summary)


def _protect_rejected(number: str, *, register_file: RegisterFile, summary: ImportSummary) -> None:
    """PROT-1 fail-safe: the register says the person is protected, but the rest of the record
    could not be applied. Protect the existing patient now (held until a person reviews it);
    the record itself waits in quarantine."""
    patient = (
        Patient.objects.select_for_update()
        .filter(identity__personal_identity_number=number, is_protected=False)
        .first()
    )
    if patient is None:
        return
    Patient.objects.filter(pk=patient.pk).update(protection_held=True)
    RegisterEvent.objects.create(
        patient=patient, kind=RegisterEventKind.PROTECTION_ADDED, register_file=register_file
    )
    summary.protection_added += 1


# --- set-based application of a batch -----------------------------------------------------

_F = PatientIdentity._meta
# The identity's columns by name, without the generated digest columns PostgreSQL computes.
_STORED = ", ".join(str(f.column) for f in _F.concrete_fields if not getattr(f, "generated", False))
_REGISTERED = _F.get_field("registered_address")
_SPECIAL = _F.get_field("special_postal_address")
_FOREIGN = _F.get_field("foreign_address")
_MUNICIPALITY = _F.get_field("municipality_code")
# LEAK-6: numbers and names are sealed by their fields, as any other write would seal them.
_NUMBER = _F.get_field("personal_identity_number")
_GIVEN = _F.get_field("given_names")
_MIDDLE = _F.get_field("middle_name")
_SURNAME = _F.get_field("surname")
_RELATED = PatientRelation._meta.get_field("related_identity_number")
assert isinstance(_NUMBER, EncryptedNumberField)
assert isinstance(_RELATED, EncryptedNumberField)


@dataclass(frozen=True)
class _Existing:
    patient_id: int
    digest: str
    confidentiality_marking: bool
    protected_registration: bool
    protection_held: bool
    status: str
    home_region_id: str | None


# Everything of a record but where it stood in the file: the same person's same data in a
# later file is "unchanged".
_CONTENT_FIELDS = tuple(
    name for name in NavetRecord.__dataclass_fields__ if name not in {"position", "post_id"}
)


_content_of = operator.attrgetter(*_CONTENT_FIELDS)


def _digest(record: NavetRecord) -> str:
    # repr of the frozen dataclasses is deterministic (strings, bools, ints, None, tuples).
    content = repr(_content_of(record))
    return keyed_digest(content.encode(), purpose="navet-record")


def _as_dict(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def _birth_year(number: str) -> int:
    return int(number[:4])


def _existing(numbers: Sequence[str]) -> dict[str, _Existing]:
    """The patients already holding these numbers, by number; found by the digest column."""
    if not numbers:
        return {}
    by_digest = {_NUMBER.digest(number): number for number in numbers}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.number_digest, p.id, i.register_digest,
                   p.confidentiality_marking, p.protected_registration, p.protection_held,
                   p.status, p.home_region_id
              FROM patients_patientidentity i
              JOIN patients_patient p ON p.id = i.patient_id
             WHERE i.number_digest = ANY(%s)
            """,
            [list(by_digest)],
        )
        return {by_digest[row[0]]: _Existing(*row[1:]) for row in cursor.fetchall()}


def _flush(
    batch: list[NavetRecord],
    *,
    register_file: RegisterFile,
    summary: ImportSummary,
    first_load: bool = False,
) -> None:
    if not batch:
        return
    # In a first load every record is new (a person twice ends it), and the number index the
    # lookup would use is not there until the end.
    existing = {} if first_load else _existing([r.identity_number for r in batch])
    new_rows: list[tuple[NavetRecord, str]] = []
    changed_rows: list[tuple[NavetRecord, str, _Existing]] = []
    for record in batch:
        digest = _digest(record)
        current = existing.get(record.identity_number)
        if current is None:
            new_rows.append((record, digest))
        elif current.digest == digest:
            summary.unchanged += 1
        else:
            changed_rows.append((record, digest, current))
    events: list[tuple[int, str]] = []
    if new_rows:
        events += _insert(new_rows, summary=summary)
    if changed_rows:
        events += _update(changed_rows, summary=summary)
    if events:
        RegisterEvent.objects.bulk_create(
            RegisterEvent(patient_id=pid, kind=kind, register_file=register_file)
            for pid, kind in events
        )


def _status(record: NavetRecord) -> str:
    if record.deregistration_code is None:
        return PatientStatus.ACTIVE
    return _STATUS_BY_CODE.get(record.deregistration_code, PatientStatus.INACTIVE)


def _identity_columns(record: NavetRecord) -> tuple[Any, ...]:
    def enc(f: Any, value: Any) -> str | None:
        return None if value is None else f.get_prep_value(value)

    return (
        _GIVEN.get_prep_value(record.given_names or ""),
        _MIDDLE.get_prep_value(record.middle_name or ""),
        _SURNAME.get_prep_value(record.surname or ""),
        record.name_in_use_marker,
        enc(_REGISTERED, _as_dict(record.registered_address)),
        enc(_SPECIAL, _as_dict(record.special_postal_address)),
        enc(_FOREIGN, _as_dict(record.foreign_address)),
        enc(_MUNICIPALITY, record.municipality_code),
        record.deregistration_date or "",
    )


def _insert(
    rows: list[tuple[NavetRecord, str]], *, summary: ImportSummary
) -> list[tuple[int, str]]:
    # New patients are the bulk of a full extract: ids are taken from the sequence up front and
    # the rows streamed with COPY, several times faster than INSERT ... SELECT FROM unnest.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('patients_patient', 'id')) "
            "FROM generate_series(1, %s)",
            [len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        now = timezone.now()
        raw = cursor.cursor
        with raw.copy(
            "COPY patients_patient (id, reference, birth_year, home_region_id, status, "
            "deregistration_code, confidentiality_marking, protected_registration, "
            "protection_held, created_at, updated_at) FROM STDIN"
        ) as copy:
            for pid, (record, _) in zip(ids, rows, strict=True):
                copy.write_row(
                    (
                        pid,
                        new_patient_reference(),
                        _birth_year(record.identity_number),
                        record.county_code,
                        _status(record),
                        record.deregistration_code or "",
                        record.confidentiality_marking,
                        record.protected_registration,
                        False,
                        now,
                        now,
                    )
                )
        # PostgreSQL refuses COPY FROM into a table under row-level security, even where the
        # policy would let every row through: the identities are copied into a temporary table
        # of the same shape and moved with one INSERT ... SELECT, which the policy checks.
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS navet_identity_batch "
            "(LIKE patients_patientidentity INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        with raw.copy(
            "COPY navet_identity_batch (patient_id, personal_identity_number, "
            "reserve_number_format, given_names, middle_name, surname, name_in_use_marker, "
            "registered_address, special_postal_address, foreign_address, municipality_code, "
            "deregistration_date, register_digest, updated_at) FROM STDIN"
        ) as copy:
            for pid, (record, digest) in zip(ids, rows, strict=True):
                copy.write_row(
                    (
                        pid,
                        _NUMBER.get_prep_value(record.identity_number),
                        "",
                        *_identity_columns(record),
                        digest,
                        now,
                    )
                )
        cursor.execute(
            f"INSERT INTO patients_patientidentity ({_STORED}) "  # noqa: S608 - the model's own columns
            f"SELECT {_STORED} FROM navet_identity_batch"
        )
        cursor.execute("TRUNCATE navet_identity_batch")
        _replace_relations(cursor, ids, [r for r, _ in rows], delete_first=False)
    summary.created += len(rows)
    events: list[tuple[int, str]] = []
    for pid, (record, _) in zip(ids, rows, strict=True):
        if record.confidentiality_marking or record.protected_registration:
            summary.protection_added += 1
            events.append((pid, RegisterEventKind.PROTECTION_ADDED))
        if record.deregistration_code == "AV":
            summary.deceased += 1
            events.append((pid, RegisterEventKind.DECEASED))
        elif record.deregistration_code == "UV":
            events.append((pid, RegisterEventKind.EMIGRATED))
    return events


def _update(
    rows: list[tuple[NavetRecord, str, _Existing]], *, summary: ImportSummary
) -> list[tuple[int, str]]:
    events: list[tuple[int, str]] = []
    held: list[bool] = []
    for record, _, current in rows:
        was = current.confidentiality_marking or current.protected_registration
        now = record.confidentiality_marking or record.protected_registration
        # PROT-4: the register dropping protection never unprotects by itself; a person
        # (protection administrator) confirms. PROT-3: neither does a death.
        keep_held = current.protection_held or (was and not now)
        held.append(keep_held)
        if now and not was:
            summary.protection_added += 1
            events.append((current.patient_id, RegisterEventKind.PROTECTION_ADDED))
        elif was and not now:
            summary.protection_removed += 1
            events.append((current.patient_id, RegisterEventKind.PROTECTION_REMOVED))
        status = _status(record)
        if status != current.status:
            if status == PatientStatus.DECEASED:
                summary.deceased += 1
                events.append((current.patient_id, RegisterEventKind.DECEASED))
            elif status == PatientStatus.EMIGRATED:
                events.append((current.patient_id, RegisterEventKind.EMIGRATED))
    ids = [current.patient_id for _, _, current in rows]
    records = [record for record, _, _ in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE patients_patient p
               SET home_region_id = COALESCE(t.region, p.home_region_id),
                   status = t.st, deregistration_code = t.code,
                   confidentiality_marking = t.cm, protected_registration = t.pr,
                   protection_held = t.held, updated_at = now()
              FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::bool[],
                          %s::bool[], %s::bool[]) AS t(pid, region, st, code, cm, pr, held)
             WHERE p.id = t.pid
            """,
            [
                ids,
                # REGION-5: a record without LanKod (emigrated) keeps the last known region.
                [r.county_code for r in records],
                [_status(r) for r in records],
                [r.deregistration_code or "" for r in records],
                [r.confidentiality_marking for r in records],
                [r.protected_registration for r in records],
                held,
            ],
        )
        identity = [_identity_columns(r) for r in records]
        cursor.execute(
            """
            UPDATE patients_patientidentity i
               SET given_names = t.gn, middle_name = t.mn, surname = t.sn,
                   name_in_use_marker = t.mk, registered_address = t.ra,
                   special_postal_address = t.sp, foreign_address = t.fa,
                   municipality_code = t.mu, deregistration_date = t.dd,
                   register_digest = t.dg, updated_at = now()
              FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::int[],
                          %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                          %s::text[])
                AS t(pid, gn, mn, sn, mk, ra, sp, fa, mu, dd, dg)
             WHERE i.patient_id = t.pid
            """,
            [ids]
            + [list(col) for col in zip(*identity, strict=True)]
            + [[digest for _, digest, _ in rows]],
        )
        _replace_relations(cursor, ids, records, delete_first=True)
        # REG-1: a patient registered by hand is the register's from now on: same patient, same
        # reference and history, the register's data over what was typed; an event records it.
        cursor.execute(
            "UPDATE patients_patient SET registration_source = %s "
            "WHERE id = ANY(%s) AND registration_source = %s RETURNING id",
            [RegistrationSource.REGISTER, ids, RegistrationSource.HAND],
        )
        matched = sorted(row[0] for row in cursor.fetchall())
    events += [(pid, RegisterEventKind.HAND_REGISTRATION_MATCHED) for pid in matched]
    summary.hand_registrations_matched += len(matched)
    summary.updated += len(rows)
    return events


def _replace_relations(
    cursor: Any, ids: Sequence[int], records: Sequence[NavetRecord], *, delete_first: bool
) -> None:
    # A change notification carries the whole current post: relations not in it are gone.
    if delete_first:
        cursor.execute(
            "DELETE FROM patients_patientrelation WHERE patient_id = ANY(%s)", [list(ids)]
        )
    pids: list[int] = []
    kinds: list[str] = []
    numbers: list[str | None] = []
    for pid, record in zip(ids, records, strict=True):
        seen: set[tuple[str, str]] = set()
        for relation in record.relations:
            if relation.identity_number is None:
                continue
            key = (relation.kind, relation.identity_number)
            if key in seen:
                continue
            seen.add(key)
            pids.append(pid)
            kinds.append(relation.kind)
            numbers.append(_RELATED.get_prep_value(relation.identity_number))
    if pids:
        cursor.execute(
            """
            INSERT INTO patients_patientrelation (patient_id, kind, related_identity_number)
            SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[])
            """,
            [pids, kinds, numbers],
        )


def _apply_referral(
    record: NavetRecord, *, register_file: RegisterFile, summary: ImportSummary
) -> None:
    """HanvisningsPersonNr: the person now has another number; move the patient onto it."""
    assert record.referral_number is not None
    old = (
        PatientIdentity.objects.select_for_update()
        .filter(personal_identity_number=record.identity_number)
        .first()
    )
    new = (
        PatientIdentity.objects.select_for_update()
        .filter(personal_identity_number=record.referral_number)
        .first()
    )
    if old is not None and new is not None:
        # Two patients would have to be merged with everything attached to them; a person
        # decides that. The record is kept, nothing is lost.
        _quarantine(
            Rejection(
                position=record.position,
                post_id=record.post_id,
                reason="both the old and the new personnummer exist as patients; merge by hand",
                raw_xml=_record_as_json(record),
            ),
            register_file=register_file,
            summary=summary,
        )
        summary.records -= 1  # counted once already by the caller
        return
    if old is not None:
        PatientIdentity.objects.filter(pk=old.pk).update(
            personal_identity_number=record.referral_number
        )
        Patient.objects.filter(pk=old.pk).update(birth_year=_birth_year(record.referral_number))
        NumberChange.objects.create(
            patient_id=old.pk,
            old_number=record.identity_number,
            new_number=record.referral_number,
            register_file=register_file,
        )
        RegisterEvent.objects.create(
            patient_id=old.pk, kind=RegisterEventKind.NUMBER_CHANGED, register_file=register_file
        )
    moved = NavetRecord(
        **{
            **{f: getattr(record, f) for f in record.__dataclass_fields__},
            "identity_number": record.referral_number,
            "coordination_number": is_coordination_number(record.referral_number),
            "referral_number": None,
        }
    )
    _flush([moved], register_file=register_file, summary=summary)


def _record_as_json(record: NavetRecord) -> str:
    """The parsed record, kept (encrypted) in quarantine when it cannot be applied."""
    return json.dumps(asdict(record), ensure_ascii=False, default=str)

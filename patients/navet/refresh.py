"""REG-3: the daily register refresh, and the refresh of one person.

The daily run imports every extract file waiting in the inbox (``NAVET_INBOX_DIR``) with the
ordinary importer, so it is as idempotent as the import: a file applied once is
``already_imported`` the second time, even when two runs overlap. An applied file is moved to
``imported/``; a refused file stays in the inbox, where operations see it, and is reported.

The refresh of one person reads that person's record through a :class:`PersonLookup`. The one
implementation reads the latest extract file (Skatteverket's per-person lookup would be another
implementation of the same interface) and applies the record with the importer's own code.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from pathlib import Path
from typing import Protocol

from django.db import transaction

from patients.dbcontext import SYSTEM, db_context
from patients.models import (
    AccessAction,
    AccessOutcome,
    Patient,
    PatientIdentity,
    Region,
    RegisterFile,
)
from patients.navet.importer import _flush, register_files_import
from patients.navet.parser import NavetRecord, iter_records
from patients.navet.summary import ImportSummary
from patients.services import Actor, access_entry_record

logger = logging.getLogger(__name__)

IMPORTED_DIR = "imported"


def _extract_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.glob("*.xml") if path.is_file())


def register_inbox_import(*, directory: Path) -> ImportSummary:
    """Import the waiting extract files in name order (the register names them by date)."""
    files = _extract_files(directory)
    summary = register_files_import(paths=files)
    refused = {error["file"] for error in summary.errors}
    done = directory / IMPORTED_DIR
    done.mkdir(parents=True, exist_ok=True)
    for path in files:
        if path.name in refused:
            logger.error("register refresh: file %s was refused and stays in the inbox", path.name)
            continue
        with contextlib.suppress(FileNotFoundError):  # a run at the same time moved it first
            path.replace(done / path.name)
    return summary


class PersonLookup(Protocol):
    """Where one person's current register record comes from."""

    def record_for(self, number: str) -> tuple[NavetRecord, str, str] | None:
        """The record, the source's name and its SHA-256, or None when the source lacks it."""


class LatestExtractLookup:
    """The person's record in the newest extract file (inbox or already imported)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _latest(self) -> Path | None:
        candidates = _extract_files(self.directory) + _extract_files(self.directory / IMPORTED_DIR)
        if not candidates:
            return None
        return max(candidates, key=lambda path: (path.stat().st_mtime, path.name))

    def record_for(self, number: str) -> tuple[NavetRecord, str, str] | None:
        latest = self._latest()
        if latest is None:
            return None
        codes = frozenset(Region.objects.values_list("county_code", flat=True))
        found: NavetRecord | None = None
        for item in iter_records(latest, known_county_codes=codes):
            # The last record of the person in the file wins, as in the import.
            if isinstance(item, NavetRecord) and item.identity_number == number:
                found = item
        if found is None:
            return None
        return found, latest.name, hashlib.sha256(latest.read_bytes()).hexdigest()


class RefreshError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def patient_register_refresh(*, actor: Actor, patient_id: int, lookup: PersonLookup) -> bool:
    """Apply the register's current record of one person now; True when a record was found.

    Logged as an access entry (the person's register record was read), found or not. The
    caller has let the user see the patient through the gate."""
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    with db_context(SYSTEM):
        number = (
            PatientIdentity.objects.filter(patient_id=patient_id)
            .values_list("personal_identity_number", flat=True)
            .first()
        )
    found = lookup.record_for(number) if number else None
    access_entry_record(
        actor=actor,
        action=AccessAction.READ,
        outcome=AccessOutcome.ALLOWED if found else AccessOutcome.NO_MATCH,
        patient=patient,
        object_type="register_refresh",
        object_id=patient.reference,
    )
    if found is None:
        return False
    record, source_name, content_sha = found
    with db_context(SYSTEM):
        register_file = RegisterFile.objects.create(
            # One row per refresh: the events it writes need a source, and it is not a file
            # the daily import should ever take for already applied.
            identity_key=f"refresh:{patient.reference}:{secrets.token_hex(8)}",
            file_name=source_name[:255],
            content_sha256=content_sha,
        )
        summary = ImportSummary(files=1, records=1)
        _flush([record], register_file=register_file, summary=summary)
        register_file.summary = {
            k: v for k, v in summary.as_dict().items() if k not in {"rejections"}
        }
        register_file.save(update_fields=["summary"])
    return True

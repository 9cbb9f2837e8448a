"""AUDIT-2: the access log as a hash chain, sealed in batches, verified, anchored outside.

Entries are inserted unsealed by ``patients.services.access_entry_record`` in the transaction of
the access they record; an insert takes no lock, so any number of requests log at once. A task
seals them afterwards (``access_entries_seal``): each entry gets the next ``chain_seq``, the hash
of the entry before it (``prev_hash``) and its own hash, ``sha256(prev_hash || canonical form of
its immutable columns)``. Only the database's ``audit_access_entries_seal`` (migration 0007) writes
those columns: it runs as the table's owner and computes the hashes itself, and the application
role holds no UPDATE or DELETE on the table (LEAK-6). A trigger (migration 0004) refuses every
change to an entry except that one sealing update, and every delete, whoever asks.
``chain_verify`` recomputes the chain and reports every break; after each sealing run the task
appends the head to a file outside the database (``audit_head_export``), so that even a role
able to disable the trigger (the owner) is caught when the chain is checked against those files,
whether it rewrote the chain from some entry onward or removed the latest entries.

Invariant: the chain runs in ``chain_seq`` order, which is the order of sealing, not of ids.
Ids are assigned at insert but transactions commit in another order, so an entry with a lower
id can become visible after entries with higher ids were sealed. The sealer sees only committed
entries and seals every unsealed one it sees, after the current head; a late entry is therefore
sealed by the next run, behind entries with higher ids. Nothing here assumes that ids (or
``at``, which is the start of the inserting transaction) increase along the chain, and a
safety margin on ``at`` could not make them: a transaction may stay open for any time.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from patients.models import AccessEntry

# The hash before the first entry.
GENESIS_HASH = "0" * 64

# The columns an entry's hash covers: everything it records, nothing the chain adds.
HASHED_FIELDS = (
    "id",
    "at",
    "user_id",
    "unit_id",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "patient_protected",
    "outcome",
    "ip_address",
    "session_ref",
)
_CHAIN_FIELDS = ("chain_seq", "prev_hash", "entry_hash", "sealed_at")

HEAD_FILE_GLOB = "audit-head-*.jsonl"


class AuditChainError(Exception):
    """The chain or its exported heads cannot be read or written; the message says what to do."""


def entry_canonical(entry: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash covers: its ``HASHED_FIELDS`` as compact JSON, sorted keys.

    ``at`` is written in UTC with microseconds, so the form does not depend on the time zone of
    the process that seals or verifies. The address is taken as PostgreSQL prints it. The sealer
    in the database (patients migration 0007) builds the same bytes in SQL: a change here must
    change it too, and tests/patients/test_audit_chain_sealer.py checks that the two agree.
    """
    at: datetime = entry["at"]
    document = {name: entry[name] for name in HASHED_FIELDS}
    document["at"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    document["action"] = str(entry["action"])
    document["outcome"] = str(entry["outcome"])
    ip_address = entry["ip_address"]
    document["ip_address"] = None if ip_address is None else str(ip_address)
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def entry_hash_compute(*, prev_hash: str, entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + entry_canonical(entry)).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    """The last sealed entry; ``chain_seq`` 0 and the genesis hash while nothing is sealed."""

    chain_seq: int
    entry_id: int | None
    entry_hash: str
    sealed_at: datetime | None


def chain_head() -> ChainHead:
    row = (
        AccessEntry.objects.filter(chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values_list("chain_seq", "id", "entry_hash", "sealed_at")
        .first()
    )
    if row is None:
        return ChainHead(chain_seq=0, entry_id=None, entry_hash=GENESIS_HASH, sealed_at=None)
    chain_seq, entry_id, entry_hash, sealed_at = row
    # Set on every sealed entry (the filter above and the access_sealed_whole constraint).
    assert chain_seq is not None
    assert entry_hash is not None
    return ChainHead(
        chain_seq=chain_seq, entry_id=entry_id, entry_hash=entry_hash, sealed_at=sealed_at
    )


def unsealed_count() -> int:
    return AccessEntry.objects.filter(chain_seq__isnull=True).count()


@transaction.atomic
def access_entries_seal(*, batch_size: int = 1000) -> int:
    """Seal up to ``batch_size`` unsealed entries, oldest id first, after the chain head.

    Returns how many were sealed. The work is the database's ``audit_access_entries_seal``
    (migration 0007): it runs as the owner of the table and computes every hash itself, so the
    application role, which may not update the table, can ask for sealing but chooses no value.
    Sealers take turns on a transaction-scoped advisory lock and read the head only once they
    hold it; should two ever read the same head anyway, the unique ``chain_seq`` makes the
    second one fail and roll back rather than fork the chain.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT audit_access_entries_seal(%s)", [batch_size])
        row = cursor.fetchone()
    assert row is not None
    sealed: int = row[0]
    return sealed


@dataclass(frozen=True)
class ExportedHead:
    """One line of an exported head file, and where it was read."""

    chain_seq: int
    entry_id: int | None
    entry_hash: str
    source: str


@dataclass(frozen=True)
class ChainBreak:
    """One place where the chain does not hold: the stretch of ``chain_seq`` it covers (and the
    entries there that still exist), and why."""

    first_seq: int
    last_seq: int
    # None where the entries are gone (a gap, a missing end).
    first_id: int | None
    last_id: int | None
    problem: str

    def where(self) -> str:
        seqs = (
            f"chain_seq {self.first_seq}"
            if self.first_seq == self.last_seq
            else f"chain_seq {self.first_seq} to {self.last_seq}"
        )
        if self.first_id is None and self.last_id is None:
            return seqs
        if self.first_id == self.last_id:
            return f"{seqs} (access entry id {self.first_id})"
        return f"{seqs} (access entry ids {self.first_id} to {self.last_id})"


@dataclass(frozen=True)
class ChainReport:
    """``verified`` entries held; ``breaks`` lists every place that did not, in chain order."""

    verified: int
    head: ChainHead
    unsealed: int
    breaks: tuple[ChainBreak, ...]


# The kinds of break a run of consecutive entries may share, reported as one stretch.
_CHANGED_AFTER_SEALING = "hash mismatch: the content was changed after sealing"


def chain_verify(
    *, batch_size: int = 2000, exported_heads: Iterable[ExportedHead] = ()
) -> ChainReport:
    """Walk the whole chain in ``chain_seq`` order and report every place where it does not hold.

    Checks, for each entry: that its ``chain_seq`` follows the one before (a gap means sealed
    entries were removed), that its ``prev_hash`` is the hash of the entry before (a broken link
    means the entry before was re-hashed), that its hash matches its content and its own
    ``prev_hash`` (a mismatch means it was changed after sealing; consecutive ones are reported
    as one stretch), and that it matches any exported head at its ``chain_seq`` (a difference
    means the chain was rewritten after the last head that still agrees, up to this entry).
    A chain that ends before the latest exported head lost its sealed entries from there on.
    Each entry is checked against the stored values of the one before, so the walk goes on
    after a break and one tampered entry does not hide another. One query on a server-side
    cursor: sealed entries never change and are only appended, so the walk is consistent.
    """
    expected: dict[int, ExportedHead] = {}
    for given in exported_heads:
        known = expected.setdefault(given.chain_seq, given)
        if (known.entry_id, known.entry_hash) != (given.entry_id, given.entry_hash):
            raise AuditChainError(
                f"The exported heads disagree about chain_seq {given.chain_seq}: "
                f"{known.source} and {given.source}. The chain was rewritten between those "
                "exports, or a head file was altered; compare them with the storage's own copies."
            )
    unsealed = unsealed_count()
    rows = (
        AccessEntry.objects.filter(chain_seq__isnull=False)
        .order_by("chain_seq")
        .values(*HASHED_FIELDS, *_CHAIN_FIELDS)
        .iterator(chunk_size=batch_size)
    )
    verified = 0
    breaks: list[ChainBreak] = []
    head = ChainHead(chain_seq=0, entry_id=None, entry_hash=GENESIS_HASH, sealed_at=None)
    # The first entry after the last exported head that agreed: a rewrite found at a later
    # exported head lies somewhere from there on.
    agreed_after: tuple[int, int] | None = None

    def found(first: tuple[int, int | None], last: tuple[int, int | None], problem: str) -> None:
        previous = breaks[-1] if breaks else None
        if (
            problem == _CHANGED_AFTER_SEALING
            and previous is not None
            and previous.problem == problem
            and previous.last_seq + 1 == first[0]
        ):
            breaks[-1] = ChainBreak(
                previous.first_seq, last[0], previous.first_id, last[1], problem
            )
            return
        breaks.append(ChainBreak(first[0], last[0], first[1], last[1], problem))

    for row in rows:
        chain_seq: int = row["chain_seq"]
        here = (chain_seq, row["id"])
        before = (head.chain_seq, head.entry_id)
        holds = True
        if agreed_after is None:
            agreed_after = here
        if chain_seq != head.chain_seq + 1:
            holds = False
            found(
                (head.chain_seq + 1, None),
                (chain_seq - 1, None),
                f"gap: missing between {_entry_name(head.entry_id, head.chain_seq)} and access "
                f"entry id {row['id']} (chain_seq {chain_seq}): sealed entries were removed",
            )
        elif row["prev_hash"] != head.entry_hash:
            holds = False
            found(
                before if head.entry_id is not None else here,
                here,
                f"broken link: prev_hash of access entry id {row['id']} is not the hash of "
                f"{_entry_name(head.entry_id, head.chain_seq)}; that one was re-hashed after "
                "this one was sealed",
            )
        if entry_hash_compute(prev_hash=row["prev_hash"], entry=row) != row["entry_hash"]:
            holds = False
            found(here, here, _CHANGED_AFTER_SEALING)
        anchor = expected.pop(chain_seq, None)
        if anchor is not None:
            if (anchor.entry_id, anchor.entry_hash) != (row["id"], row["entry_hash"]):
                holds = False
                found(
                    agreed_after,
                    here,
                    f"differs from the chain head exported in {anchor.source}: the chain was "
                    "rewritten in this stretch",
                )
            agreed_after = None
        verified += holds
        head = ChainHead(
            chain_seq=chain_seq,
            entry_id=row["id"],
            entry_hash=row["entry_hash"],
            sealed_at=row["sealed_at"],
        )
    beyond = [seq for seq in expected if seq > head.chain_seq]
    if beyond:
        last = expected[max(beyond)]
        found(
            (head.chain_seq + 1, None),
            (last.chain_seq, None),
            f"the chain ends at {_entry_name(head.entry_id, head.chain_seq)} but {last.source} "
            f"records a head at chain_seq {last.chain_seq}: sealed entries were removed from "
            "the end",
        )
    return ChainReport(verified=verified, head=head, unsealed=unsealed, breaks=tuple(breaks))


def _entry_name(entry_id: int | None, chain_seq: int) -> str:
    if entry_id is None:
        return "the genesis"
    return f"access entry id {entry_id} (chain_seq {chain_seq})"


def exported_heads_read(path: Path) -> list[ExportedHead]:
    """The heads in one exported file, or in every ``audit-head-*.jsonl`` of a directory."""
    files = sorted(path.glob(HEAD_FILE_GLOB)) if path.is_dir() else [path]
    heads: list[ExportedHead] = []
    for file in files:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise AuditChainError(
                f"Cannot read the exported head file {file}: {exc.strerror}"
            ) from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            source = f"{file.name} line {number}"
            try:
                data = json.loads(line)
                heads.append(
                    ExportedHead(
                        chain_seq=int(data["chain_seq"]),
                        entry_id=None if data["entry_id"] is None else int(data["entry_id"]),
                        entry_hash=str(data["entry_hash"]),
                        source=source,
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise AuditChainError(
                    f"{source} is not an exported chain head (expected JSON with chain_seq, "
                    "entry_id and entry_hash); the file may have been altered"
                ) from exc
    return heads


@dataclass(frozen=True)
class HeadExport:
    head: ChainHead
    path: Path
    written: bool


def audit_head_export(*, directory: Path) -> HeadExport:
    """Append the chain head as one JSON line to ``audit-head-<local date>.jsonl``.

    The directory is meant to be on append-only storage outside the database
    (docs/operations.md); a missing directory is an error rather than created here, so that an
    unmounted volume is noticed instead of silently written under it. Running twice is harmless:
    a head equal to the last line of the day's file is not written again, and a concurrent
    second line would only record the same true head twice.
    """
    if not directory.is_dir():
        raise AuditChainError(
            f"The audit head export directory {directory} does not exist: mount the "
            "append-only storage there or set AUDIT_HEAD_EXPORT_DIR (or --dir) to where it is."
        )
    head = chain_head()
    exported_at = timezone.now()
    path = directory / f"audit-head-{timezone.localdate(exported_at).isoformat()}.jsonl"
    previous = exported_heads_read(path) if path.exists() else []
    if previous and (previous[-1].chain_seq, previous[-1].entry_hash) == (
        head.chain_seq,
        head.entry_hash,
    ):
        return HeadExport(head=head, path=path, written=False)
    line = json.dumps(
        {
            "chain_seq": head.chain_seq,
            "entry_id": head.entry_id,
            "entry_hash": head.entry_hash,
            "sealed_at": head.sealed_at.isoformat() if head.sealed_at else None,
            "exported_at": exported_at.isoformat(),
        },
        sort_keys=True,
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, (line + "\n").encode("ascii"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise AuditChainError(
            f"Cannot append to {path}: {exc.strerror}. Check that the export directory is "
            "writable by the worker."
        ) from exc
    return HeadExport(head=head, path=path, written=True)

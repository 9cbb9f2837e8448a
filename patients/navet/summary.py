"""What an import of register files reports: counts and file names, never a person."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FileOutcome:
    file: str
    already_imported: bool = False
    error: str | None = None


@dataclass
class ImportSummary:
    """Counts only: the summary is printed and may be logged, so it carries no personal data."""

    files: int = 0
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    protection_added: int = 0
    protection_removed: int = 0
    deceased: int = 0
    # REG-1: patients registered by hand that the register now gave.
    hand_registrations_matched: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def add(self, other: ImportSummary) -> None:
        for name in (
            "records",
            "created",
            "updated",
            "unchanged",
            "rejected",
            "protection_added",
            "protection_removed",
            "deceased",
            "hand_registrations_matched",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejections.extend(other.rejections)

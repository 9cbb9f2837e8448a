"""The registry of document kinds. Higher floors register theirs in ``AppConfig.ready``.

This floor enforces the printing ban for every kind, so it must know them without importing
the floors above (house rule 1). A kind declares what the pipeline needs to decide and to
render (docs/documents.md, "Adding a kind"):

- ``subject``: what the document is about: patients, an order, a unit, or nothing. A kind about
  an order or a unit still names the patients it concerns, so the ban (PRINT-1) and the
  withdrawal (PRINT-3) apply to them; a kind about patients needs at least one.
- ``permission``: the role permission that may ask for a document of this kind and download it.
- ``record``: a stored document is an immutable record (an issued invoice, a signed adaptation
  document): PRINT-3 never withdraws it, a correction is a new document.
- ``protected_form``: how it is made for a protected patient: refused (PRINT-1), a letter
  through Skatteverket (LETTER-1), a copy forwarded to another principal (PRINT-2), or an
  identity-free form (PRINT-1: order number, the prescriber's unit and the prescriber only).
- ``build_snapshot(request)``: runs when the document is asked for, as the requester and after
  the ban, and returns the template's data as JSON (stored encrypted with the job). The worker
  renders the template with that snapshot only: a late worker prints what was asked for.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

if TYPE_CHECKING:
    from patients.models import Patient
    from protection.models import DocumentJob

# The permission every kind about patients had before kinds declared their own.
VIEW_PATIENTS = "patients.view_patient"


class Subject(enum.Enum):
    PATIENTS = "patients"
    ORDER = "order"
    UNIT = "unit"
    NONE = "none"


class ProtectedForm(enum.Enum):
    """What a kind makes for a patient whose guard set is not empty (protected, or linked to a
    protected person: PROT-5)."""

    REFUSED = "refused"  # PRINT-1: never
    FORWARDING_LETTER = "forwarding_letter"  # LETTER-1: through Skatteverket's service
    FORWARDED = "forwarded"  # PRINT-2: only to another principal, with a recorded reason
    IDENTITY_FREE = "identity_free"  # PRINT-1: no name, number, address or birth year


@dataclass(frozen=True)
class SnapshotSubject:
    """One patient the document concerns, as its snapshot builder sees it. On the identity-free
    route ``patient`` is None: the builder is never given who the person is."""

    patient_id: int
    route: str
    patient: Patient | None


@dataclass(frozen=True)
class SnapshotRequest:
    job: DocumentJob  # saved, with its params (internal ids) and unit; its snapshot not yet
    subjects: Sequence[SnapshotSubject]

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.job.params)


SnapshotBuilder = Callable[[SnapshotRequest], dict[str, Any]]


class UnknownKind(LookupError):
    """No floor registered a document kind with this code."""


@dataclass(frozen=True)
class DocumentKind:
    code: str
    label: str | Promise
    template: str
    build_snapshot: SnapshotBuilder = field(compare=False)
    subject: Subject = Subject.PATIENTS
    permission: str = VIEW_PATIENTS
    record: bool = False
    protected_form: ProtectedForm = ProtectedForm.REFUSED

    @property
    def forwarding_allowed(self) -> bool:
        return self.protected_form is ProtectedForm.FORWARDED

    @property
    def letter(self) -> bool:
        return self.protected_form is ProtectedForm.FORWARDING_LETTER

    @property
    def identity_free(self) -> bool:
        return self.protected_form is ProtectedForm.IDENTITY_FREE

    @property
    def needs_patients(self) -> bool:
        return self.subject is Subject.PATIENTS


_registry: dict[str, DocumentKind] = {}


def register(kind: DocumentKind) -> None:
    """Add a kind; registering the same kind again (a second ``ready``) is harmless, another
    kind under a taken code is a programming error."""
    existing = _registry.get(kind.code)
    if existing is not None and (
        existing != kind or existing.build_snapshot != kind.build_snapshot
    ):
        raise ValueError(f"document kind {kind.code!r} is already registered")
    if kind.subject is Subject.NONE and kind.protected_form is not ProtectedForm.REFUSED:
        raise ValueError(f"document kind {kind.code!r} concerns no patient: no protected form")
    if kind.identity_free and kind.subject not in (Subject.ORDER, Subject.UNIT):
        # PRINT-1: only the papers that move goods travel without identity; a document about
        # the person themselves has no identity-free form, so it cannot be asked for as one.
        raise ValueError(
            f"document kind {kind.code!r}: only a paper about an order or a unit is identity-free"
        )
    _registry[kind.code] = kind


def unregister(code: str) -> None:
    """Remove a kind (tests that register their own kinds undo it with this)."""
    _registry.pop(code, None)


def get(code: str) -> DocumentKind:
    try:
        return _registry[code]
    except KeyError as exc:
        raise UnknownKind(code) from exc


def registered() -> list[DocumentKind]:
    return sorted(_registry.values(), key=lambda kind: kind.code)

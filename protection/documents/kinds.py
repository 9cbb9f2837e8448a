"""The registry of document kinds. Higher floors register theirs in ``AppConfig.ready``.

This floor enforces the printing ban for every kind, so it must know them without importing
the floors above (house rule 1). A floor registers each of its documents once::

    from protection.documents import kinds

    class PrescriptionsConfig(AppConfig):
        def ready(self) -> None:
            kinds.register(
                kinds.DocumentKind(
                    code="prescriptions.order_confirmation",
                    label=_("Order confirmation"),
                    template="prescriptions/documents/order_confirmation.html",
                    build_context=order_confirmation_context,
                    forwarding_allowed=True,  # PRINT-2: may go to another principal
                )
            )

``build_context(job, subjects)`` runs in the worker, after the ban was checked again; it gets
the job (with its ``params``: internal ids the requester passed to ``document_request``) and
the patients it concerns, each with its identity, and returns the template's context. It must
read nothing about other patients: what it shows is what the ban was checked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

if TYPE_CHECKING:
    from patients.models import Patient
    from protection.models import DocumentJob

ContextBuilder = Callable[["DocumentJob", Sequence["Patient"]], dict[str, Any]]


class UnknownKind(LookupError):
    """No floor registered a document kind with this code."""


@dataclass(frozen=True)
class DocumentKind:
    code: str
    label: str | Promise
    template: str
    build_context: ContextBuilder
    # PRINT-2: a document of this kind may be printed for a protected patient when it is to be
    # forwarded to another principal, with a recorded reason.
    forwarding_allowed: bool = False
    # LETTER-1: a letter to the person. For a protected patient it is not refused but made
    # for Skatteverket's forwarding service (inner and outer envelope sheets).
    letter: bool = False


_registry: dict[str, DocumentKind] = {}


def register(kind: DocumentKind) -> None:
    """Add a kind; registering the same kind again (a second ``ready``) is harmless, another
    kind under a taken code is a programming error."""
    existing = _registry.get(kind.code)
    if existing is not None and existing != kind:
        raise ValueError(f"document kind {kind.code!r} is already registered")
    _registry[kind.code] = kind


def get(code: str) -> DocumentKind:
    try:
        return _registry[code]
    except KeyError as exc:
        raise UnknownKind(code) from exc


def registered() -> list[DocumentKind]:
    return sorted(_registry.values(), key=lambda kind: kind.code)

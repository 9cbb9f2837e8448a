"""What the logistics floor registers with the floors below it (``LogisticsConfig.ready``): the
handlers of prescriptions' and protection's events, its document kinds, the availability the
catalogue reads (PRESC-8) and its section of the patient page. Each part of the floor adds one
``_register_<part>`` function here; registering twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _append_once(registry: list[Any], handler: Callable[..., Any]) -> None:
    if handler not in registry:
        registry.append(handler)


def _register_documents() -> None:
    """Picking and delivery: the pick list, the package label and the delivery note, all
    identity-free for a protected patient (PRINT-1)."""
    from logistics.documents import DELIVERY_NOTE, PACKAGE_LABEL, PICK_LIST
    from protection.documents import kinds

    for kind in (PICK_LIST, PACKAGE_LABEL, DELIVERY_NOTE):
        kinds.register(kind)


def register_all() -> None:
    _register_documents()

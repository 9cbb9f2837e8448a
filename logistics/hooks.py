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


def _register_devices() -> None:
    """DEVICE-1: the patient page's section of the devices the patient holds (full card only)."""
    from logistics.views.devices import patient_devices_section
    from protection.registry import patient_page_sections

    _append_once(patient_page_sections, patient_devices_section)


def register_all() -> None:
    _register_devices()

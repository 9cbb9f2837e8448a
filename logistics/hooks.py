"""What the logistics floor registers with the floors below it (``LogisticsConfig.ready``): the
handlers of prescriptions' and protection's events, its document kinds, the availability the
catalogue reads (PRESC-8) and its section of the patient page. Each part of the floor adds one
``_register_<part>`` function here; registering twice changes nothing."""

from __future__ import annotations

from typing import Any


def _append_once(registry: list[Any], handler: Any) -> None:
    if handler not in registry:
        registry.append(handler)


def _register_orders() -> None:
    """Customer orders: an approved prescription's release makes the order; a patient who
    becomes protected has their open orders re-routed to the unit (PRESC-2); a cancelled consumable
    withdrawal stops its order before picking (issue 14)."""
    from logistics import tasks
    from logistics.services.orders.cancel import order_withdraw_before_picking
    from prescriptions import registry as prescriptions_registry
    from protection import registry as protection_registry

    _append_once(prescriptions_registry.order_released_handlers, tasks.order_released)
    _append_once(prescriptions_registry.order_withdraw_handlers, order_withdraw_before_picking)
    _append_once(protection_registry.protection_added_handlers, tasks.protection_added)
    # ACCESS-8: an open order, pickup or work order keeps the unit's grants for the patient.
    from logistics.selectors.cases import unit_has_open_logistics_case

    _append_once(protection_registry.unit_case_open_checks, unit_has_open_logistics_case)


def _register_reservations() -> None:
    """LOG-1: a draft's lines hold goods in the central store; PRESC-8 reads availability."""
    from logistics.selectors.availability import central_availability
    from logistics.services.reservations import reservations_sync_for_draft
    from prescriptions import registry

    _append_once(registry.draft_changed_handlers, reservations_sync_for_draft)
    _append_once(registry.availability_providers, central_availability)


def _register_order_summary() -> None:
    """The prescription page shows the order it became, with its state and delivery promise."""
    from logistics.selectors.orders import order_summary_for_prescription
    from prescriptions import registry

    _append_once(registry.order_summary_providers, order_summary_for_prescription)


def _register_documents() -> None:
    """Picking and delivery: the pick list, the package label and the delivery note, all
    identity-free for a protected patient (PRINT-1)."""
    from logistics.documents import DELIVERY_NOTE, PACKAGE_LABEL, PICK_LIST
    from protection.documents import kinds

    for kind in (PICK_LIST, PACKAGE_LABEL, DELIVERY_NOTE):
        kinds.register(kind)


def _register_devices() -> None:
    """DEVICE-1: the patient page's section of the devices the patient holds (full card only)."""
    from logistics.views.devices import DEVICES_SECTION
    from protection.registry import patient_page_sections

    _append_once(patient_page_sections, DEVICES_SECTION)


def _register_deviations() -> None:
    """QUAL-1: the patient page's deviations about the patient (full card only)."""
    from logistics.views.deviations import DEVIATIONS_SECTION
    from protection.registry import patient_page_sections

    _append_once(patient_page_sections, DEVIATIONS_SECTION)


def _register_start_page() -> None:
    """The start page's logistics sections: the store's queues, the unit's orders, devices."""
    from logistics import start_sections

    start_sections.register()


def register_all() -> None:
    _register_orders()
    _register_reservations()
    _register_documents()
    _register_devices()
    _register_deviations()
    _register_order_summary()
    _register_start_page()

"""PRESC-10 in Chromium, on the seeded demo (README "Work orders and the technician's day" steps
1 and 3): customer service takes a fault report by phone and it becomes a repair in the
technician's queue, due within two working days; the technician starts it, records the time and
the result and finishes it. On a protected patient's device the technician sees the prescriber
as contact, never the patient. Every page on the way is Swedish, passes axe-core and reflows at
320 CSS pixels."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from logistics.calendar import working_days_after
from logistics.models import (
    Device,
    WorkOrder,
    WorkOrderKind,
    WorkOrderSource,
    WorkOrderState,
    WorkOrderTransition,
)
from logistics.services.workorders import REPAIR_START_WORKING_DAYS
from tests.browser.test_daily_paths import AxeCheck, checked, go, start, start_item
from tests.browser.test_first_pages import PASSWORD
from tests.browser.test_logistics import reflow_overflow

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

KARL_ROLLATOR = "GL-2025-0101"  # README: the serial number to type
EVA_ROLLATOR = "GL-2025-0102"  # README: the demo's fault report on Eva Holm's rollator
EVA_NAME = "Eva Holm"
FAULT = "Bromsen tar inte på vänster sida."
CALLER_PHONE = "070-123 45 67"
NARROW = {"width": 320, "height": 800}
WIDE = {"width": 1280, "height": 800}


@pytest.fixture
def demo(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("seed_demo", shared=shared_dir, stdout=io.StringIO())


def reflows(page: Page) -> None:
    """WCAG 1.4.10: at 320 CSS pixels the page does not scroll sideways."""
    page.set_viewport_size(NARROW)
    overflow = reflow_overflow(page)
    page.set_viewport_size(WIDE)
    assert not overflow, f"reflow at 320 px on {page.url}: {overflow}"


def test_presc_10_a_fault_report_becomes_the_technicians_repair_and_is_done(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    device = Device.objects.get(serial_number=KARL_ROLLATOR)
    before = set(WorkOrder.objects.filter(device=device).values_list("pk", flat=True))

    # Customer service: *Felanmälan* on the start page.
    start(page, "customer_service", axe_check)
    go(page, start_item(page, "Felanmälan"), axe_check)
    expect(page.locator("h1")).to_have_text("Felanmälan")
    reflows(page)
    page.get_by_label("Serienummer").fill(KARL_ROLLATOR)
    page.get_by_label("Fel", exact=True).fill(FAULT)
    page.get_by_label("Telefonnummer som den som ringde lämnade").fill(CALLER_PHONE)
    go(page, page.get_by_role("button", name="Registrera felanmälan"), axe_check)
    order = WorkOrder.objects.exclude(pk__in=before).get(device=device)
    assert (order.kind, order.source, order.state) == (
        WorkOrderKind.REPAIR,
        WorkOrderSource.FAULT_REPORT,
        WorkOrderState.REGISTERED,
    )
    assert (order.description, order.caller_phone) == (FAULT, CALLER_PHONE)
    due = working_days_after(timezone.localdate(), REPAIR_START_WORKING_DAYS)
    assert order.due_on == due
    main = page.locator("main")
    expect(main).to_contain_text(
        f"Felanmälan är registrerad som arbetsorder {order.number} i kön hos "
        "Hjälpmedelscentralen Skåne."
    )

    # The technician: *Verkstadens kö*, the repair under *Reparationer* with its due date.
    page.context.clear_cookies()
    start(page, "technician", axe_check)
    go(page, start_item(page, "Verkstadens kö"), axe_check)
    expect(page.locator("h1")).to_have_text("Verkstadens kö")
    reflows(page)
    repairs = page.locator("section[aria-labelledby=section-repairs]")
    expect(repairs.locator("h2")).to_contain_text("Reparationer")
    row = repairs.locator("tbody tr", has=page.get_by_role("link", name=order.number))
    expect(row).to_contain_text(KARL_ROLLATOR)
    expect(row).to_contain_text(due.isoformat())
    go(page, row.get_by_role("link", name=order.number), axe_check)
    expect(page.locator("h1")).to_have_text(f"Arbetsorder {order.number}")
    expect(main).to_contain_text(FAULT)
    reflows(page)

    go(page, main.get_by_role("button", name="Påbörja arbetet"), axe_check)
    expect(main).to_contain_text(f"Arbetsorder {order.number} är påbörjad.")
    page.get_by_label("Nedlagd tid (minuter)").fill("45")
    go(page, main.get_by_role("button", name="Registrera tiden"), axe_check)
    expect(main).to_contain_text("Tiden är registrerad.")
    page.get_by_label("Resultat").fill("Bromsvajern justerad och bromsen provad.")
    go(page, main.get_by_role("button", name="Avsluta", exact=True), axe_check)
    expect(main).to_contain_text(f"Arbetsorder {order.number} är klar.")
    reflows(page)

    order.refresh_from_db()
    assert order.state == WorkOrderState.DONE
    assert order.technician is not None
    assert order.technician.username == "technician"
    assert order.minutes_spent == 45
    assert order.result == "Bromsvajern justerad och bromsen provad."
    assert order.started_at is not None
    assert order.finished_at is not None
    history = list(
        WorkOrderTransition.objects.filter(work_order=order)
        .order_by("pk")
        .values_list("from_state", "to_state", "by__username")
    )
    assert history[0][:2] == ("", WorkOrderState.REGISTERED)
    assert history[0][2] == "customer_service"
    assert history[-1] == (WorkOrderState.IN_PROGRESS, WorkOrderState.DONE, "technician")
    assert (WorkOrderState.IN_PROGRESS, "technician") in {(to, by) for _, to, by in history}


def test_presc_10_the_technician_sees_the_prescriber_as_contact_for_eva_holms_rollator(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    """LEAK-5: the queue and the work order page name the prescriber, never the patient."""
    order = WorkOrder.objects.get(
        device__serial_number=EVA_ROLLATOR, source=WorkOrderSource.FAULT_REPORT
    )
    start(page, "technician", axe_check)
    go(page, start_item(page, "Verkstadens kö"), axe_check)
    repairs = page.locator("section[aria-labelledby=section-repairs]")
    row = repairs.locator("tbody tr", has=page.get_by_role("link", name=order.number))
    expect(row).to_contain_text("Kontakt via förskrivaren")
    expect(row).to_contain_text("Hugo Audionom")
    expect(page.locator("main")).not_to_contain_text(EVA_NAME)
    go(page, row.get_by_role("link", name=order.number), axe_check)
    main = page.locator("main")
    expect(page.locator("#contact-notice")).to_be_visible()
    expect(page.locator("#work-order-patient")).to_contain_text(
        "En patient \N{EN DASH} kontakt via förskrivaren"
    )
    expect(page.locator("#work-order-contact")).to_contain_text("Kontakt via förskrivaren")
    expect(main).not_to_contain_text(EVA_NAME)
    assert order.caller_phone
    expect(main).not_to_contain_text(order.caller_phone)
    assert EVA_NAME not in page.content()
    checked(page, axe_check)

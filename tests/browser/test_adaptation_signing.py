"""PRESC-6 in Chromium, on the seeded demo (README "A signed adaptation"): the prescriber opens
*Att signera*, makes the risk assessment, signs after confirming the password (what was chosen
comes back), and the device may then be delivered; the technician's page and the device card
show it. Every page on the way is Swedish and passes axe-core."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from playwright.sync_api import Page, expect

from logistics.models import AdaptationRecord, Device, DeviceStatus, WorkOrder, WorkOrderKind
from logistics.services.errors import LogisticsError
from logistics.services.state import device_adaptation_check, device_move
from tests.browser.test_daily_paths import AxeCheck, checked, go, start, start_item
from tests.browser.test_first_pages import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SERIAL = "GL-2026-0006"  # README: the demo's adapted Rollator Gloss


@pytest.fixture
def demo(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("seed_demo", shared=shared_dir, stdout=io.StringIO())


def test_presc_6_the_prescriber_signs_the_adaptation_and_the_device_may_be_delivered(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    device = Device.objects.get(serial_number=SERIAL)
    work_order = WorkOrder.objects.get(kind=WorkOrderKind.SPECIAL_ADAPTATION, device=device)
    with pytest.raises(LogisticsError):
        device_adaptation_check(device)  # waiting for the signature: not delivered

    start(page, "prescriber", axe_check)
    go(page, start_item(page, "Att signera"), axe_check)
    expect(page.locator("h1")).to_have_text("Att signera")
    main = page.locator("main")
    expect(main).to_contain_text("Karl Lindqvist")
    go(page, main.get_by_role("link", name=work_order.number), axe_check)
    expect(page.locator("h1")).to_have_text(
        f"Signera anpassningen, arbetsorder {work_order.number}"
    )
    expect(main).to_contain_text(SERIAL)
    expect(main).to_contain_text("Rollator Gloss")
    page.get_by_label("stabilitet och tippning").check()
    page.get_by_label("tryck, hud och sittställning").check()
    page.get_by_label("Det anpassade hjälpmedlet kan användas säkert.", exact=True).check()
    sign = main.get_by_role("button", name="Signera anpassningen")
    go(page, sign, axe_check)
    expect(page.locator("h1")).to_have_text("Bekräfta ditt lösenord")
    page.locator("#id_password").fill(PASSWORD)
    go(page, main.get_by_role("button", name="Bekräfta", exact=True), axe_check)
    # Back on the signing page with what was chosen.
    expect(page.locator("#typed-restored")).to_be_visible()
    expect(page.get_by_label("stabilitet och tippning")).to_be_checked()
    go(page, main.get_by_role("button", name="Signera anpassningen"), axe_check)
    expect(main).to_contain_text(
        f"Anpassningen på arbetsorder {work_order.number} är signerad. "
        "Hjälpmedlet får nu levereras."
    )
    record = AdaptationRecord.objects.get(device=device)
    assert (record.signed_by.username, record.conclusion) == ("prescriber", "safe")

    # The device may now go out (the check that packing, dispatch and hand-over ask).
    device.refresh_from_db()
    device_adaptation_check(device)
    with transaction.atomic():
        device_move(device=device, to_state=DeviceStatus.ALLOCATED)
        device_move(device=device, to_state=DeviceStatus.IN_TRANSIT, location=None)

    # The technician's page and the device card show the signed adaptation.
    page.context.clear_cookies()
    start(page, "technician", axe_check)
    page.goto(f"/logistics/work-orders/{work_order.pk}/adaptation/")
    checked(page, axe_check)
    expect(page.locator("h1")).to_have_text(
        f"Signering av anpassningen, arbetsorder {work_order.number}"
    )
    page.goto(f"/logistics/devices/{device.pk}/")
    checked(page, axe_check)
    expect(page.locator("#adaptations-heading")).to_have_text("Signerade specialanpassningar")
    expect(page.locator("main")).to_contain_text(work_order.number)

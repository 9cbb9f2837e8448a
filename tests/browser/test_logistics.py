"""The store's day in a real Chromium, as a member of the logistics role: the start page's
queues, a pick wave created for the central store and a delivery day, each line picked (the
serial of a serial-numbered article typed into the field as a barcode scanner does: the
characters, then Enter), the pick list requested, the orders packed by scanning their numbers,
the route dispatched, one delivery confirmed with who received it and one recorded as failed.

- PRINT-1 / LEAK-5: a protected patient's order goes the whole way too; every page the store
  sees names it by its order number, the prescriber's unit and the prescriber only.
- Keyboard-first: the scan and serial fields have the focus when their page opens, and Enter
  sends them; the remaining steps are reached with Tab.
- axe-core finds no serious or critical violation on any logistics page, and at 320 CSS pixels
  (WCAG 1.4.10) no page scrolls sideways: a wide table scrolls in its own container.

Every identity number here is one of Skatteverket's test personnummer (IDENT-4).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from logistics.calendar import next_working_day
from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DeliveryAttempt,
    Device,
    DeviceStatus,
    DirectDelivery,
    FailureReason,
    LineState,
    LocationKind,
    Package,
    PackageState,
    PickItem,
    PickWave,
    StockLocation,
)
from logistics.services.delivery import (
    package_deliver,
    package_dispatch,
    package_fail,
    package_pack,
)
from logistics.services.orders import order_create_from_release
from logistics.services.picking import item_pick, orders_routed, waves_create
from logistics.services.replenishment import replenishment_order
from patients.models import Patient
from prescriptions.models import Article
from tests.browser.test_first_pages import leaks, log_in, number_forms, tab_to
from tests.factories import PatientIdentityFactory, UserFactory
from tests.logistics.conftest import approved
from tests.logistics.factories import DeviceFactory, StockLocationFactory
from tests.logistics.picking_setup import allocated_order, area_all_week, stocked
from tests.personas import ORDINARY_NUMBER, PROTECTED_NUMBER, give_grant
from tests.prescriptions.conftest import article
from tests.prescriptions.drafting import draft_with
from tests.prescriptions.factories import CompetenceAreaFactory, PrescriberProfileFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THIRD_NUMBER = "194201199124"
# What names or locates the protected patient (tests.personas.protected_identity_create).
PROTECTED_SECRETS = (
    *number_forms(PROTECTED_NUMBER),
    "Hemlig",
    "Gömdasson",
    "Gömdavägen",
    "21120",
)
# WCAG 1.4.10: the page may be a pixel wider than the viewport from sub-pixel rounding.
REFLOW_WIDTH = 320
REFLOW_TOLERANCE = 2


def sv(message: str, **values: Any) -> str:
    """A message as the Swedish page shows it."""
    with translation.override("sv"):
        text = translation.gettext(message)
    return text % values if values else text


@dataclass
class Store:
    """The central store with stock, a route, a prescriber, a store worker and three patients
    (one protected) whose approved prescriptions are allocated orders."""

    central: StockLocation
    worker: Any
    prescriber: Any
    rollator: Article
    pads: Article
    serials: list[str]
    ordinary: Patient
    hidden: Patient
    third: Patient
    orders: dict[str, CustomerOrder] = field(default_factory=dict)

    @property
    def unit_name(self) -> str:
        return str(self.orders["hidden"].unit.unit.name)


def store_built(*, protected_order: bool = True, third_order: bool = True) -> Store:
    central = StockLocationFactory()
    area_all_week()
    worker = UserFactory(username="lager", role="logistics")
    prescriber = UserFactory(
        username="anna", role="prescriber", first_name="Anna", last_name="Berg"
    )
    PrescriberProfileFactory(user=prescriber, competences=[CompetenceAreaFactory()])
    rollator = article("2900", serial_numbered=True, gtin="07340000000017", name="Rollator Gloss")
    pads = article("120", assortment_days=17, name="Sittdyna")
    stocked(rollator, central, 5)
    stocked(pads, central, 10)
    serials = [
        DeviceFactory(article=rollator, location=central, serial_number=f"RG-1000{n}").serial_number
        for n in range(4)
    ]
    ordinary = PatientIdentityFactory(
        personal_identity_number=ORDINARY_NUMBER, given_names="Karin", surname="Nilsson"
    ).patient
    third = PatientIdentityFactory(
        personal_identity_number=THIRD_NUMBER, given_names="Olle", surname="Persson"
    ).patient
    hidden = PatientIdentityFactory(
        personal_identity_number=PROTECTED_NUMBER,
        given_names="Hemlig",
        surname="Gömdasson",
        registered_address={"street2": "Gömdavägen 7", "postal_code": "21120", "city": "MALMÖ"},
    )
    hidden.patient.protected_registration = True
    hidden.patient.save()
    give_grant(prescriber, hidden)
    store = Store(
        central=central,
        worker=worker,
        prescriber=prescriber,
        rollator=rollator,
        pads=pads,
        serials=serials,
        ordinary=ordinary,
        hidden=Patient.objects.get(pk=hidden.patient.pk),
        third=third,
    )
    store.orders["ordinary"] = allocated_order(
        approved(prescriber, ordinary, rollator, pads), central, rollator, pads
    )
    if protected_order:
        store.orders["hidden"] = allocated_order(
            approved(prescriber, store.hidden, rollator, stepped_up=True),
            central,
            rollator,
            protected=True,
        )
    if third_order:
        store.orders["third"] = allocated_order(approved(prescriber, third, pads), central, pads)
    return store


def delivery_day() -> datetime.date:
    """The day the waves are created for: the route's first day after the next working day
    (what the wave service plans with), read from the routing of an order."""
    order = CustomerOrder.objects.order_by("pk").first()
    assert order is not None
    routed, _unrouted = orders_routed([order], next_working_day(timezone.localdate()))
    return routed[order.pk][1]


def navigate(page: Page, key: str = "Enter") -> None:
    """Press a key that sends a form, and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def focused(page: Page) -> dict[str, str]:
    return dict(
        page.evaluate(
            "({id: document.activeElement.id, tag: document.activeElement.tagName,"
            " name: document.activeElement.name || ''})"
        )
    )


def date_by_keyboard(page: Page, selector: str, target: datetime.date) -> None:
    """Set the focused date field with the arrow keys, as a keyboard user does. The order of
    its year, month and day parts follows the browser's own language, so each part is found by
    stepping it up and back down, then stepped to the wanted value."""
    field = page.locator(selector)
    wanted = (target.year, target.month, target.day)
    for _part in range(3):
        before = field.input_value().split("-")
        page.keyboard.press("ArrowUp")
        after = field.input_value().split("-")
        page.keyboard.press("ArrowDown")
        changed = [i for i in range(3) if before[i] != after[i]]
        assert len(changed) == 1, (before, after)
        step = wanted[changed[0]] - int(before[changed[0]])
        for _ in range(abs(step)):
            page.keyboard.press("ArrowUp" if step > 0 else "ArrowDown")
        page.keyboard.press("ArrowRight")
    expect(field).to_have_value(target.isoformat())


def assert_no_protected_secrets(page: Page) -> None:
    html = page.content()
    assert not leaks(html, *PROTECTED_SECRETS), (page.url, leaks(html, *PROTECTED_SECRETS))


def pick_the_wave_by_keyboard(page: Page, store: Store) -> int:
    """Pick every open line of the wave on the page with the keyboard only: the focus is on the
    first open line's serial field (typed, then Enter) or its Picked button (Enter)."""
    free = list(store.serials)
    picked = 0
    while page.locator("table form").count():
        where = focused(page)
        if where["tag"] == "INPUT":
            assert where["name"] == "serial", where
            page.keyboard.type(free.pop(0))
        else:
            assert where["tag"] == "BUTTON", where
        navigate(page)
        expect(page.locator(".messages")).to_contain_text(sv("Picked."))
        picked += 1
    return picked


# --- 1. the whole flow ---------------------------------------------------------------------------


def test_log_pick_pack_dispatch_confirm_and_fail_in_the_browser(page, visited_urls, live_server):
    """The store's day; PRINT-1 and LEAK-5 for the protected patient's order on every page."""
    store = store_built()
    day = delivery_day()
    log_in(page, "lager")
    ordinary, hidden, third = (store.orders[k] for k in ("ordinary", "hidden", "third"))

    # The start page: four lines to pick (a rollator and a cushion, a rollator, a cushion).
    page.goto("/logistics/")
    to_pick = page.locator("a[href='/logistics/queue/to-pick/']")
    expect(to_pick.locator(".queue-count")).to_have_text("4")
    expect(page.locator("a[href='/logistics/waves/'] .queue-count")).to_have_text("0")
    with page.expect_navigation():
        to_pick.click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("table")).to_contain_text(hidden.number)
    expect(page.locator("table")).to_contain_text(store.unit_name)
    assert_no_protected_secrets(page)

    # A wave for the central store and the delivery day.
    page.goto("/logistics/waves/")
    page.locator("#id_store").select_option(str(store.central.pk))
    page.locator("#id_day").fill(day.isoformat())
    with page.expect_navigation():
        page.locator("form[action='/logistics/waves/create/'] button").click()
    expect(page.locator(".messages")).to_contain_text(sv("%(count)s waves created.", count=1))
    wave = PickWave.objects.get()
    link = page.locator(f"a[href='/logistics/waves/{wave.pk}/']")
    expect(link).to_have_text(wave.number)
    with page.expect_navigation():
        link.click()
    expect(page.locator("h1")).to_contain_text(wave.number)
    expect(page.locator("table tbody tr")).to_have_count(4)
    assert_no_protected_secrets(page)

    # A serial that is no device of the article in this store: refused, nothing picked.
    page.locator("input[name=serial]").first.fill("RG-NOPE")
    with page.expect_navigation():
        page.locator("input[name=serial]").first.press("Enter")
    expect(page.locator(".messages")).to_contain_text("RG-NOPE")
    assert not PickItem.objects.filter(state="picked").exists()

    assert pick_the_wave_by_keyboard(page, store) == 4
    lines = CustomerOrderLine.objects.filter(order__in=(ordinary, hidden, third))
    assert set(lines.values_list("state", flat=True)) == {LineState.PICKED}
    assert set(
        Device.objects.filter(serial_number__in=store.serials[:2]).values_list("status", flat=True)
    ) == {DeviceStatus.ALLOCATED}
    # Each rollator line carries its device's serial.
    for serial in store.serials[:2]:
        expect(page.locator("table")).to_contain_text(f"({serial})")

    with page.expect_navigation():
        page.locator(f"form[action='/logistics/waves/{wave.pk}/pick-list/'] button").click()
    expect(page.locator(".messages")).to_contain_text(
        sv("The pick list is being made: find it in My documents.")
    )

    # Pack: the scan field has the focus; each order number is scanned (typed, then Enter).
    page.goto("/logistics/pack/")
    expect(page.locator("table").first).to_contain_text(hidden.number)
    for order in (ordinary, hidden, third):
        assert focused(page)["id"] == "id_scan"
        page.keyboard.type(order.number)
        navigate(page)
        expect(page.locator(".messages")).to_contain_text(
            sv("Order %(number)s packed.", number=order.number)
        )
    expect(page.locator("p[role=status]")).to_have_text(sv("Nothing to pack."))
    packages = {p.order_id: p for p in Package.objects.all()}
    assert {p.state for p in packages.values()} == {PackageState.PACKED}
    assert_no_protected_secrets(page)

    # The route of the delivery day: the protected stop is the unit, with the prescriber.
    package_day = packages[ordinary.pk].delivery_on
    page.goto("/logistics/routes/")
    page.locator("#id_day").fill(package_day.isoformat())
    with page.expect_navigation():
        page.locator("form[method=get] button").click()
    stops = page.locator("table tbody tr")
    expect(stops).to_have_count(3)
    protected_stop = stops.filter(has_text=hidden.number)
    expect(protected_stop).to_contain_text(store.unit_name)
    expect(protected_stop).to_contain_text("Anna Berg")
    assert_no_protected_secrets(page)
    with page.expect_navigation():
        page.locator("form:has(input[name=area]) button").click()
    expect(page.locator(".messages")).to_contain_text(
        sv("%(count)s packages out for delivery.", count=3)
    )
    assert set(Package.objects.values_list("state", flat=True)) == {PackageState.DISPATCHED}

    # Deliveries: the ordinary and the protected order confirmed, the third one failed.
    page.goto("/logistics/deliveries/")
    expect(page.locator("main section")).to_have_count(3)
    expect(page.locator(f"#stop-{packages[hidden.pk].pk}")).to_contain_text(hidden.number)
    expect(page.locator(f"section:has(#stop-{packages[hidden.pk].pk})")).to_contain_text(
        store.unit_name
    )
    assert_no_protected_secrets(page)
    for order, receiver in ((ordinary, "Grannen Per"), (hidden, "Anna Berg på enheten")):
        received = page.locator(f"#received-{packages[order.pk].pk}")
        received.fill(receiver)
        with page.expect_navigation():
            received.press("Enter")
        expect(page.locator(".messages")).to_contain_text(
            sv("Delivery of order %(number)s confirmed.", number=order.number)
        )
    failed_package = packages[third.pk]
    page.locator(f"#reason-{failed_package.pk}").select_option(FailureReason.NOBODY_HOME)
    page.locator(f"#note-{failed_package.pk}").fill("Ingen öppnade, lapp i dörren")
    with page.expect_navigation():
        stop = page.locator(f"section:has(#stop-{failed_package.pk})")
        stop.locator("button[data-variant=secondary]").click()
    expect(page.locator(".messages")).to_contain_text(
        sv("Recorded as failed; a new attempt is planned.")
    )
    expect(page.locator("p[role=status]")).to_have_text(sv("No deliveries to confirm."))

    attempts = {a.package.order_id: a for a in DeliveryAttempt.objects.select_related("package")}
    assert attempts[ordinary.pk].delivered
    assert attempts[ordinary.pk].received_by == "Grannen Per"
    assert attempts[hidden.pk].delivered
    assert not attempts[third.pk].delivered
    assert attempts[third.pk].reason == FailureReason.NOBODY_HOME
    assert set(
        CustomerOrderLine.objects.filter(order__in=(ordinary, hidden)).values_list(
            "state", flat=True
        )
    ) == {LineState.DELIVERED}
    delivered = Device.objects.get(serial_number__in=store.serials[:2], order_lines__order=ordinary)
    assert delivered.holder_kind == "patient"

    # The failed delivery, with its reason and the next attempt.
    page.goto("/logistics/deliveries/failed/")
    row = page.locator("table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(third.number)
    expect(row).to_contain_text("Ingen öppnade")
    failed_package.refresh_from_db()
    assert failed_package.state == PackageState.FAILED
    expect(row).to_contain_text(failed_package.delivery_on.isoformat())

    # The protected patient's order page as the store sees it: number, unit and prescriber.
    page.goto(f"/logistics/orders/{hidden.number}/")
    expect(page.locator("h1")).to_contain_text(hidden.number)
    facts = page.locator("main dl")
    expect(facts).to_contain_text(store.unit_name)
    expect(facts).to_contain_text("Anna Berg")
    expect(facts).not_to_contain_text(sv("Patient"))
    assert_no_protected_secrets(page)
    assert not leaks(" ".join(visited_urls), *PROTECTED_SECRETS), visited_urls


# --- 2. keyboard only ----------------------------------------------------------------------------


def test_log_the_store_flow_with_the_keyboard_only(page):
    """Wave, pick, pack, dispatch by scan and confirm: Tab, typing and Enter, no pointer."""
    store = store_built(protected_order=False, third_order=False)
    order = store.orders["ordinary"]
    day = delivery_day()
    log_in(page, "lager")

    page.goto("/logistics/waves/")
    tab_to(page, "#id_day")
    date_by_keyboard(page, "#id_day", day)
    tab_to(page, "form[action='/logistics/waves/create/'] button")
    navigate(page)
    wave = PickWave.objects.get()
    tab_to(page, f"a[href='/logistics/waves/{wave.pk}/']")
    navigate(page)

    # The first open line has the focus: the cushion's Picked button or the rollator's serial.
    assert focused(page)["tag"] in {"INPUT", "BUTTON"}
    assert pick_the_wave_by_keyboard(page, store) == 2

    page.goto("/logistics/pack/")
    assert focused(page)["id"] == "id_scan"
    page.keyboard.type(order.number)
    navigate(page)
    package = Package.objects.get(order=order)

    page.goto(f"/logistics/routes/?day={package.delivery_on.isoformat()}")
    tab_to(page, "#id_scan")
    page.keyboard.type(package.number)
    navigate(page)
    expect(page.locator(".messages")).to_contain_text(
        sv("Package %(package)s is out for delivery.", package=package.number)
    )

    page.goto("/logistics/deliveries/")
    tab_to(page, f"#received-{package.pk}")
    page.keyboard.type("Grannen Per")
    navigate(page)
    package.refresh_from_db()
    assert package.state == PackageState.DELIVERED


# --- 3. axe-core and reflow on every logistics page ----------------------------------------------


def store_in_every_state() -> dict[str, str]:
    """Through the services: a wave with a line left to pick, a packed package, a dispatched
    one (the protected patient's), a failed one, a delivered device, a draft's reservation and
    an open replenishment. The pages to check, by name."""
    store = store_built()
    worker = store.worker
    extra = allocated_order(
        approved(store.prescriber, store.third, store.rollator), store.central, store.rollator
    )
    delivered_order = allocated_order(
        approved(store.prescriber, store.ordinary, store.rollator),
        store.central,
        store.rollator,
    )
    wave = waves_create(store_id=store.central.pk, delivery_on=delivery_day(), by=worker).waves[0]
    free = list(store.serials)
    for item in PickItem.objects.filter(wave=wave).select_related("line__article"):
        if item.line.order_id == extra.pk:
            continue
        serial = free.pop(0) if item.line.article.serial_numbered else ""
        item_pick(wave_id=wave.pk, item_id=item.pk, by=worker, serial=serial)
    packages = {
        key: package_pack(order_id=order.pk, by=worker)
        for key, order in (*store.orders.items(), ("delivered", delivered_order))
    }
    for key in ("hidden", "third", "delivered"):
        package_dispatch(package_id=packages[key].pk, by=worker)
    package_fail(package_id=packages["third"].pk, reason=FailureReason.REFUSED, note="", by=worker)
    package_deliver(package_id=packages["delivered"].pk, received_by="Grannen Per", by=worker)
    device = Device.objects.get(order_lines__order=delivered_order)
    # LOG-1: a draft holding a cushion reserved; LOG-2: the unit's buffer store, replenished.
    draft_with(store.prescriber, store.ordinary, store.pads)
    buffer = StockLocationFactory(
        code="buffer-a",
        name="Förrådet",
        kind=LocationKind.BUFFER,
        unit=store.prescriber.staff_profile.unit,
    )
    replenishment_order(
        user=store.prescriber, location_code=buffer.code, lines=[(store.pads.article_number, 4)]
    )
    # LOG-3: an ordinary patient's order of an article its supplier delivers directly.
    direct_order = order_create_from_release(
        prescription_id=approved(
            store.prescriber, store.ordinary, article("900", supplier_delivers=True)
        ).pk
    )
    assert direct_order is not None
    direct = DirectDelivery.objects.get(order=direct_order)
    day = packages["ordinary"].delivery_on.isoformat()
    code = store.central.code
    worker_pages = {
        "start": "/logistics/",
        "queue": "/logistics/queue/picking/",
        "waves": "/logistics/waves/",
        "wave": f"/logistics/waves/{wave.pk}/",
        "pack": "/logistics/pack/",
        "routes": f"/logistics/routes/?day={day}",
        "deliveries": "/logistics/deliveries/",
        "failed": "/logistics/deliveries/failed/",
        "protected order (store)": f"/logistics/orders/{store.orders['hidden'].number}/",
        "device search": f"/logistics/devices/?serial={device.serial_number[:4]}",
        "device card": f"/logistics/devices/{device.pk}/",
        "kpi": "/logistics/kpi/",
        "stores": "/logistics/stock/",
        "store": f"/logistics/stock/{code}/",
        "article stock": f"/logistics/stock/{code}/{store.rollator.article_number}/",
        "proposals": "/logistics/stock/proposals/",
        "purchase orders": "/logistics/stock/purchase-orders/",
        "direct deliveries": "/logistics/direct/",
        "direct delivery": f"/logistics/direct/{direct.pk}/",
    }
    prescriber_pages = {
        "orders mine": "/logistics/orders/mine/",
        "order": f"/logistics/orders/{store.orders['ordinary'].number}/",
        "reservations": "/logistics/reservations/",
        "replenishments": "/logistics/replenishments/",
    }
    return {
        **{f"lager {k}": v for k, v in worker_pages.items()},
        **{f"anna {k}": v for k, v in prescriber_pages.items()},
    }


def reflow_overflow(page: Page) -> list[str]:
    """At 320 CSS pixels: the page's sideways overflow, and the elements sticking out of it."""
    width = page.evaluate("document.scrollingElement.scrollWidth")
    if width <= REFLOW_WIDTH + REFLOW_TOLERANCE:
        return []
    culprits = page.evaluate(
        """(limit) => [...document.querySelectorAll('main *, header *')]
            .filter(e => e.getBoundingClientRect().right > limit
                    && !e.closest('.table-scroll'))
            .slice(0, 5)
            .map(e => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')
                 + ' right=' + Math.round(e.getBoundingClientRect().right))""",
        REFLOW_WIDTH + REFLOW_TOLERANCE,
    )
    return [f"scrollWidth {width}", *culprits]


def test_log_every_logistics_page_passes_axe_core_and_reflows_at_320_pixels(new_page, axe_check):
    """axe-core: no serious or critical violation; WCAG 1.4.10: no sideways scrolling at 320 px.
    Every page is checked before the test fails, so the report names them all."""
    pages = store_in_every_state()
    browsers = {}
    for who in ("lager", "anna"):
        browsers[who] = new_page()
        log_in(browsers[who], who)
    problems: list[str] = []
    for name, url in pages.items():
        page = browsers[name.split()[0]]
        page.set_viewport_size({"width": 1280, "height": 800})
        response = page.goto(url)
        assert response is not None
        assert response.status == 200, (name, url)
        try:
            axe_check(page)
        except pytest.fail.Exception as failure:
            problems.append(f"{name} {url}: {failure}")
        page.set_viewport_size({"width": REFLOW_WIDTH, "height": 640})
        overflow = reflow_overflow(page)
        if overflow:
            problems.append(f"{name} {url}: reflow at 320 px: {overflow}")
        if name.startswith("lager"):
            assert_no_protected_secrets(page)
    assert not problems, "\n".join(problems)

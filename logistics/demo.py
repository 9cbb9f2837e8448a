"""Demo data of the logistics floor: the central store and a unit's buffer store with stock,
serial-numbered rollators, delivery areas, and customer orders in every state, made through the
product's own services: Karl Lindqvist's rollator allocated and waiting to be picked (the
README's walkthrough picks, packs and delivers it), earlier orders of his picked, packed, out
for delivery and delivered, and orders for Eva Holm and Maria Ek (protected identity), which go
to the prescriber's unit with papers that do not name them. A safety notice on three rollators
(DEVICE-2): Maria Ek's and Karl Lindqvist's, lent earlier, and one in the store.

The protected patients' orders are prescribed by ``prescriber2`` (Hugo Audionom), who holds
grants for both (decided as case ÄR-2026-2); ``prescriber`` still has to ask for Eva Holm in the
README's protection story. Nothing here creates a patient.
"""

from __future__ import annotations

import datetime
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.db import connection, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from logistics.calendar import next_working_day
from logistics.demo_adaptations import adaptation_demo
from logistics.models import (
    CustomerOrder,
    DeliveryArea,
    DeviationCategory,
    Device,
    DeviceStatus,
    HolderKind,
    LocationKind,
    NoticeAction,
    NoticeDevice,
    Package,
    PickItem,
    RecirculationPolicy,
    SafetyNotice,
    StockLocation,
)
from logistics.services.delivery import package_deliver, package_dispatch, package_pack
from logistics.services.devices import device_register
from logistics.services.losses import loss_device_report
from logistics.services.orders import order_create_from_release, orders_allocate
from logistics.services.picking import item_pick, orders_routed, waves_create
from logistics.services.pickups import pickup_order_create
from logistics.services.quality import deviation_report, incident_raise
from logistics.services.recalls import (
    NoticeArticleInput,
    notice_create,
    notice_publish,
    outreach_record,
)
from logistics.services.state import device_move
from logistics.services.stock import level_change, level_locked
from logistics.services.workorders import work_order_create, work_order_start
from patients.models import Patient, StaffProfile, Unit
from patients.services import Actor
from prescriptions.models import (
    Article,
    CompetenceArea,
    CompetenceRegistration,
    PrescriberProfile,
    Prescription,
    ProductArea,
)
from prescriptions.services.activity import (
    BookingDetails,
    consultation_activity_book,
    consultation_activity_create,
)
from prescriptions.services.consumables import (
    consumable_prescription_create,
    consumable_withdrawal_create,
)
from prescriptions.services.drafts import prescription_details_set, prescription_draft_start
from prescriptions.services.lines import prescription_line_add
from prescriptions.services.routing import prescription_submit
from protection.gate import PROTECTED_PERMISSION, STEP_UP_SESSION_KEY, AccessContext
from protection.models import Grant
from protection.rls import system_context

CENTRAL = "central"
BUFFER = "buffer-rehab-malmo"
ROLLATOR = "44001"
# Stock in the central store: article number -> (physical, reorder point, reorder quantity).
STOCK = {
    "44001": (0, 4, 10),  # the rollators arrive as devices below
    "44002": (6, 3, 6),
    "44010": (20, 10, 20),
    "62155": (8, 5, 10),
    "40190": (2, 6, 12),  # below its reorder point: a purchase proposal
    "43001": (3, None, 0),
}
ROLLATOR_SERIALS = [f"GL-2026-{n:04d}" for n in range(1, 9)]
# DEVICE-2: the safety notice's serial range: Maria Ek's and Karl Lindqvist's, one in store.
RECALLED_SERIALS = ROLLATOR_SERIALS[:3]
# Delivered and fitted at home by its supplier (LOG-3): Karl Lindqvist's ramp goes to the
# supplier instead of the store's shelves.
DIRECT_RAMP = "43002"
# Rollators lent before: Karl Lindqvist's (picked up), Eva Holm's (picked up at the unit), and
# one of Karl Lindqvist's reported lost (DEVICE-4).
HELD_SERIALS = ["GL-2024-0101", "GL-2024-0102", "GL-2024-0103"]
# QUAL-2: a returned rollator of another model, in the workshop as an incident's evidence (not
# one of the eight the README picks from).
EVIDENCE_ARTICLE = "44002"
EVIDENCE_SERIAL = "VS-2025-0417"
KARL = "194201077098"
EVA = "194202269207"
MARIA = "194201199124"


def _ctx(user: Any) -> AccessContext:
    session = SessionBase()
    session[STEP_UP_SESSION_KEY] = time.time()
    unit_id = StaffProfile.objects.filter(user_id=user.pk).values_list("unit_id", flat=True).first()
    return AccessContext(
        user=user,
        actor=Actor(user_id=user.pk, unit_id=unit_id, ip_address=None, session_ref="demo"),
        session=session,
    )


def _as_user(user: Any) -> None:
    # Row-level security reads the acting user from this setting, as a request's middleware sets.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hjm.user_id', %s, false)", [str(user.pk)])


def _patient(number: str) -> Patient:
    # Finding the demo's patients by their test numbers is the seed's job, not a user's read.
    with system_context():
        return Patient.objects.get(identity__personal_identity_number=number)


def _approved(user: Any, number: str, *articles: str, urgent: bool = False) -> Prescription:
    """A prescription drafted, submitted and approved through the prescriptions floor."""
    ctx = _ctx(user)
    _as_user(user)
    draft = prescription_draft_start(ctx=ctx, patient_reference=_patient(number).reference)
    for article_number in articles:
        article = Article.objects.get(article_number=article_number)
        prescription_line_add(ctx=ctx, reference=draft.reference, article_id=article.pk)
    prescription_details_set(
        ctx=ctx,
        reference=draft.reference,
        need="Behöver stöd vid gång inomhus och utomhus.",
        urgency="urgent" if urgent else "normal",
        fitting_note="",
    )
    return prescription_submit(ctx=ctx, reference=draft.reference)


def _order(prescription: Prescription) -> CustomerOrder:
    made = order_create_from_release(prescription_id=prescription.pk)
    return made or CustomerOrder.objects.get(number=prescription.reference)


def _stores() -> StockLocation:
    central, _ = StockLocation.objects.get_or_create(
        code=CENTRAL,
        defaults={
            "name": "Hjälpmedelscentralen Skåne",
            "kind": LocationKind.CENTRAL,
            "region_id": "12",
        },
    )
    StockLocation.objects.get_or_create(
        code=BUFFER,
        defaults={
            "name": "Buffertförråd Rehabenheten Malmö",
            "kind": LocationKind.BUFFER,
            "region_id": "12",
            "unit": Unit.objects.get(hsa_id="SE2321000255-DEMO01"),
        },
    )
    for name, low, high in (
        ("Malmö med omnejd", "10000", "23999"),
        ("Norra Skåne", "24000", "99999"),
    ):
        DeliveryArea.objects.get_or_create(
            name=name, defaults={"postal_from": low, "postal_to": high, "weekdays": [0, 1, 2, 3, 4]}
        )
    return central


def _stock(central: StockLocation) -> None:
    today = timezone.localdate()
    rollator = Article.objects.get(article_number=ROLLATOR)
    Article.objects.filter(pk=rollator.pk).update(
        serial_numbered=True, gtin="07350001234562", warranty_months=24, service_interval_months=12
    )
    rollator.refresh_from_db()
    for article_number, (physical, point, quantity) in STOCK.items():
        article = Article.objects.get(article_number=article_number)
        level = level_locked(article_id=article.pk, location_id=central.pk)
        level.reorder_point = point
        level.reorder_quantity = quantity
        level.save(update_fields=["reorder_point", "reorder_quantity"])
        level_change(level=level, physical=physical)
    for serial in ROLLATOR_SERIALS:
        device_register(
            article=rollator,
            serial_number=serial,
            location=central,
            received_on=today - timedelta(days=30),
            note="Mottagen från Gångbolaget AB (demo)",
        )
    level_change(
        level=level_locked(article_id=rollator.pk, location_id=central.pk),
        physical=len(ROLLATOR_SERIALS),
    )


def _grants(hugo: Any) -> None:
    """Hugo Audionom may prescribe mobility aids and holds grants for the protected patients."""
    profile = PrescriberProfile.objects.get(user=hugo)
    CompetenceRegistration.objects.get_or_create(
        prescriber=profile,
        competence_area=CompetenceArea.objects.get(code="movement_communication_pressure"),
        defaults={"trained_on": datetime.date(2025, 3, 1), "level": "basic"},
    )
    now = timezone.now()
    for number in (EVA, MARIA):
        patient = _patient(number)
        Grant.objects.get_or_create(
            user=hugo,
            patient=patient,
            defaults={"starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=60)},
        )
        assign_perm(PROTECTED_PERMISSION, hugo, patient)


def _move_on(order: CustomerOrder, central: StockLocation, logistics: Any, *, to: str) -> None:
    """Take an allocated order through the store as far as ``to`` (picked, packed,
    dispatched or delivered), through the services the pages call."""
    routed, _unrouted = orders_routed([order], next_working_day(timezone.localdate()))
    _area, day = routed[order.pk]
    waves_create(store_id=central.pk, delivery_on=day, by=logistics)
    for item in PickItem.objects.filter(line__order=order).select_related("line__article"):
        serial = ""
        if item.line.article.serial_numbered:
            serial = (
                Device.objects.filter(
                    article=item.line.article, status=DeviceStatus.IN_STOCK, location=central
                )
                .order_by("-serial_number")
                .values_list("serial_number", flat=True)
                .first()
                or ""
            )
        item_pick(wave_id=item.wave_id, item_id=item.pk, by=logistics, serial=serial)
    if to == "picked":
        return
    package = package_pack(order_id=order.pk, by=logistics)
    if to == "packed":
        return
    package_dispatch(package_id=package.pk, by=logistics)
    if to == "dispatched":
        return
    package_deliver(package_id=package.pk, received_by="Mottagen vid dörren", by=logistics)


def _delivered_with(order: CustomerOrder, logistics: Any, serial: str) -> None:
    """Pick an allocated rollator order (already on the day's wave) with this serial, pack,
    dispatch and deliver it: the README's walk keeps the highest serials for itself."""
    for item in PickItem.objects.filter(line__order=order):
        item_pick(wave_id=item.wave_id, item_id=item.pk, by=logistics, serial=serial)
    package = package_pack(order_id=order.pk, by=logistics)
    package_dispatch(package_id=package.pk, by=logistics)
    package_deliver(package_id=package.pk, received_by="Mottagen", by=logistics)
    if order.patient_protected:
        # The prescriber hands the device over at the unit: now the patient holds it.
        for device in Device.objects.filter(order_lines__order=order):
            device_move(
                device=device,
                to_state=DeviceStatus.ON_LOAN,
                note=f"Överlämnad av förskrivaren, order {order.number}",
                holder_kind=HolderKind.PATIENT,
                holder_unit=None,
                holder_patient_id=order.patient_id,
            )


def _recall(logistics: Any, petra: Any, *, karl_order: CustomerOrder) -> SafetyNotice:
    """DEVICE-2: the manufacturer's safety notice on the first three rollators, published: Maria
    Ek's (reached through Hugo Audionom, by order number only), Karl Lindqvist's (Petra has
    contacted him) and the one still in the store, blocked from delivery."""
    notice = notice_create(
        by=logistics,
        title="Rollator Gloss: bromsvajern kan lossna",
        manufacturer_reference="FSCA-2026-017",
        description=(
            "Tillverkaren har fått rapporter om att bromsvajern kan lossna från bromshandtaget. "
            "Kontrollera och byt vajerfästet på rollatorer i serienummerintervallet."
        ),
        action=NoticeAction.RETROFIT,
        articles=[NoticeArticleInput(ROLLATOR, RECALLED_SERIALS[0], RECALLED_SERIALS[-1])],
    )
    notice_publish(notice_id=notice.pk, by=logistics)
    karl = NoticeDevice.objects.get(notice=notice, order_number=karl_order.number)
    outreach_record(
        notice_id=notice.pk, row_id=karl.pk, step="contacted", by=petra, prescriber_only=True
    )
    return notice


# Rollators lent earlier (before the demo's store was set up), for the work orders below.
KARL_ROLLATOR = "GL-2025-0101"
EVA_ROLLATOR = "GL-2025-0102"
RECONDITION_ROLLATOR = "GL-2024-0050"


def _lent_earlier(serial: str, number: str, central: StockLocation) -> Device:
    """A rollator lent to the patient a year ago, moved through the device's states."""
    rollator = Article.objects.get(article_number=ROLLATOR)
    device = device_register(
        article=rollator,
        serial_number=serial,
        location=central,
        received_on=timezone.localdate() - timedelta(days=400),
        note="Mottagen från Gångbolaget AB (demo)",
    )
    device_move(device=device, to_state=DeviceStatus.ALLOCATED)
    device_move(
        device=device,
        to_state=DeviceStatus.IN_TRANSIT,
        location=None,
        holder_kind=HolderKind.STORE,
    )
    device_move(
        device=device,
        to_state=DeviceStatus.ON_LOAN,
        holder_kind=HolderKind.PATIENT,
        holder_patient=_patient(number),
    )
    return device


def _work_orders(central: StockLocation, petra: Any, hugo: Any) -> list[str]:
    """Work orders of every kind (issue 11): a fault report on Eva Holm's rollator, taken by
    customer service, which the technician reaches through the prescriber (PRESC-10); for Karl
    Lindqvist a service, an installation and a special adaptation; fitting support for Maria
    Ek; a reconditioning of a returned rollator. One repair is already started."""
    users = get_user_model().objects.in_bulk(
        ["customer_service", "technician"], field_name="username"
    )
    kim, tea = users["customer_service"], users["technician"]
    today = timezone.localdate()
    karl_rollator = _lent_earlier(KARL_ROLLATOR, KARL, central)
    eva_rollator = _lent_earlier(EVA_ROLLATOR, EVA, central)
    # Karl's rollator's yearly service fell due last week; Eva's falls due next week.
    Device.objects.filter(pk=karl_rollator.pk).update(next_service_on=today - timedelta(days=7))
    Device.objects.filter(pk=eva_rollator.pk).update(next_service_on=today + timedelta(days=7))
    karl_rollator.refresh_from_db()
    returned = device_register(
        article=Article.objects.get(article_number=ROLLATOR),
        serial_number=RECONDITION_ROLLATOR,
        location=central,
        received_on=today - timedelta(days=700),
        note="Återlämnad (demo)",
    )
    level_change(
        level=level_locked(article_id=returned.article_id, location_id=central.pk), physical=1
    )
    eva_repair = work_order_create(
        kind="repair",
        by=kim,
        device_id=eva_rollator.pk,
        prescriber=hugo,
        description="Vänster broms tar inte. Rollatorn går inte att använda.",
        caller_phone="070-123 45 67",
        source="fault_report",
    )
    karl_repair = work_order_create(
        kind="repair",
        by=petra,
        device_id=karl_rollator.pk,
        prescriber=petra,
        description="Korgen har lossnat.",
    )
    work_order_start(work_order_id=karl_repair.pk, by=tea)
    work_order_create(kind="service", by=petra, device_id=karl_rollator.pk, prescriber=petra)
    work_order_create(
        kind="installation",
        by=petra,
        patient_id=_patient(KARL).pk,
        prescriber=petra,
        description="Montera stödhandtag vid ytterdörren.",
    )
    work_order_create(
        kind="special_adaptation",
        by=petra,
        device_id=karl_rollator.pk,
        prescriber=petra,
        description="Förhöjda handtag, 8 cm.",
    )
    work_order_create(
        kind="fitting_support",
        by=hugo,
        patient_id=_patient(MARIA).pk,
        prescriber=hugo,
        description="Stöd vid utprovning av kryckor på enheten.",
    )
    work_order_create(
        kind="reconditioning",
        by=tea,
        device_id=returned.pk,
        description="Rengöring och kontroll efter återlämning.",
    )
    return [eva_repair.number, karl_repair.number]


def _lent(central: StockLocation, serial: str, number: str) -> Device:
    """A rollator lent out earlier (received, picked, out and handed over), as the register
    holds it after a delivery."""
    device = device_register(
        article=Article.objects.get(article_number=ROLLATOR),
        serial_number=serial,
        location=central,
        received_on=timezone.localdate() - timedelta(days=400),
    )
    device_move(device=device, to_state=DeviceStatus.ALLOCATED)
    device_move(device=device, to_state=DeviceStatus.IN_TRANSIT, location=None)
    device_move(
        device=device,
        to_state=DeviceStatus.ON_LOAN,
        holder_kind=HolderKind.PATIENT,
        holder_patient=_patient(number),
        note="Lent before the product (demo)",
    )
    return device


def _pickups(central: StockLocation, petra: Any, hugo: Any) -> tuple[str, str, str]:
    """PRESC-9, DEVICE-4, DEVICE-3: devices held by Karl Lindqvist and Eva Holm; a pickup
    order for each (hers at the prescriber's unit), one of his reported lost; the crutches'
    recirculation policy (at most 30 months old)."""
    karl, karl_lost = _lent(central, HELD_SERIALS[0], KARL), _lent(central, HELD_SERIALS[2], KARL)
    eva = _lent(central, HELD_SERIALS[1], EVA)
    _as_user(petra)
    karls = pickup_order_create(
        patient_id=karl.holder_patient_id or 0, device_ids=[karl.pk], channel="prescriber", by=petra
    )
    _as_user(hugo)
    evas = pickup_order_create(
        patient_id=eva.holder_patient_id or 0, device_ids=[eva.pk], channel="prescriber", by=hugo
    )
    case = loss_device_report(device_id=karl_lost.pk, unit_id=karls.unit_id, by=petra)
    crutches = Article.objects.filter(article_number="62155").first()
    if crutches is not None:
        RecirculationPolicy.objects.get_or_create(
            product_area=crutches.product_area, defaults={"max_age_months": 30}
        )
    return karls.number, evas.number, case.number


def _quality(central: StockLocation, maria: CustomerOrder, users: dict[str, Any]) -> str:
    """QUAL-1, QUAL-2 and PRESC-7 in the demo: Leo Logistik (no grant) reports Maria Ek's late
    delivery, naming her: it is saved without the person ("ej person") for Hugo Audionom to
    attach; a returned rollator is in the workshop, kept as evidence of an open incident raised
    by Tea Tekniker; Petra Arbetsterapeut has booked a consultation for Karl Lindqvist."""
    leo, tea, petra = users["logistics"], users["technician"], users["prescriber"]
    deviation = deviation_report(
        ctx=_ctx(leo),
        category=DeviationCategory.LATE_DELIVERY,
        description="Leveransen till enheten kom två dagar efter utlovad dag.",
        order_number=maria.number,
        patient_number=MARIA,
    ).deviation
    _as_user(leo)
    device = device_register(
        article=Article.objects.get(article_number=EVIDENCE_ARTICLE),
        serial_number=EVIDENCE_SERIAL,
        location=central,
        received_on=timezone.localdate() - timedelta(days=400),
        by=leo,
    )
    device_move(
        device=device, to_state=DeviceStatus.IN_WORKSHOP, by=tea, note="Inlämnad efter fall"
    )
    incident = incident_raise(
        by=tea,
        device_id=device.pk,
        occurred_on=timezone.localdate() - timedelta(days=2),
        description="Vänster broms släppte när rollatorn belastades i en nedförsbacke.",
    )
    _as_user(petra)
    karl = _patient(KARL).reference
    activity = consultation_activity_create(ctx=_ctx(petra), patient_reference=karl)
    consultation_activity_book(
        ctx=_ctx(petra),
        activity_id=activity.pk,
        details=BookingDetails(
            booked_for=timezone.now() + timedelta(days=3),
            place="Hjälpmedelscentralen Skåne, utprovningsrum 2",
            service="Utprovning av rollator",
            work_order_number="AO-2026-0001",
            phone="040-33 10 01",
            consultant="Konsulent Berg",
        ),
    )
    return (
        f"deviation {deviation.number} without the person (Maria Ek's order {maria.number}), "
        f"incident {incident.number} holding rollator {EVIDENCE_SERIAL} as evidence, "
        "a consultation booked for Karl Lindqvist"
    )


def demo_seed(*, shared_dir: Path, password: str) -> list[str]:
    """Idempotent: once the central store exists, nothing more is made."""
    del shared_dir, password
    users = get_user_model().objects.in_bulk(
        ["prescriber", "prescriber2", "logistics", "customer_service", "technician"],
        field_name="username",
    )
    if len(users) < 5 or not Article.objects.filter(article_number=ROLLATOR).exists():
        return ["logistics: the demo users or the catalogue are missing"]
    if StockLocation.objects.filter(code=CENTRAL).exists():
        return ["logistics: stores, stock and orders already in place"]
    with system_context():
        found = Patient.objects.filter(
            identity__personal_identity_number__in=[KARL, EVA, MARIA]
        ).count()
    if found < 3:
        return ["logistics: the demo register's patients are missing"]
    petra, hugo, leo = users["prescriber"], users["prescriber2"], users["logistics"]
    try:
        with transaction.atomic():
            central = _stores()
            _stock(central)
            _grants(hugo)
            # Karl Lindqvist: one delivered earlier, one out for delivery, one packed, one
            # picked, and the README's rollator allocated, waiting to be picked.
            stages = ("delivered", "dispatched", "packed", "picked")
            earlier = [_order(_approved(petra, KARL, "62155")) for _stage in stages]
            walk = _order(_approved(petra, KARL, ROLLATOR))
            # Protected identity: Eva Holm's rollator (urgent) and Maria Ek's crutches.
            eva = _order(_approved(hugo, EVA, ROLLATOR, urgent=True))
            maria = _order(_approved(hugo, MARIA, "62155"))
            # Direct delivery by the supplier (LOG-3): Karl Lindqvist's folding ramp.
            Article.objects.filter(article_number=DIRECT_RAMP).update(supplier_delivers=True)
            ramp = _order(_approved(petra, KARL, DIRECT_RAMP))
            # DEVICE-2: rollators lent earlier to Maria Ek and Karl Lindqvist, recalled below.
            recalled = [
                _order(_approved(hugo, MARIA, ROLLATOR)),
                _order(_approved(petra, KARL, ROLLATOR)),
            ]
            # Waiting for stock: more ramps than the store holds.
            _order(_approved(petra, KARL, "43001", "43001", "43001", "43001"))
            orders_allocate(by=leo)
            for order, stage in zip(earlier, stages, strict=True):
                _move_on(order, central, leo, to=stage)
            _move_on(maria, central, leo, to="packed")
            for order, serial in zip(recalled, RECALLED_SERIALS, strict=False):
                _delivered_with(order, leo, serial)
            notice = _recall(leo, petra, karl_order=recalled[1])
            work_numbers = _work_orders(central, petra, hugo)
            pickups = _pickups(central, petra, hugo)
            quality = _quality(central, maria, users)
            # PRESC-6: a special adaptation waiting for the prescriber's signature.
            adapted = adaptation_demo(prescriber=petra, patient_id=_patient(KARL).pk)
            consumables = _consumables(petra, users["customer_service"])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('hjm.user_id', '', false)")
    return [
        "logistics: central store and Rehabenheten Malmö's buffer store with stock, 8 rollators "
        f"(serials {ROLLATOR_SERIALS[0]}..), orders {walk.number} (Karl Lindqvist's rollator, to "
        f"pick), {eva.number} and {maria.number} (protected identity, to the unit) and orders in "
        f"every state; {ramp.number} (Karl Lindqvist's ramp) with its supplier for direct "
        f"delivery; {Package.objects.count()} packages; work orders of every kind, among them "
        f"{work_numbers[0]} (a fault report on Eva Holm's rollator {EVA_ROLLATOR}, contact "
        f"through the prescriber) and {work_numbers[1]} (Karl Lindqvist's repair, started); "
        f"safety notice {notice.number} on the rollators {RECALLED_SERIALS[0]}.."
        f"{RECALLED_SERIALS[-1]} (Maria Ek's, Karl Lindqvist's and one in the store)",
        f"logistics: pickup orders {pickups[0]} (Karl Lindqvist's rollator {HELD_SERIALS[0]}) and "
        f"{pickups[1]} (Eva Holm, at the unit); {HELD_SERIALS[2]} reported lost, loss case "
        f"{pickups[2]}",
        f"logistics: {quality}",
        f"logistics: {adapted.number if adapted else 'no'} work order awaiting the "
        "adaptation's signature",
        f"logistics: {consumables}",
    ]


def _consumables(petra: Any, kim: Any) -> str:
    """Consumables (issue 14): Karl Lindqvist's blood glucose test strips, four packs a month,
    written by Petra; one withdrawal taken by Kim in customer service, ordered and in the
    store's queue. The next withdrawal waits 25 days (the diabetes area's time lock)."""
    strips = Article.objects.select_related("product_area").get(article_number="51001")
    ProductArea.objects.filter(pk=strips.product_area_id).update(withdrawal_interval_days=25)
    _as_user(petra)
    today = timezone.localdate()
    consumable = consumable_prescription_create(
        ctx=_ctx(petra),
        patient_reference=_patient(KARL).reference,
        article_id=strips.pk,
        quantity_per_period=4,
        period_months=1,
        valid_from=today - timedelta(days=10),
        valid_to=today + timedelta(days=355),
        need="Typ 1-diabetes: blodsockermätning fyra gånger om dagen.",
    )
    _as_user(kim)
    withdrawal = consumable_withdrawal_create(
        ctx=_ctx(kim), reference=consumable.reference, quantity=2
    )
    order = _order(withdrawal.order)
    return (
        f"consumable prescription {consumable.reference} (Karl Lindqvist's test strips, 4 a "
        f"month) with a withdrawal of 2, order {order.number}"
    )

"""The leak crawl's logistics world (tests/test_crawl.py): the goods of a protected patient and
of an ordinary one in every state the store's pages list, made through the floor's own services
as the store would: an approved prescription becomes a customer order, allocated, on a pick
wave (its pick list asked for), picked with a serial-numbered rollator tied to each line,
packed (label and delivery note rendered by the document pipeline), dispatched on the route,
delivered or failed; a reservation of a draft and a replenishment of a unit's buffer store.

The protected patient's orders are prescribed by the crawl's grant holder, who is never
crawled; the ordinary patient's by the demo ``prescriber``, who prescribes for him in the demo
too. The papers are asked for by the demo ``logistics`` user, so that the crawl, logged in as
that user, downloads them. No crawled role gets a grant here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from logistics.calendar import next_working_day
from logistics.documents import DELIVERY_NOTE_KIND, PACKAGE_LABEL_KIND
from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DeliveryArea,
    Device,
    DeviceStatus,
    FailureReason,
    HolderKind,
    LocationKind,
    LossCase,
    Package,
    PickItem,
    PickItemState,
    PickWave,
    Reservation,
    ReservationState,
    StockLocation,
    WorkOrderKind,
)
from logistics.services.adaptations import signing_request_send, signing_request_sign
from logistics.services.delivery import (
    package_deliver,
    package_dispatch,
    package_fail,
    package_pack,
)
from logistics.services.losses import loss_case_decide
from logistics.services.orders import order_create_from_release, orders_allocate
from logistics.services.papers import package_paper_request, pick_list_request
from logistics.services.picking import item_pick, orders_routed, waves_create
from logistics.services.pickups import pickup_line_collect, pickup_line_missing, pickup_order_create
from logistics.services.replenishment import replenishment_order
from logistics.services.state import device_move
from logistics.services.workorders import (
    work_order_create,
    work_order_reject,
    work_order_start,
)
from patients.models import Patient, StaffProfile
from prescriptions.models import Article, PrescriberProfile
from protection.documents.services import document_job_render
from protection.models import DocumentJob
from protection.services.contact import contact_agreement_record
from tests.logistics.factories import DeviceFactory, StockLocationFactory
from tests.logistics.picking_setup import stocked
from tests.personas import ctx_for
from tests.prescriptions.conftest import article
from tests.prescriptions.drafting import draft_with, pdf_bytes, submit
from tests.prescriptions.factories import CompetenceAreaFactory, PrescriberProfileFactory

# How far each order of a patient goes: one order per stage, so that every list page of the
# store (waves, to pack, routes, deliveries, failed) holds both patients' goods.
STAGES = ("delivered", "failed", "dispatched", "packed", "picked", "picking")
ORDINARY_NUMBER = "194201077098"  # Karl Gustav Lindqvist in the sample register file


@dataclass
class LogisticsWorld:
    orders: dict[str, CustomerOrder] = field(default_factory=dict)
    protected_orders: dict[str, CustomerOrder] = field(default_factory=dict)
    wave: PickWave | None = None
    # The protected patient's goods papers and the wave's pick list, rendered, as the logistics
    # user asked for them: kind -> job.
    protected_papers: dict[str, DocumentJob] = field(default_factory=dict)
    route_days: set[datetime.date] = field(default_factory=set)
    missed_month: str = ""

    def all_orders(self) -> list[CustomerOrder]:
        return [*self.protected_orders.values(), *self.orders.values()]

    def crawled_numbers(self) -> list[str]:
        """The orders whose pages the crawl opens: the protected patient's delivered, failed
        and still picked (its promise missed), the ordinary patient's delivered and failed."""
        protected = [self.protected_orders[s] for s in ("delivered", "failed", "picking")]
        ordinary = [self.orders[s] for s in ("delivered", "failed")]
        return [order.number for order in (*protected, *ordinary)]


def _patient(number: str) -> Patient:
    return Patient.objects.get(identity__personal_identity_number=number)


def _prescriber(user: Any) -> None:
    """A prescriber of mobility aids, as the prescriptions floor's demo makes the demo
    prescribers (an ordering right and training; no grant)."""
    if not PrescriberProfile.objects.filter(user=user).exists():
        PrescriberProfileFactory(user=user, competences=[CompetenceAreaFactory()])


def _order(user: Any, patient: Patient, *articles: Article, stepped_up: bool) -> CustomerOrder:
    prescription = submit(
        user, draft_with(user, patient, *articles, stepped_up=stepped_up), stepped_up=stepped_up
    )
    order = order_create_from_release(prescription_id=prescription.pk)
    assert order is not None, prescription.state
    return order


def _serial_for(line: CustomerOrderLine, store: StockLocation) -> str:
    """A device of the line's article received into the store now, its serial scanned."""
    return str(DeviceFactory(article=line.article, location=store).serial_number)


def logistics_world(*, holder: Any, protected_number: str) -> LogisticsWorld:
    """Build the world (see the module docstring); ``holder`` holds the grant for the protected
    patient and is stepped up when prescribing for her."""
    users = get_user_model().objects.in_bulk(["prescriber", "logistics"], field_name="username")
    petra, leo = users["prescriber"], users["logistics"]
    world = LogisticsWorld()
    today = timezone.localdate()
    central = StockLocationFactory(code="central", region_id="12")
    # One route serving every postal code every day, so that all the goods share one wave.
    DeliveryArea.objects.create(
        name="Hela Skåne", postal_from="00000", postal_to="99999", weekdays=list(range(7))
    )
    rollator = article(serial_numbered=True, gtin="07340000000017")
    pads = article("120")
    stocked(rollator, central, 2 * len(STAGES))
    stocked(pads, central, 20)
    _prescriber(holder)
    _prescriber(petra)
    protected, ordinary = _patient(protected_number), _patient(ORDINARY_NUMBER)
    for stage in STAGES:
        world.protected_orders[stage] = _order(holder, protected, rollator, stepped_up=True)
        world.orders[stage] = _order(petra, ordinary, rollator, stepped_up=False)
    # LOG-1: drafts never submitted hold reservations in the central store.
    draft_with(holder, protected, pads, stepped_up=True)
    draft_with(petra, ordinary, pads)
    assert (
        Reservation.objects.filter(
            state=ReservationState.ACTIVE, prescription_line__isnull=False
        ).count()
        == 2
    ), list(Reservation.objects.values("state", "prescription_line", "order_line"))
    # LOG-2: the demo prescriber's unit orders replenishment of its buffer store.
    unit = StaffProfile.objects.get(user=petra).unit
    StockLocationFactory(
        code="buffer-crawl",
        name="Buffertförråd",
        kind=LocationKind.BUFFER,
        region_id="12",
        unit=unit,
    )
    replenishment = replenishment_order(
        user=petra, location_code="buffer-crawl", lines=[(pads.article_number, 2)]
    )
    orders_allocate(order_ids=[replenishment.pk])
    everything = [*world.protected_orders.values(), *world.orders.values(), replenishment]
    ready_on = next_working_day(today)
    routed, unrouted = orders_routed(everything, ready_on)
    assert not unrouted, unrouted
    day = routed[everything[0].pk][1]
    plan = waves_create(store_id=central.pk, delivery_on=day, by=leo)
    assert len(plan.waves) == 1, plan
    world.wave = plan.waves[0]
    world.route_days.add(day)
    for orders in (world.protected_orders, world.orders):
        for stage, order in orders.items():
            _move_on(world, order, stage, central, leo, day)
    # KPI-1: the protected patient's order still on the wave has missed its promise, so the
    # report's list of missed lines holds it (the promise moved back, as time would have).
    missed_on = max(today.replace(day=1), today - datetime.timedelta(days=1))
    CustomerOrderLine.objects.filter(order=world.protected_orders["picking"]).update(
        promised_on=missed_on
    )
    world.missed_month = f"{missed_on.year:04d}-{missed_on.month:02d}"
    _papers(world, leo)
    # LOG-3: the ordinary patient's order of an article its supplier delivers, so that the
    # direct delivery's pages are crawled with a real one (a protected patient's never exists).
    _order(petra, ordinary, article("950", supplier_delivers=True), stepped_up=False)
    _work_orders(world, holder, petra)
    _pickups(holder=holder, petra=petra, leo=leo, patients=(protected, ordinary), store=central)
    _adaptations(holder, petra, protected, ordinary, rollator, central)
    return world


# LEAK-5: the contact agreement carries a word of the protected patient's address, which the
# crawl looks for: no crawled role may ever read it.
AGREED_TIMES = "Efter 17, inte vid Hamngatan"


def _work_orders(world: LogisticsWorld, holder: Any, petra: Any) -> None:
    """Work orders (PRESC-10) on the delivered rollators: a fault report with the caller's
    number for the protected patient (and her contact agreement, by the grant holder), a
    started repair and a returned one for the ordinary patient, so that the queue, the work
    order pages and the returned list are crawled with real ones."""
    kim = get_user_model().objects.get(username="customer_service")
    tea = get_user_model().objects.get(username="technician")
    device = CustomerOrderLine.objects.get(order=world.protected_orders["delivered"]).device
    ordinary_device = CustomerOrderLine.objects.get(order=world.orders["delivered"]).device
    assert device is not None
    assert ordinary_device is not None
    # Her goods went to the prescriber's unit (PRESC-2); the work order names her all the same.
    protected = world.protected_orders["delivered"].patient
    assert protected is not None
    contact_agreement_record(
        ctx=ctx_for(holder, stepped_up=True),
        patient_reference=protected.reference,
        via_prescriber=False,
        phone="0701234567",
        times=AGREED_TIMES,
    )
    work_order_create(
        kind="repair",
        by=kim,
        device_id=device.pk,
        patient_id=protected.pk,
        description="Bromsen tar inte",
        caller_phone="0701234567",
        source="fault_report",
    )
    started = work_order_create(kind="repair", by=petra, device_id=ordinary_device.pk)
    work_order_start(work_order_id=started.pk, by=tea)
    returned = work_order_create(
        kind="installation", by=petra, patient_id=world.orders["delivered"].patient_id
    )
    work_order_reject(work_order_id=returned.pk, reason="Vilken adress?", by=tea)


@transaction.atomic
def _on_loan(device: Device, patient: Patient) -> None:
    """The device handed over to the patient (a protected patient's waits at the unit until the
    prescriber hands it over; the crawl does it as the prescriber would). In a transaction of
    its own, as a service would be: the browser walk builds the world outside a test's one."""
    if device.status == DeviceStatus.IN_STOCK:
        device_move(device=device, to_state=DeviceStatus.ALLOCATED)
        device_move(device=device, to_state=DeviceStatus.IN_TRANSIT, location=None)
    device_move(
        device=device,
        to_state=DeviceStatus.ON_LOAN,
        holder_kind=HolderKind.PATIENT,
        holder_patient=patient,
        holder_unit=None,
        location=None,
    )


def _pickups(
    *, holder: Any, petra: Any, leo: Any, patients: tuple[Patient, Patient], store: StockLocation
) -> None:
    """PRESC-9, DEVICE-3, DEVICE-4: a pickup order waiting for each patient (the protected
    one's at the unit), a device collected into the workshop, and one missing at pickup whose
    loss case is decided."""
    protected, ordinary = patients
    for patient, prescriber in ((protected, holder), (ordinary, petra)):
        held = Device.objects.filter(
            order_lines__order__patient=patient,
            status__in=[DeviceStatus.AT_UNIT, DeviceStatus.ON_LOAN],
        ).first()
        assert held is not None, patient.pk
        if held.status == DeviceStatus.AT_UNIT:
            _on_loan(held, patient)
        pickup_order_create(
            patient_id=patient.pk, device_ids=[held.pk], channel="prescriber", by=prescriber
        )
    rollator = Device.objects.filter(order_lines__order__patient=ordinary).first()
    assert rollator is not None
    collected, missing = (DeviceFactory(article=rollator.article, location=store) for _ in range(2))
    for device in (collected, missing):
        _on_loan(device, ordinary)
    # No order lent these: customer service names the prescriber's unit; the demo prescriber.
    order = pickup_order_create(
        patient_id=ordinary.pk,
        device_ids=[collected.pk, missing.pk],
        channel="prescriber",
        by=petra,
    )
    first, second = order.lines.order_by("pk")
    pickup_line_collect(line_id=first.pk, by=leo)
    pickup_line_missing(line_id=second.pk, by=leo)
    case = LossCase.objects.get(pickup_line=second)
    loss_case_decide(case_id=case.pk, by=leo)


def _adaptations(
    holder: Any, petra: Any, protected: Patient, ordinary: Patient, rollator: Article, store: Any
) -> None:
    """PRESC-6: a signing request to the grant holder for the protected patient's adapted
    device (never crawled as its prescriber: every crawled role meets a 404, a refusal or the
    work order number only), and the ordinary patient's adaptation signed by ``prescriber``, so
    that the device card and the document pages are crawled with a real record."""
    technician = get_user_model().objects.get(username="technician")
    for prescriber, patient in ((holder, protected), (petra, ordinary)):
        device = DeviceFactory(article=rollator, location=store)
        work_order = work_order_create(
            kind=WorkOrderKind.SPECIAL_ADAPTATION,
            by=technician,
            device_id=device.pk,
            patient_id=patient.pk,
            prescriber=prescriber,
            technician=technician,
        )
        request = signing_request_send(
            work_order_id=work_order.pk, document=pdf_bytes(), valid_until=None, by=technician
        )
    signing_request_sign(
        ctx=ctx_for(petra, stepped_up=True),
        request_id=request.pk,
        risks=["stability"],
        conclusion="safe",
    )


def _move_on(
    world: LogisticsWorld,
    order: CustomerOrder,
    stage: str,
    store: StockLocation,
    by: Any,
    day: datetime.date,
) -> None:
    if stage == "picking":
        return
    wave = world.wave
    assert wave is not None
    for item in PickItem.objects.filter(
        wave=wave, line__order=order, state=PickItemState.TO_PICK
    ).select_related("line__article"):
        item_pick(wave_id=wave.pk, item_id=item.pk, by=by, serial=_serial_for(item.line, store))
    if stage == "picked":
        return
    package = package_pack(order_id=order.pk, by=by, today=day)
    world.route_days.add(package.delivery_on)
    if stage == "packed":
        return
    package_dispatch(package_id=package.pk, by=by)
    if stage == "delivered":
        package_deliver(package_id=package.pk, received_by="Mottagen i receptionen", by=by)
    elif stage == "failed":
        failed = package_fail(
            package_id=package.pk, reason=FailureReason.OTHER, note="Stängt vid leverans", by=by
        )
        world.route_days.add(failed.delivery_on)


def _papers(world: LogisticsWorld, leo: Any) -> None:
    """The logistics user asks for the wave's pick list and the packed packages' labels and
    delivery notes; the worker renders them (PRINT-1: the protected patient's identity-free)."""
    assert world.wave is not None
    ctx = ctx_for(leo)
    jobs = {"pick_list": pick_list_request(ctx=ctx, wave=world.wave)}
    for owner, order in (
        ("", world.protected_orders["packed"]),
        ("ordinary-", world.orders["packed"]),
    ):
        package = Package.objects.get(order=order)
        for name, kind in (("label", PACKAGE_LABEL_KIND), ("note", DELIVERY_NOTE_KIND)):
            jobs[owner + name] = package_paper_request(ctx=ctx, package=package, kind=kind)
    for job in jobs.values():
        assert document_job_render(job_id=job.pk) == "ready", job.pk
    world.protected_papers = {k: v for k, v in jobs.items() if not k.startswith("ordinary")}


def quality_world(*, holder: Any, protected_number: str) -> None:
    """QUAL-1, QUAL-2 for the crawl: a deviation the grant holder reported on the protected
    patient (attached to her: the handlers' list masks her), and one reported without the
    person by a user who may not see her; an open incident on a device that went out on her
    order (its page and report name no patient)."""
    from django.contrib.auth import get_user_model

    from logistics.models import Device
    from logistics.services.quality import deviation_report, incident_raise

    # Reported by the demo's logistics user, who may not see her: saved without the person.
    leo = get_user_model().objects.get(username="logistics")
    deviation_report(
        ctx=ctx_for(leo),
        category="late_delivery",
        description="Leveransen till enheten kom två dagar efter utlovad dag.",
        patient_number=protected_number,
    )

    deviation_report(
        ctx=ctx_for(holder, stepped_up=True),
        category="damaged_delivery",
        description="Kryckan kom med ett skadat handtag.",
        order_number="",
        patient_number=protected_number,
    )
    device = (
        Device.objects.filter(order_lines__order__patient=_patient(protected_number))
        .order_by("pk")
        .first()
    )
    assert device is not None, "no device went out on the crawl's protected patient's orders"
    incident_raise(
        by=holder,
        device_id=device.pk,
        occurred_on=timezone.localdate(),
        description="Handtaget lossnade vid användning.",
    )

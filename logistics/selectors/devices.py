"""Reads of the device register (DEVICE-1): the search, the device card (*individkort*) and the
devices a patient holds (the patient page's section).

LEAK-5, ACCESS-1: a device held by a patient names that patient only to a user the database
shows the identity to (``hjm_identity_visible``, as ``prescription_list_for_user``), and then
through the gate, which logs the read (AUDIT-1). Anyone else (logistics staff and technicians
hold no grants) reads "a patient, contact through the prescriber's unit", with the unit and the
prescriber of the order the device went out on, and not even the internal reference.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, Field, Model, OuterRef, QuerySet, Subquery, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Collate, JSONObject

from logistics.models import (
    AdaptationRecord,
    CustomerOrder,
    CustomerOrderLine,
    Device,
    DeviceEvent,
    DeviceStatus,
    HolderKind,
    Incident,
    IncidentState,
    LossCase,
    NoticeDevice,
    NoticeState,
    PickupLine,
    PickupOrder,
    ReconditioningDecision,
    SafetyNotice,
    WorkOrder,
    WorkOrderState,
)
from patients.models import Unit
from patients.prepared import PreparedQuery
from patients.presenters import PatientCard
from prescriptions.models import PrescribingUnit
from protection.gate import AccessContext, Decision, patient_read_for_user

PAGE_SIZE: Final = 25
# Byte order: the one the serial index keeps (``device_serial_c_idx``), whatever the
# database's own collation, so that a prefix search reads the index in order and stops.
SERIAL_ORDER: Final = "C"


def _serial_c() -> Collate:
    return Collate("serial_number", SERIAL_ORDER)


@dataclass(frozen=True)
class DevicePage:
    rows: list[Device]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def device_search(*, serial: str = "", article_number: str = "", page: int = 1) -> DevicePage:
    """Devices by serial number (the exact number or its beginning; the exact one first, as
    the byte order puts it first) and/or article number, a page at a time. One query: one row
    more than a page tells whether there is a next page, without counting 600 000 rows. No
    holder is named here: the list says "a patient", a unit's name or a store's."""
    serial = serial.strip()
    article_number = article_number.strip()
    page = max(page, 1)
    if not serial and not article_number:
        return DevicePage(rows=[], page=1, has_next=False)
    rows = Device.objects.select_related("article", "location", "holder_unit")
    if serial:
        rows = rows.alias(serial_c=_serial_c()).filter(**{"serial_c__startswith": serial})
    if article_number:
        rows = rows.filter(article__article_number=article_number)
    if serial:
        rows = rows.order_by(_serial_c().asc(), "article_id")
    else:
        rows = rows.order_by("article_id", "serial_number")
    start = (page - 1) * PAGE_SIZE
    found = list(rows[start : start + PAGE_SIZE + 1])
    return DevicePage(rows=found[:PAGE_SIZE], page=page, has_next=len(found) > PAGE_SIZE)


class HolderShown(enum.Enum):
    STORE = "store"
    UNIT = "unit"
    # The gate's full card: name and identity number.
    PATIENT = "patient"
    # A grant holder who has not confirmed the password (ACCESS-4): the contact, and the way
    # to confirm it.
    PATIENT_STEP_UP = "patient_step_up"
    # Anyone else: the contact through the prescriber's unit only (LEAK-5).
    PATIENT_CONTACT = "patient_contact"


@dataclass(frozen=True)
class DeviceHolder:
    shown: HolderShown
    # The store's or the unit's name.
    place: str = ""
    card: PatientCard | None = None
    # Whom to contact about a patient's device: the order's unit and prescriber.
    contact_unit: str = ""
    contact_prescriber: str = ""


@dataclass(frozen=True)
class DeviceCard:
    device: Device
    holder: DeviceHolder
    events: list[DeviceEvent]
    # The order lines the device went out on, the latest first.
    lines: list[CustomerOrderLine]
    # PRESC-6: the signed adaptations filed with the device, the latest first.
    adaptations: list[AdaptationRecord]
    # Issue 11 (DEVICE-3, DEVICE-4): its pickup lines, loss cases and reconditioning
    # decisions, and its work orders, each the latest first.
    pickup_lines: list[PickupLine]
    loss_cases: list[LossCase]
    reconditionings: list[ReconditioningDecision]
    work_orders: list[WorkOrder]


M = TypeVar("M", bound=Model)


def _rows(queryset: QuerySet[Any], **fields: Any) -> ArraySubquery:
    """The device's rows of another table as one array of JSON objects, read inside the card's
    own query: the card's lists cost no query of their own, whatever the device went through."""
    return ArraySubquery(queryset.filter(device_id=OuterRef("pk")).values(row=JSONObject(**fields)))


def _built(model: type[M], row: dict[str, Any]) -> M:
    """An unsaved instance with the row's fields (converted from JSON as the fields convert
    form input), for the template's ``get_..._display`` and related names."""
    values = {}
    for name, value in row.items():
        field = model._meta.get_field(name)
        assert isinstance(field, Field), name  # the rows name concrete fields only
        values[name] = field.to_python(value)
    return model(**values)


_PERSON_FIELDS: Final = ("username", "first_name", "last_name")


def _user(pk: int | None, row: dict[str, Any], prefix: str) -> Any:
    """The user the row names by ``<prefix>_username`` etc.: their name for the template and
    ``_person``, no query."""
    names = {name: row.pop(f"{prefix}_{name}") for name in _PERSON_FIELDS}
    return None if pk is None else get_user_model()(pk=pk, **names)


def _pickup_line(row: dict[str, Any]) -> PickupLine:
    number = row.pop("order_number")
    line = _built(PickupLine, row)
    line.order = PickupOrder(pk=line.order_id, number=number)
    return line


def _adaptation(row: dict[str, Any]) -> AdaptationRecord:
    number = row.pop("work_order_number")
    signed_by = _user(row["signed_by_id"], row, "signed_by")
    record = _built(AdaptationRecord, row)
    record.work_order = WorkOrder(pk=record.work_order_id, number=number)
    record.signed_by = signed_by
    return record


def _order_line(row: dict[str, Any]) -> CustomerOrderLine:
    order = {name: row.pop(f"order_{name}") for name in ("number", "patient_id", "unit_id")}
    unit_name = row.pop("order_unit_name")
    orderer_id = row.pop("order_orderer_id")
    orderer = _user(orderer_id, row, "orderer")
    line = _built(CustomerOrderLine, row)
    line.order = CustomerOrder(pk=line.order_id, orderer_id=orderer_id, **order)
    # What ``_holder`` names as the contact: the order's unit and prescriber (LEAK-5).
    line.order.unit = PrescribingUnit(unit=Unit(pk=order["unit_id"], name=unit_name))
    line.order.orderer = orderer
    return line


def _event(row: dict[str, Any]) -> DeviceEvent:
    by = _user(row["by_id"], row, "by")
    event = _built(DeviceEvent, row)
    if by is not None:
        event.by = by
    return event


def _lists(device: Device) -> dict[str, list[Any]]:
    """The card's lists out of the device's JSON annotations (see ``_list_annotations``)."""
    return {
        "lines": [_order_line(row) for row in device.line_rows],  # type: ignore[attr-defined]
        "events": [_event(row) for row in device.event_rows],  # type: ignore[attr-defined]
        "pickup_lines": [_pickup_line(row) for row in device.pickup_rows],  # type: ignore[attr-defined]
        "loss_cases": [_built(LossCase, row) for row in device.loss_rows],  # type: ignore[attr-defined]
        "reconditionings": [
            _built(ReconditioningDecision, row)
            for row in device.reconditioning_rows  # type: ignore[attr-defined]
        ],
        "adaptations": [_adaptation(row) for row in device.adaptation_rows],  # type: ignore[attr-defined]
        "work_orders": [_built(WorkOrder, row) for row in device.work_order_rows],  # type: ignore[attr-defined]
    }


def _list_annotations() -> dict[str, ArraySubquery]:
    return {
        # The order lines it went out on, the latest first, with what the card and the holder's
        # contact name of the order (its number, patient, unit and prescriber).
        "line_rows": _rows(
            CustomerOrderLine.objects.order_by("-pk"),
            id="pk",
            order_id="order_id",
            position="position",
            state="state",
            delivered_on="delivered_on",
            order_number="order__number",
            order_patient_id="order__patient_id",
            order_unit_id="order__unit_id",
            order_unit_name="order__unit__unit__name",
            order_orderer_id="order__orderer_id",
            orderer_username="order__orderer__username",
            orderer_first_name="order__orderer__first_name",
            orderer_last_name="order__orderer__last_name",
        ),
        # Its history, the oldest first, with who made each change.
        "event_rows": _rows(
            DeviceEvent.objects.order_by("at", "pk"),
            id="pk",
            at="at",
            from_state="from_state",
            to_state="to_state",
            note="note",
            by_id="by_id",
            by_username="by__username",
            by_first_name="by__first_name",
            by_last_name="by__last_name",
        ),
        "pickup_rows": _rows(
            PickupLine.objects.order_by("-pk"),
            id="pk",
            order_id="order_id",
            order_number="order__number",
            state="state",
            rent_stops_on="rent_stops_on",
            rent_restarted_on="rent_restarted_on",
        ),
        "loss_rows": _rows(
            LossCase.objects.order_by("-pk"),
            id="pk",
            number="number",
            state="state",
            # As text: a JSON number would come back a float, not the exact amount.
            debit_sek=Cast("debit_sek", output_field=TextField()),
        ),
        "reconditioning_rows": _rows(
            ReconditioningDecision.objects.order_by("-decided_at", "-pk"),
            id="pk",
            outcome="outcome",
            reason="reason",
            decided_at="decided_at",
        ),
        "adaptation_rows": _rows(
            AdaptationRecord.objects.order_by("-recorded_at", "-pk"),
            id="pk",
            work_order_id="work_order_id",
            work_order_number="work_order__number",
            method="method",
            signed_on="signed_on",
            signed_by_id="signed_by_id",
            signed_by_username="signed_by__username",
            signed_by_first_name="signed_by__first_name",
            signed_by_last_name="signed_by__last_name",
            conclusion="conclusion",
            document_content_type="document_content_type",
        ),
        "work_order_rows": _rows(
            WorkOrder.objects.order_by("-created_at", "-pk"),
            id="pk",
            number="number",
            kind="kind",
            state="state",
            due_on="due_on",
            author_id="author_id",
            prescriber_id="prescriber_id",
        ),
    }


def _person(user: object) -> str:
    if user is None:
        return ""
    full_name = getattr(user, "get_full_name", lambda: "")()
    return str(full_name or getattr(user, "get_username", lambda: "")())


def _holder(ctx: AccessContext, device: Device, lines: list[CustomerOrderLine]) -> DeviceHolder:
    if device.holder_kind == HolderKind.UNIT and device.holder_unit is not None:
        return DeviceHolder(shown=HolderShown.UNIT, place=device.holder_unit.name)
    if device.holder_kind != HolderKind.PATIENT or device.holder_patient_id is None:
        place = device.location.name if device.location is not None else ""
        return DeviceHolder(shown=HolderShown.STORE, place=place)
    latest = next(
        (line for line in lines if line.order.patient_id == device.holder_patient_id), None
    )
    unit = latest.order.unit.unit.name if latest else ""
    prescriber = _person(latest.order.orderer) if latest else ""
    # The database's answer decides whether the gate is asked at all: a patient it hides is
    # not read, so nothing of them reaches this page (and there is nothing to log).
    if not getattr(device, "patient_visible", False):
        return DeviceHolder(
            shown=HolderShown.PATIENT_CONTACT, contact_unit=unit, contact_prescriber=prescriber
        )
    assert device.holder_patient is not None
    # Logs the read (AUDIT-1). The holder came with the device, read as the user.
    answer = patient_read_for_user(ctx, device.holder_patient)
    if answer.decision is Decision.FULL:
        return DeviceHolder(
            shown=HolderShown.PATIENT,
            card=answer.card,
            contact_unit=unit,
            contact_prescriber=prescriber,
        )
    if answer.decision is Decision.STEP_UP:
        return DeviceHolder(
            shown=HolderShown.PATIENT_STEP_UP, contact_unit=unit, contact_prescriber=prescriber
        )
    return DeviceHolder(
        shown=HolderShown.PATIENT_CONTACT, contact_unit=unit, contact_prescriber=prescriber
    )


def _card_device(device_id: int) -> QuerySet[Device]:
    return (
        Device.objects.select_related(
            "article",
            "owner_region",
            "location",
            "holder_unit",
            "holder_patient__home_region",
            "holder_patient__identity",
        )
        .annotate(
            patient_visible=RawSQL("hjm_identity_visible(logistics_device.holder_patient_id)", []),
            # QUAL-2: the open incident keeping the device as evidence, in the same query.
            open_incident_id=Subquery(
                Incident.objects.filter(device_id=OuterRef("pk"), state=IncidentState.OPEN).values(
                    "pk"
                )[:1]
            ),
            **_list_annotations(),
        )
        .filter(pk=device_id)
    )


# Compiled once per process: only the device's id changes between two cards.
_CARD_DEVICE: Final = PreparedQuery(_card_device)


def device_card_for_user(*, ctx: AccessContext, device_id: int) -> DeviceCard:
    """The device card: the device with its article, region and places, its open incident, its
    order lines (order, unit, prescriber), its history (who by name), its signed adaptations,
    pickups, loss cases, reconditionings and work orders in one query, compiled once per
    process (``PreparedQuery``), and the holder (the gate's reads, only for a patient shown).
    Raises ``Device.DoesNotExist``."""
    found = _CARD_DEVICE.rows(device_id)
    if not found:
        raise Device.DoesNotExist
    device = found[0]
    lists = _lists(device)
    return DeviceCard(
        device=device,
        holder=_holder(ctx, device, lists["lines"]),
        **lists,
    )


@dataclass(frozen=True)
class HeldDevice:
    device_id: int
    serial_number: str
    article_number: str
    article_name: str
    status_label: str
    # When the patient got it: the latest move to "lent to the patient" in the history.
    since: datetime.datetime | None
    next_service_on: datetime.date | None
    # Lent to the patient now: what a pickup order may name (PRESC-9; not a lost one, DEVICE-4).
    on_loan: bool = False
    # Issue 11: its open work orders and the published safety notices naming it (DEVICE-5).
    work_orders: tuple[WorkOrder, ...] = ()
    notices: tuple[NoticeDevice, ...] = ()


def _notice_device(row: dict[str, Any]) -> NoticeDevice:
    number, action = row.pop("notice_number"), row.pop("notice_action")
    outreach = _built(NoticeDevice, row)
    outreach.notice = SafetyNotice(pk=outreach.notice_id, number=number, action=action)
    return outreach


def _delivered_at() -> Subquery:
    return Subquery(
        DeviceEvent.objects.filter(device_id=OuterRef("pk"), to_state=DeviceStatus.ON_LOAN)
        .exclude(from_state=F("to_state"))
        .order_by("-at", "-pk")
        .values("at")[:1]
    )


CLOSED_WORK_ORDER_STATES: Final = (WorkOrderState.DONE, WorkOrderState.CANCELLED)


def devices_of_patient(patient_id: int) -> QuerySet[Device]:
    """The devices a patient holds (not scrapped): what :func:`devices_held_by_patient` lists,
    and what the patient page asks the existence of before it reads them."""
    return Device.objects.filter(
        holder_kind=HolderKind.PATIENT, holder_patient_id=patient_id
    ).exclude(status=DeviceStatus.SCRAPPED)


def devices_held_by_patient(patient_id: int) -> list[HeldDevice]:
    """The devices a patient holds, for the patient page (shown only on the full card), with
    their open work orders and the published safety notices naming them. One query (the
    patient's index; the history's date and the lists as subqueries per device)."""
    rows: QuerySet[Device] = (
        devices_of_patient(patient_id)
        .select_related("article")
        .annotate(
            since=_delivered_at(),
            # Issue 11: read within this query, so that the section's queries do not grow
            # with the patient's devices.
            work_order_rows=_rows(
                WorkOrder.objects.exclude(state__in=CLOSED_WORK_ORDER_STATES).order_by(
                    "due_on", "pk"
                ),
                id="pk",
                number="number",
                kind="kind",
                state="state",
                due_on="due_on",
                author_id="author_id",
                prescriber_id="prescriber_id",
            ),
            notice_rows=_rows(
                NoticeDevice.objects.filter(notice__state=NoticeState.PUBLISHED).order_by("pk"),
                id="pk",
                notice_id="notice_id",
                notice_number="notice__number",
                notice_action="notice__action",
                state="state",
            ),
        )
        .order_by("article__article_number", "serial_number")
    )
    return [
        HeldDevice(
            device_id=device.pk,
            serial_number=device.serial_number,
            article_number=device.article.article_number,
            article_name=device.article.name,
            status_label=str(DeviceStatus(device.status).label),
            since=getattr(device, "since", None),
            next_service_on=device.next_service_on,
            on_loan=device.status == DeviceStatus.ON_LOAN,
            work_orders=tuple(_built(WorkOrder, row) for row in device.work_order_rows),  # type: ignore[attr-defined]
            notices=tuple(_notice_device(row) for row in device.notice_rows),  # type: ignore[attr-defined]
        )
        for device in rows
    ]

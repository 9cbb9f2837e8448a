"""Work orders (*arbetsorder*): made by a prescriber, by customer service taking a fault report
(*felanmälan*, PRESC-10), or by the product when a device's service falls due; worked by the
region's technicians: planned, started, time and parts recorded (parts leave the workshop's
store), finished with a result, or returned (*felfälld*) to their author with a reason.

Every write locks the order first (``select_for_update``), then checks, then moves it through
``WORK_ORDER_MACHINE`` with a history row (house style 4). Refusals are :class:`LogisticsError`
with a message the user can act on, naming the work order by number only (LEAK-5).

LOG-3: the work of a protected patient (or one the register links to a protected person, as
the gate counts guards) is the region's own; handing it to a supplier or subcontractor is
refused here and by migration 0008's trigger.
"""

from __future__ import annotations

import datetime
from typing import Any, Final

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.calendar import working_days_after
from logistics.models import (
    CustomerOrderLine,
    Device,
    DeviceStatus,
    HolderKind,
    LocationKind,
    StockLocation,
    WorkOrder,
    WorkOrderKind,
    WorkOrderPart,
    WorkOrderSource,
    WorkOrderState,
    WorkOrderTransition,
)
from logistics.services.delivery import acting_user
from logistics.services.errors import LogisticsError, StateNotAllowed
from logistics.services.stock import level_change, level_locked
from patients.identity import contains_identity_number
from patients.transitions import (
    CREATED,
    StateMachine,
    history_record,
    transition_apply,
    transition_created,
)
from protection.freetext import free_text_refusal
from protection.gate import linked_patient_ids
from protection.permissions import holds_role_permission
from protection.rls import patient_guard_ids, system_context
from protection.services.case_end import case_closed_record

S = WorkOrderState
K = WorkOrderKind

# A repair of a device out of service is started within this many working days.
REPAIR_START_WORKING_DAYS: Final = 2
PRESCRIBE: Final = "prescriptions.add_prescription"
# States a technician's queue shows; the rest are finished or with the author.
OPEN_STATES: Final = frozenset({S.REGISTERED, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_FOR_SIGNATURE})
FINISHED_STATES: Final = frozenset({S.DONE, S.CANCELLED})


def _refused(work_order: WorkOrder, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Work order %(number)s is %(state)s and cannot become %(to)s.")
        % {"number": work_order.number, "state": S(from_state).label, "to": S(to_state).label}
    )


WORK_ORDER_MACHINE: Final = StateMachine(
    name="work order",
    moves={
        CREATED: frozenset({S.REGISTERED, S.ASSIGNED}),
        S.REGISTERED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.REJECTED, S.CANCELLED}),
        S.ASSIGNED: frozenset({S.REGISTERED, S.IN_PROGRESS, S.REJECTED, S.CANCELLED}),
        S.IN_PROGRESS: frozenset({S.WAITING_FOR_SIGNATURE, S.DONE, S.CANCELLED}),
        # PRESC-6: signed (done, or back to work to deliver it), declined (back to work).
        S.WAITING_FOR_SIGNATURE: frozenset({S.IN_PROGRESS, S.DONE, S.CANCELLED}),
        # The author completes a returned order and sends it again, or withdraws it.
        S.REJECTED: frozenset({S.REGISTERED, S.CANCELLED}),
        S.DONE: frozenset(),
        S.CANCELLED: frozenset(),
    },
    history_model=WorkOrderTransition,
    subject_field="work_order",
    refuse=_refused,
)


def work_order_guarded(work_order: WorkOrder) -> bool:
    """Whether the gate guards the order's patient (protected, or linked to a protected person):
    then the contact is the prescriber only (PRESC-10), no supplier does the work (LOG-3) and
    nothing about it is printed (PRINT-1)."""
    return work_order.patient_id is not None and bool(patient_guard_ids(work_order.patient_id))


def _locked(work_order_id: int) -> WorkOrder:
    return WorkOrder.objects.select_for_update(of=("self",)).get(pk=work_order_id)


def _text_checked(label: str, value: str, patient_id: int | None) -> str:
    """Free text technicians read without a grant: no identity number, and for the order's
    patient no name or address (LEAK-1)."""
    value = value.strip()
    if contains_identity_number(value):
        raise LogisticsError(_("%(field)s: do not write a personnummer.") % {"field": label})
    if value and patient_id is not None:
        refusal = free_text_refusal(value, field=label, patient_ids=[patient_id])
        if refusal is not None:
            raise LogisticsError(refusal)
    return value


def _phone_checked(value: str) -> str:
    value = value.strip()
    allowed = set("0123456789+-() ")
    if value and (not set(value) <= allowed or sum(c.isdigit() for c in value) < 5):
        raise LogisticsError(
            _("Write the phone number with digits only, for example 070-123 45 67.")
        )
    return value


def workshop_for(device: Device | None, prescriber: Any) -> StockLocation:
    """The right reception: the central store (hjälpmedelscentral, with its workshop) of the
    region that owns the device, or else of the prescriber's unit's region."""
    region_id = device.owner_region_id if device is not None else None
    if region_id is None and prescriber is not None:
        profile = getattr(prescriber, "staff_profile", None)
        unit = getattr(profile, "unit", None)
        region_id = getattr(unit, "region_id", None)
    workshop = (
        StockLocation.objects.filter(kind=LocationKind.CENTRAL, region_id=region_id, active=True)
        .order_by("pk")
        .first()
    )
    if workshop is None:
        raise LogisticsError(
            _("There is no workshop for this region. Choose the workshop by hand.")
        )
    return workshop


def device_prescriber(device: Device) -> Any:
    """The prescriber who ordered the device out to its holder (the latest order line that
    delivered it), or None."""
    line = (
        CustomerOrderLine.objects.filter(device=device)
        .select_related("order__orderer")
        .order_by("-pk")
        .first()
    )
    return line.order.orderer if line is not None else None


def _unit_of(user: Any) -> Any:
    profile = getattr(user, "staff_profile", None) if user is not None else None
    return getattr(profile, "unit", None)


@transaction.atomic
def work_order_create(
    *,
    kind: str,
    by: Any,
    device_id: int | None = None,
    patient_id: int | None = None,
    article_id: int | None = None,
    prescriber: Any = None,
    workshop_id: int | None = None,
    technician: Any = None,
    description: str = "",
    caller_phone: str = "",
    source: str = WorkOrderSource.PRESCRIBER,
    due_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> WorkOrder:
    """Register a work order. A device's holder becomes the order's patient and its prescriber
    the contact unless given; the workshop is the device's region's (``workshop_for``). A
    repair is due within two working days; a service on the device's next-service date."""
    today = today or timezone.localdate()
    device = None
    if device_id is not None:
        device = Device.objects.select_for_update().get(pk=device_id)
        if device.status in {DeviceStatus.SCRAPPED, DeviceStatus.LOST}:
            raise LogisticsError(
                _("Device %(serial)s is %(status)s: it cannot get a work order.")
                % {"serial": device.serial_number, "status": DeviceStatus(device.status).label}
            )
        article_id = article_id or device.article_id
        if patient_id is None and device.holder_kind == HolderKind.PATIENT:
            patient_id = device.holder_patient_id
        if prescriber is None:
            prescriber = device_prescriber(device)
    # A prescriber registering work for their own patient is the contact.
    if prescriber is None and by is not None and holds_role_permission(by, PRESCRIBE):
        prescriber = by
    if kind not in K.values:
        raise LogisticsError(_("Choose what kind of work order it is."))
    if kind in {K.REPAIR, K.SERVICE, K.RECONDITIONING} and device is None:
        raise LogisticsError(_("A repair, service or reconditioning needs the device."))
    workshop = (
        StockLocation.objects.get(pk=workshop_id)
        if workshop_id is not None
        else workshop_for(device, prescriber)
    )
    if due_on is None:
        if kind == K.REPAIR:
            due_on = working_days_after(today, REPAIR_START_WORKING_DAYS)
        elif kind == K.SERVICE and device is not None:
            due_on = device.next_service_on
    work_order = WorkOrder.objects.create(
        kind=kind,
        state=S.ASSIGNED if technician is not None else S.REGISTERED,
        source=source,
        device=device,
        article_id=article_id,
        patient_id=patient_id,
        prescriber=prescriber,
        contact_unit=_unit_of(prescriber),
        workshop=workshop,
        technician=technician,
        author=by,
        description=_text_checked(_("Fault or task"), description, patient_id),
        caller_phone=_phone_checked(caller_phone),
        due_on=due_on,
    )
    transition_created(machine=WORK_ORDER_MACHINE, obj=work_order, by=acting_user(by))
    return work_order


@transaction.atomic
def _case_closed_if_final(work_order: WorkOrder) -> None:
    """ACCESS-8: a finished or cancelled work order may be the contact unit's last open case
    for the patient (a returned one, felfälld, is still the author's to complete)."""
    if work_order.state in (S.DONE, S.CANCELLED):
        case_closed_record(patient_id=work_order.patient_id, unit_id=work_order.contact_unit_id)


def work_order_transition(
    *, work_order_id: int, to_state: str, by: Any, note: str = "", **fields: Any
) -> WorkOrder:
    """Move a work order to ``to_state`` (with ``fields``) after locking it: the one move the
    other floors' steps use (PRESC-6 signing moves it to and from waiting for signature)."""
    work_order = _locked(work_order_id)
    transition_apply(
        machine=WORK_ORDER_MACHINE,
        obj=work_order,
        to_state=to_state,
        by=acting_user(by),
        note=note,
        **fields,
    )
    _case_closed_if_final(work_order)
    return work_order


@transaction.atomic
def work_order_assign(*, work_order_id: int, technician: Any, by: Any) -> WorkOrder:
    """Plan the order for a technician (or hand it to another: a history row, same state)."""
    work_order = _locked(work_order_id)
    if work_order.state == S.ASSIGNED:
        WorkOrder.objects.filter(pk=work_order.pk).update(technician=technician)
        work_order.technician = technician
        history_record(
            machine=WORK_ORDER_MACHINE,
            obj=work_order,
            from_state=S.ASSIGNED,
            to_state=S.ASSIGNED,
            by=acting_user(by),
            note=_("Handed to another technician."),
        )
        return work_order
    transition_apply(
        machine=WORK_ORDER_MACHINE,
        obj=work_order,
        to_state=S.ASSIGNED,
        by=acting_user(by),
        technician=technician,
    )
    return work_order


@transaction.atomic
def work_order_start(*, work_order_id: int, by: Any) -> WorkOrder:
    """The technician starts the work; they become its technician if none was planned."""
    work_order = _locked(work_order_id)
    technician = work_order.technician or acting_user(by)
    transition_apply(
        machine=WORK_ORDER_MACHINE,
        obj=work_order,
        to_state=S.IN_PROGRESS,
        by=acting_user(by),
        technician=technician,
        started_at=work_order.started_at or timezone.now(),
    )
    return work_order


def _require_in_progress(work_order: WorkOrder) -> None:
    if work_order.state != S.IN_PROGRESS:
        raise StateNotAllowed(
            _("Work order %(number)s is %(state)s: start it before recording work.")
            % {"number": work_order.number, "state": S(work_order.state).label}
        )


@transaction.atomic
def work_order_time_record(*, work_order_id: int, minutes: int, by: Any) -> WorkOrder:
    """Add time spent to a started order."""
    work_order = _locked(work_order_id)
    _require_in_progress(work_order)
    if minutes <= 0 or minutes > 24 * 60:
        raise LogisticsError(_("Write the time spent in minutes, between 1 and 1440."))
    work_order.minutes_spent += minutes
    WorkOrder.objects.filter(pk=work_order.pk).update(minutes_spent=work_order.minutes_spent)
    return work_order


@transaction.atomic
def work_order_part_use(
    *, work_order_id: int, article_id: int, quantity: int, by: Any
) -> WorkOrderPart:
    """A part used on a started order leaves the workshop's store (its physical figure)."""
    work_order = _locked(work_order_id)
    _require_in_progress(work_order)
    if quantity <= 0:
        raise LogisticsError(_("Write how many parts were used, at least 1."))
    level = level_locked(article_id=article_id, location_id=work_order.workshop_id)
    if level.available < quantity:
        raise LogisticsError(
            _("Only %(available)s of the part available in %(store)s.")
            % {"available": max(level.available, 0), "store": work_order.workshop.name}
        )
    level_change(level=level, physical=-quantity)
    return WorkOrderPart.objects.create(
        work_order=work_order,
        article_id=article_id,
        location_id=work_order.workshop_id,
        quantity=quantity,
        by=acting_user(by),
    )


@transaction.atomic
def work_order_finish(*, work_order_id: int, result: str, by: Any) -> WorkOrder:
    """Finish a started order with its result. A finished service moves the device's next
    service on by the article's service interval."""
    work_order = _locked(work_order_id)
    result = _text_checked(_("Result"), result, work_order.patient_id)
    if not result:
        raise LogisticsError(_("Write the result before finishing the work order."))
    transition_apply(
        machine=WORK_ORDER_MACHINE,
        obj=work_order,
        to_state=S.DONE,
        by=acting_user(by),
        result=result,
        finished_at=timezone.now(),
    )
    _case_closed_if_final(work_order)
    if work_order.kind == K.SERVICE and work_order.device_id is not None:
        device = (
            Device.objects.select_for_update()
            .select_related("article")
            .get(pk=work_order.device_id)
        )
        months = device.article.service_interval_months
        next_on = _months_after(timezone.localdate(), months) if months else None
        Device.objects.filter(pk=device.pk).update(next_service_on=next_on)
    return work_order


def _months_after(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


@transaction.atomic
def work_order_reject(*, work_order_id: int, reason: str, by: Any) -> WorkOrder:
    """Return an incomplete order to its author (*felfälld*) with the reason."""
    work_order = _locked(work_order_id)
    reason = _text_checked(_("Reason"), reason, work_order.patient_id)
    if not reason:
        raise LogisticsError(_("Write what is missing, so that the author can complete it."))
    transition_apply(
        machine=WORK_ORDER_MACHINE,
        obj=work_order,
        to_state=S.REJECTED,
        by=acting_user(by),
        note=_("Returned to the author."),
        rejection_reason=reason,
        technician=None,
    )
    return work_order


@transaction.atomic
def work_order_resubmit(*, work_order_id: int, description: str, by: Any) -> WorkOrder:
    """The author completes a returned order and sends it to the workshop again."""
    work_order = _locked(work_order_id)
    if work_order.author_id != getattr(by, "pk", None):
        raise LogisticsError(
            _("Only the author of work order %(number)s can send it again.")
            % {"number": work_order.number}
        )
    description = _text_checked(_("Fault or task"), description, work_order.patient_id)
    if not description:
        raise LogisticsError(_("Describe the fault or the task."))
    transition_apply(
        machine=WORK_ORDER_MACHINE,
        obj=work_order,
        to_state=S.REGISTERED,
        by=acting_user(by),
        description=description,
    )
    return work_order


@transaction.atomic
def work_order_cancel(*, work_order_id: int, reason: str, by: Any) -> WorkOrder:
    work_order = _locked(work_order_id)
    reason = _text_checked(_("Reason"), reason, work_order.patient_id)
    if not reason:
        raise LogisticsError(_("Write why the work order is cancelled."))
    transition_apply(
        machine=WORK_ORDER_MACHINE,
        obj=work_order,
        to_state=S.CANCELLED,
        by=acting_user(by),
        note=reason,
    )
    _case_closed_if_final(work_order)
    return work_order


@transaction.atomic
def work_order_supplier_set(*, work_order_id: int, supplier_id: int | None, by: Any) -> WorkOrder:
    """Give the work to a supplier or subcontractor (or take it back, ``None``). LOG-3: never
    for a patient the gate guards; the database refuses it as well (migration 0008)."""
    work_order = _locked(work_order_id)
    if work_order.state in FINISHED_STATES:
        raise StateNotAllowed(
            _("Work order %(number)s is finished.") % {"number": work_order.number}
        )
    if supplier_id is not None and work_order_guarded(work_order):
        raise LogisticsError(
            _(
                "Work order %(number)s is done by the region's own technicians: it cannot be "
                "given to a supplier or subcontractor."
            )
            % {"number": work_order.number}
        )
    WorkOrder.objects.filter(pk=work_order.pk).update(supplier_id=supplier_id)
    work_order.supplier_id = supplier_id
    history_record(
        machine=WORK_ORDER_MACHINE,
        obj=work_order,
        from_state=work_order.state,
        to_state=work_order.state,
        by=acting_user(by),
        note=_("Given to a supplier.") if supplier_id else _("Taken back from the supplier."),
    )
    return work_order


def work_orders_taken_from_suppliers(*, patient_id: int) -> int:
    """LOG-3 when a patient becomes protected (``protection_added``, after the commit): the
    open work orders a supplier was doing for them, and for those the register links to them,
    are taken back for the region's own technicians. How many were taken back."""
    with transaction.atomic(), system_context():
        concerned = sorted(linked_patient_ids(patient_id))
    taken = 0
    for pid in concerned:
        if not patient_guard_ids(pid):
            continue
        open_with_supplier = (
            WorkOrder.objects.filter(patient_id=pid, supplier__isnull=False)
            .exclude(state__in=FINISHED_STATES)
            .values_list("pk", flat=True)
        )
        for work_order_id in list(open_with_supplier):
            work_order_supplier_set(work_order_id=work_order_id, supplier_id=None, by=None)
            taken += 1
    return taken

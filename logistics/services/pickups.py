"""Pickup orders (*hämtorder*, PRESC-9): registered by the prescriber or by customer service for
a call, planned for the route's next day, collected within 7 working days; the rent of each
line stops 3 working days after registration. A collected device leaves the patient for the
workshop (reconditioning, DEVICE-3); a device missing at pickup has its line cancelled, the rent
restarts and the device goes to the loss process (DEVICE-4).

For a protected patient the pickup is at the prescriber's unit with the prescriber as contact,
by the region's own staff (LOG-3, LOG-4): the route is the unit's, never the patient's address.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, Final

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.calendar import next_working_day, working_days_after
from logistics.models import (
    CustomerOrderLine,
    Device,
    DeviceStatus,
    HolderKind,
    PickupChannel,
    PickupLine,
    PickupLineState,
    PickupLineTransition,
    PickupOrder,
    PickupOrderTransition,
    PickupState,
    WorkOrderKind,
    WorkOrderSource,
)
from logistics.selectors.destinations import area_for_postal_code, area_next_day, areas_all
from logistics.services.errors import LogisticsError, StateNotAllowed
from logistics.services.losses import loss_report
from logistics.services.state import device_move
from logistics.services.workorders import work_order_create
from patients.models import PatientIdentity
from patients.transitions import CREATED, StateMachine, transition_apply, transition_created
from prescriptions.models import PrescribingUnit
from prescriptions.services.access import patient_guarded
from protection.services.case_end import case_closed_record

# PRESC-9 (seed 000 §3.1.1): collected within 7 working days; the rent stops after 3.
COLLECT_WITHIN_WORKING_DAYS: Final = 7
RENT_STOPS_AFTER_WORKING_DAYS: Final = 3

P = PickupState
PL = PickupLineState


def _order_refused(order: PickupOrder, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Pickup order %(number)s is %(state)s and cannot become %(to)s.")
        % {"number": order.number, "state": P(from_state).label, "to": P(to_state).label}
    )


def _line_refused(line: PickupLine, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Device %(serial)s on pickup order %(number)s is %(state)s and cannot become %(to)s.")
        % {
            "serial": line.device.serial_number,
            "number": line.order.number,
            "state": PL(from_state).label,
            "to": PL(to_state).label,
        }
    )


PICKUP_MACHINE: Final = StateMachine(
    name="pickup order",
    moves={
        CREATED: frozenset({P.PLANNED}),
        P.PLANNED: frozenset({P.DONE, P.CANCELLED}),
        P.DONE: frozenset(),
        P.CANCELLED: frozenset(),
    },
    history_model=PickupOrderTransition,
    subject_field="order",
    refuse=_order_refused,
)

PICKUP_LINE_MACHINE: Final = StateMachine(
    name="pickup line",
    moves={
        CREATED: frozenset({PL.TO_COLLECT}),
        PL.TO_COLLECT: frozenset({PL.COLLECTED, PL.MISSING}),
        PL.COLLECTED: frozenset(),
        PL.MISSING: frozenset(),
    },
    history_model=PickupLineTransition,
    subject_field="line",
    refuse=_line_refused,
)


def rent_stops_on(registered_on: datetime.date) -> datetime.date:
    """PRESC-9: the rent stops 3 working days after the pickup order is registered."""
    return working_days_after(registered_on, RENT_STOPS_AFTER_WORKING_DAYS)


def collect_by(registered_on: datetime.date) -> datetime.date:
    """PRESC-9: the devices are collected within 7 working days of registration."""
    return working_days_after(registered_on, COLLECT_WITHIN_WORKING_DAYS)


def _contact(devices: Sequence[Device], patient_id: int, by: Any) -> tuple[int, int]:
    """The prescribing unit and the prescriber to contact: the prescriber registering it, at
    their unit; for customer service, the prescriber of the latest order that lent one of the
    devices to the patient."""
    profile = getattr(by, "staff_profile", None)
    unit_id = getattr(profile, "unit_id", None)
    if unit_id is not None and PrescribingUnit.objects.filter(pk=unit_id).exists():
        return unit_id, int(by.pk)
    line = (
        CustomerOrderLine.objects.filter(
            device_id__in=[device.pk for device in devices], order__patient_id=patient_id
        )
        .select_related("order")
        .order_by("-pk")
        .first()
    )
    if line is None:
        raise LogisticsError(
            _(
                "No prescriber is known for these devices: ask the patient's prescriber to "
                "register the pickup."
            )
        )
    return line.order.unit_id, line.order.orderer_id


def _postal_code(*, patient_id: int, protected: bool, unit_id: int) -> str:
    """The postal code that decides the route: the unit's for a protected patient (the pickup
    is made there), else the patient's registered address."""
    code: object
    if protected:
        code = PrescribingUnit.objects.get(pk=unit_id).delivery_postal_code
    else:
        identity = PatientIdentity.objects.filter(patient_id=patient_id).only("registered_address")
        address = identity[0].registered_address if identity else None
        code = address.get("postal_code") if isinstance(address, dict) else ""
    digits = "".join(ch for ch in str(code or "") if ch.isdigit())
    return digits if len(digits) == 5 else ""


@transaction.atomic
def pickup_order_create(
    *,
    patient_id: int,
    device_ids: Sequence[int],
    channel: str,
    by: Any,
    today: datetime.date | None = None,
) -> PickupOrder:
    """Register a pickup of the devices the patient holds. The caller has reached the patient
    through the gate. DEVICE-4: a device reported lost is refused; so is a device the patient
    does not hold, or one already on a pickup order waiting to be collected."""
    if not device_ids:
        raise LogisticsError(_("Devices: choose at least one device to pick up."))
    if channel not in PickupChannel.values:
        raise LogisticsError(_("Choose who orders the pickup."))
    devices = list(
        Device.objects.select_for_update()
        .filter(pk__in=list(device_ids))
        .select_related("article")
        .order_by("pk")
    )
    if len(devices) != len(set(device_ids)):
        raise LogisticsError(_("A chosen device is no longer in the register."))
    for device in devices:
        if device.status == DeviceStatus.LOST:
            raise LogisticsError(
                _(
                    "Device %(serial)s is reported lost and cannot be picked up: it is in the "
                    "loss process (DEVICE-4)."
                )
                % {"serial": device.serial_number}
            )
        if (
            device.holder_kind != HolderKind.PATIENT
            or device.holder_patient_id != patient_id
            or device.status != DeviceStatus.ON_LOAN
        ):
            raise LogisticsError(
                _("Device %(serial)s is not lent to this patient.")
                % {"serial": device.serial_number}
            )
    waiting = (
        PickupLine.objects.filter(
            device_id__in=[device.pk for device in devices], state=PL.TO_COLLECT
        )
        .select_related("device", "order")
        .first()
    )
    if waiting is not None:
        raise LogisticsError(
            _("Device %(serial)s is already on pickup order %(number)s.")
            % {"serial": waiting.device.serial_number, "number": waiting.order.number}
        )
    registered_on = today or timezone.localdate()
    protected = patient_guarded(patient_id)
    unit_id, contact_id = _contact(devices, patient_id, by)
    area = area_for_postal_code(
        _postal_code(patient_id=patient_id, protected=protected, unit_id=unit_id), areas_all()
    )
    planned_on = (
        area_next_day(area, next_working_day(registered_on + datetime.timedelta(days=1)))
        if area is not None
        else None
    )
    order = PickupOrder.objects.create(
        patient_id=patient_id,
        patient_protected=protected,
        unit_id=unit_id,
        contact_id=contact_id,
        channel=channel,
        created_by=by,
        registered_on=registered_on,
        area=area,
        planned_on=planned_on,
        due_on=collect_by(registered_on),
        state=P.PLANNED,
    )
    transition_created(machine=PICKUP_MACHINE, obj=order, by=by, note=str(channel))
    stops = rent_stops_on(registered_on)
    for device in devices:
        line = PickupLine.objects.create(
            order=order, device=device, state=PL.TO_COLLECT, rent_stops_on=stops
        )
        transition_created(
            machine=PICKUP_LINE_MACHINE,
            obj=line,
            by=by,
            note=_("Rent stops %(day)s") % {"day": stops.isoformat()},
        )
    return order


def _line_locked(line_id: int) -> PickupLine:
    try:
        return (
            PickupLine.objects.select_for_update(of=("self",))
            .select_related("order__contact", "device")
            .get(pk=line_id)
        )
    except PickupLine.DoesNotExist:
        raise LogisticsError(_("The pickup line is no longer there.")) from None


def _order_settle(order: PickupOrder, by: Any) -> None:
    """The order is done once no line waits to be collected."""
    if not PickupLine.objects.filter(order_id=order.pk, state=PL.TO_COLLECT).exists():
        locked = PickupOrder.objects.select_for_update().get(pk=order.pk)
        if locked.state == P.PLANNED:
            transition_apply(machine=PICKUP_MACHINE, obj=locked, to_state=P.DONE, by=by)
            # ACCESS-8: it may have been the unit's last open case for the patient.
            case_closed_record(patient_id=locked.patient_id, unit_id=locked.unit_id)


@transaction.atomic
def pickup_line_collect(*, line_id: int, by: Any) -> PickupLine:
    """The driver collected the device: it leaves the patient for the workshop, where a
    reconditioning work order has it cleaned, inspected and reconditioned or scrapped
    (DEVICE-3)."""
    line = _line_locked(line_id)
    device = Device.objects.select_for_update().get(pk=line.device_id)
    transition_apply(
        machine=PICKUP_LINE_MACHINE,
        obj=line,
        to_state=PL.COLLECTED,
        by=by,
        settled_at=timezone.now(),
    )
    device_move(
        device=device,
        to_state=DeviceStatus.IN_WORKSHOP,
        by=by,
        note=_("Collected, pickup order %(number)s; to reconditioning")
        % {"number": line.order.number},
        holder_kind=HolderKind.STORE,
        holder_patient=None,
        holder_unit=None,
        location=None,
    )
    # DEVICE-3: the workshop's queue gets the cleaning and inspection as a work order.
    work_order_create(
        kind=WorkOrderKind.RECONDITIONING,
        by=by,
        device_id=device.pk,
        prescriber=line.order.contact,
        source=WorkOrderSource.STAFF,
        description=_("Returned on pickup order %(number)s: clean, inspect, recondition or scrap.")
        % {"number": line.order.number},
    )
    _order_settle(line.order, by)
    return line


@transaction.atomic
def pickup_line_missing(*, line_id: int, by: Any, today: datetime.date | None = None) -> PickupLine:
    """The device was not there: the line is cancelled, the rent restarts from the day it was
    to stop (billing reads ``rent_restarted_on``), and the device goes to the loss process."""
    line = _line_locked(line_id)
    day = today or timezone.localdate()
    transition_apply(
        machine=PICKUP_LINE_MACHINE,
        obj=line,
        to_state=PL.MISSING,
        by=by,
        note=_("Missing at pickup: rent restarts from %(day)s")
        % {"day": line.rent_stops_on.isoformat()},
        settled_at=timezone.now(),
        rent_restarted_on=line.rent_stops_on,
    )
    loss_report(device_id=line.device_id, unit_id=line.order.unit_id, by=by, today=day, line=line)
    _order_settle(line.order, by)
    return line

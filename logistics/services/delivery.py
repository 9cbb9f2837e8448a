"""Packing, dispatch by route and delivery: a package (kolli) per order with its picked lines,
dispatched with its route (lines out for delivery, devices in transit), then delivered with who
received it (DEVICE-1: the holder becomes the patient, or the unit for a protected patient's
device held there until handed over, or the buffer store for a replenishment), or failed with
a reason and a new attempt on the area's next route day."""

from __future__ import annotations

import datetime
from typing import Any, Final

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DeliveryAttempt,
    Device,
    DeviceStatus,
    FailureReason,
    HolderKind,
    LineState,
    OrderKind,
    Package,
    PackageLine,
    PackageState,
    PackageTransition,
)
from logistics.selectors.destinations import DESTINATION_RELATED, area_day_after
from logistics.services.errors import LogisticsError
from logistics.services.picking import orders_routed
from logistics.services.replenishment import replenishment_received
from logistics.services.state import device_adaptation_check, device_move, line_move
from patients.identity import contains_identity_number
from patients.transitions import CREATED, StateMachine, transition_apply, transition_created
from protection.freetext import free_text_refusal

P = PackageState
PACKAGE_MACHINE: Final = StateMachine(
    name="package",
    moves={
        CREATED: frozenset({P.PACKED}),
        P.PACKED: frozenset({P.DISPATCHED}),
        P.DISPATCHED: frozenset({P.DELIVERED, P.FAILED}),
        P.FAILED: frozenset({P.DISPATCHED}),
        P.DELIVERED: frozenset(),
    },
    history_model=PackageTransition,
    subject_field="package",
)


def acting_user(by: Any) -> Any:
    """The user to record as having acted, or None when the product itself acted (a task)."""
    return by if getattr(by, "is_authenticated", False) else None


@transaction.atomic
def package_pack(*, order_id: int, by: Any, today: datetime.date | None = None) -> Package:
    """Pack the order's picked lines into one package, on the route of its area."""
    order = (
        CustomerOrder.objects.select_for_update(of=("self",))
        .select_related(*DESTINATION_RELATED)
        .get(pk=order_id)
    )
    lines = list(
        CustomerOrderLine.objects.select_for_update()
        .filter(order_id=order.pk, state=LineState.PICKED)
        .order_by("position")
    )
    if not lines:
        raise LogisticsError(
            _("Order %(number)s has no picked lines to pack.") % {"number": order.number}
        )
    # PRESC-6: a specially adapted device is not packed before its adaptation is signed.
    unsigned = Device.objects.filter(
        pk__in=[line.device_id for line in lines if line.device_id is not None],
        adaptation_unsigned_since__isnull=False,
    ).first()
    if unsigned is not None:
        device_adaptation_check(unsigned)
    routed, unrouted = orders_routed([order], today or timezone.localdate())
    if order.pk not in routed:
        raise LogisticsError(
            _("Order %(number)s: %(reason)s")
            % {"number": order.number, "reason": unrouted[0].reason}
        )
    area, day = routed[order.pk]
    package = Package.objects.create(
        order=order, area=area, delivery_on=day, packed_by=acting_user(by)
    )
    transition_created(machine=PACKAGE_MACHINE, obj=package, by=by)
    PackageLine.objects.bulk_create(PackageLine(package=package, line=line) for line in lines)
    for line in lines:
        line_move(line=line, to_state=LineState.PACKED, by=by, note=package.number)
    return package


def _package_lines(package: Package) -> list[CustomerOrderLine]:
    return list(
        CustomerOrderLine.objects.select_for_update(of=("self",))
        .filter(pk__in=PackageLine.objects.filter(package=package).values("line_id"))
        .select_related("device")
        .order_by("position")
    )


def _package_locked(package_id: int) -> Package:
    package = (
        Package.objects.select_for_update(of=("self",))
        .select_related("order", "area")
        .filter(pk=package_id)
        .first()
    )
    if package is None:
        raise LogisticsError(_("There is no such package."))
    return package


@transaction.atomic
def package_dispatch(*, package_id: int, by: Any) -> Package:
    """Send one package out on its route: lines out for delivery, devices in transit. A package
    whose earlier attempt failed goes out again (its lines are already out)."""
    package = _package_locked(package_id)
    if package.state not in (P.PACKED, P.FAILED):
        raise LogisticsError(
            _("Package %(package)s of order %(number)s is %(state)s and cannot be dispatched.")
            % {
                "package": package.number,
                "number": package.order.number,
                "state": P(package.state).label,
            }
        )
    first = package.state == P.PACKED
    transition_apply(machine=PACKAGE_MACHINE, obj=package, to_state=P.DISPATCHED, by=by)
    if first:
        for line in _package_lines(package):
            line_move(line=line, to_state=LineState.DISPATCHED, by=by, note=package.number)
            if line.device is not None:
                device_move(
                    device=line.device,
                    to_state=DeviceStatus.IN_TRANSIT,
                    by=by,
                    note=_("Out for delivery, order %(number)s") % {"number": package.order.number},
                    location=None,
                )
    return package


def route_dispatch(*, area_id: int, day: datetime.date, by: Any) -> list[Package]:
    """Dispatch every packed (or failed and due) package of the route: the area on that day."""
    ids = list(
        Package.objects.filter(
            area_id=area_id, delivery_on=day, state__in=(P.PACKED, P.FAILED)
        ).values_list("pk", flat=True)
    )
    return [package_dispatch(package_id=pk, by=by) for pk in ids]


def free_text_checked(label: str, value: str, order: CustomerOrder) -> str:
    value = value.strip()
    if contains_identity_number(value):
        raise LogisticsError(_("%(field)s: do not write a personnummer.") % {"field": label})
    if value and order.patient_id is not None:
        refusal = free_text_refusal(value, field=label, patient_ids=[order.patient_id])
        if refusal is not None:
            raise LogisticsError(refusal)
    return value


# The other part of the floor that keeps the buffer store's figures (LOG-2). CALL POINT: when
# ``logistics.services.replenishment.replenishment_received`` exists it is called here.


def replenishment_arrived(*, order_id: int, by: Any) -> None:
    """A replenishment reached its buffer store: its stock figures rise there (LOG-2)."""
    replenishment_received(order_id=order_id, by=by)


def _hand_over(line: CustomerOrderLine, order: CustomerOrder, by: Any) -> None:
    device = line.device
    if device is None:
        return
    note = _("Delivered, order %(number)s") % {"number": order.number}
    if order.kind == OrderKind.REPLENISHMENT:
        device_move(
            device=device,
            to_state=DeviceStatus.IN_STOCK,
            by=by,
            note=note,
            holder_kind=HolderKind.STORE,
            location=order.to_location,
        )
    elif order.patient_protected:
        # Held at the unit until the prescriber hands it over (DEVICE-1, PRESC-2).
        device_move(
            device=device,
            to_state=DeviceStatus.AT_UNIT,
            by=by,
            note=note,
            holder_kind=HolderKind.UNIT,
            holder_unit_id=order.unit_id,
            location=None,
            **_reissue(device),
        )
    else:
        device_move(
            device=device,
            to_state=DeviceStatus.ON_LOAN,
            by=by,
            note=note,
            holder_kind=HolderKind.PATIENT,
            holder_patient_id=order.patient_id,
            location=None,
            **_reissue(device),
        )


def _reissue(device: Device) -> dict[str, Any]:
    """DEVICE-3: a reconditioned device lent out again counts one more reissue."""
    if not device.awaiting_reissue:
        return {}
    return {"awaiting_reissue": False, "times_reissued": device.times_reissued + 1}


@transaction.atomic
def package_deliver(
    *, package_id: int, received_by: str, by: Any, today: datetime.date | None = None
) -> Package:
    """Delivered, with who received it (free text read by staff without a grant: no identity
    number, nothing of the patient's name or address)."""
    package = _package_locked(package_id)
    received = free_text_checked(_("Received by"), received_by, package.order)
    if not received:
        raise LogisticsError(_("Received by: write who received the delivery."))
    if package.state != P.DISPATCHED:
        raise LogisticsError(
            _("Package %(package)s is not out for delivery.") % {"package": package.number}
        )
    day = today or timezone.localdate()
    transition_apply(machine=PACKAGE_MACHINE, obj=package, to_state=P.DELIVERED, by=by)
    DeliveryAttempt.objects.create(
        package=package,
        route_day=day,
        delivered=True,
        received_by=received[:200],
        by=acting_user(by),
    )
    order = package.order
    for line in _package_lines(package):
        line_move(
            line=line, to_state=LineState.DELIVERED, by=by, note=package.number, delivered_on=day
        )
        _hand_over(line, order, by)
    if order.kind == OrderKind.REPLENISHMENT:
        replenishment_arrived(order_id=order.pk, by=by)
    return package


@transaction.atomic
def package_fail(
    *, package_id: int, reason: str, note: str, by: Any, today: datetime.date | None = None
) -> Package:
    """Not delivered: the reason (from the list, with free text) and a new attempt on the
    area's next route day."""
    package = _package_locked(package_id)
    if reason not in FailureReason.values:
        raise LogisticsError(_("Reason: choose why the delivery failed."))
    text = free_text_checked(_("Note"), note, package.order)
    if reason == FailureReason.OTHER and not text:
        raise LogisticsError(_("Note: describe the reason."))
    if package.state != P.DISPATCHED:
        raise LogisticsError(
            _("Package %(package)s is not out for delivery.") % {"package": package.number}
        )
    day = today or timezone.localdate()
    next_day = area_day_after(package.area, max(day, package.delivery_on))
    if next_day is None:
        raise LogisticsError(_("The route has no delivery day in the coming weeks."))
    transition_apply(
        machine=PACKAGE_MACHINE,
        obj=package,
        to_state=P.FAILED,
        by=by,
        note=str(FailureReason(reason).label),
        delivery_on=next_day,
    )
    DeliveryAttempt.objects.create(
        package=package,
        route_day=day,
        delivered=False,
        reason=reason,
        note=text[:300],
        next_attempt_on=next_day,
        by=acting_user(by),
    )
    return package

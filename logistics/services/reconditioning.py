"""Reconditioning (DEVICE-3): a returned device is cleaned and inspected in the workshop; the
article's recirculation policy (its own, else its product area's; without one, the device's end
of lifespan) decides whether it is reconditioned and returned to stock, or scrapped. The next
hand-over of a reconditioned device counts as a reissue (``Device.times_reissued``).

Every move goes through the device state machine (``logistics.services.state.device_move``), so
that a device held as evidence by an open incident (QUAL-2) is refused there. The collection
made a reconditioning work order in the workshop's queue; the decision finishes it with the
decision as its result.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import (
    Device,
    DeviceStatus,
    HolderKind,
    RecirculationPolicy,
    ReconditioningDecision,
    ReconditioningOutcome,
    StockLocation,
    WorkOrder,
    WorkOrderKind,
    WorkOrderState,
)
from logistics.services.errors import LogisticsError
from logistics.services.state import device_move
from logistics.services.workorders import work_order_transition


@dataclass(frozen=True)
class Verdict:
    outcome: str
    reason: str
    age_months: int


def age_in_months(received_on: datetime.date, on: datetime.date) -> int:
    months = (on.year - received_on.year) * 12 + on.month - received_on.month
    if on.day < received_on.day:
        months -= 1
    return max(months, 0)


def policy_for(device: Device) -> RecirculationPolicy | None:
    """The article's own policy, else its product area's."""
    policies = {
        ("article" if policy.article_id else "area"): policy
        for policy in RecirculationPolicy.objects.filter(article_id=device.article_id).union(
            RecirculationPolicy.objects.filter(product_area_id=device.article.product_area_id)
        )
    }
    return policies.get("article") or policies.get("area")


def reconditioning_verdict(
    *, device: Device, inspection_passed: bool, on: datetime.date
) -> Verdict:
    """What the policy says for this device today (DEVICE-3)."""
    age = age_in_months(device.received_on, on)
    if not inspection_passed:
        return Verdict(ReconditioningOutcome.SCRAP, _("Failed the inspection."), age)
    policy = policy_for(device)
    if policy is not None:
        if age > policy.max_age_months:
            return Verdict(
                ReconditioningOutcome.SCRAP,
                _("%(age)s months old; the policy allows at most %(max)s.")
                % {"age": age, "max": policy.max_age_months},
                age,
            )
        if (
            policy.max_times_reissued is not None
            and device.times_reissued >= policy.max_times_reissued
        ):
            return Verdict(
                ReconditioningOutcome.SCRAP,
                _("Reissued %(times)s times; the policy allows at most %(max)s.")
                % {"times": device.times_reissued, "max": policy.max_times_reissued},
                age,
            )
        return Verdict(
            ReconditioningOutcome.REISSUE,
            _("%(age)s months old, within the policy's %(max)s.")
            % {"age": age, "max": policy.max_age_months},
            age,
        )
    if device.lifespan_until is not None and on > device.lifespan_until:
        return Verdict(
            ReconditioningOutcome.SCRAP,
            _("Past its end of lifespan (%(day)s).") % {"day": device.lifespan_until.isoformat()},
            age,
        )
    return Verdict(ReconditioningOutcome.REISSUE, _("No policy limit reached."), age)


def _work_orders_finish(device: Device, result: str, by: Any) -> None:
    """The device's open reconditioning work orders are done, with the decision as result."""
    for work_order in WorkOrder.objects.filter(
        device_id=device.pk,
        kind=WorkOrderKind.RECONDITIONING,
        state__in=[WorkOrderState.REGISTERED, WorkOrderState.ASSIGNED, WorkOrderState.IN_PROGRESS],
    ).order_by("pk"):
        if work_order.state != WorkOrderState.IN_PROGRESS:
            work_order_transition(
                work_order_id=work_order.pk, to_state=WorkOrderState.IN_PROGRESS, by=by
            )
        work_order_transition(
            work_order_id=work_order.pk,
            to_state=WorkOrderState.DONE,
            by=by,
            result=result[:300],
            finished_at=timezone.now(),
        )


@transaction.atomic
def reconditioning_decide(
    *,
    device_id: int,
    inspection_passed: bool,
    store_id: int | None,
    by: Any,
    today: datetime.date | None = None,
) -> ReconditioningDecision:
    """Record the cleaning and inspection of a device in the workshop and move it as the policy
    decides: back to stock in ``store_id``, or scrapped."""
    device = Device.objects.select_for_update().select_related("article").get(pk=device_id)
    if device.status != DeviceStatus.IN_WORKSHOP:
        raise LogisticsError(
            _("Device %(serial)s is not in the workshop: only a returned device is reconditioned.")
            % {"serial": device.serial_number}
        )
    day = today or timezone.localdate()
    verdict = reconditioning_verdict(device=device, inspection_passed=inspection_passed, on=day)
    if verdict.outcome == ReconditioningOutcome.REISSUE:
        store = StockLocation.objects.filter(pk=store_id).first() if store_id else None
        if store is None:
            raise LogisticsError(_("Store: choose the store the device goes back to."))
        device_move(
            device=device,
            to_state=DeviceStatus.IN_STOCK,
            by=by,
            note=_("Reconditioned, back to %(store)s") % {"store": store.name},
            holder_kind=HolderKind.STORE,
            location=store,
            awaiting_reissue=True,
        )
    else:
        device_move(
            device=device,
            to_state=DeviceStatus.SCRAPPED,
            by=by,
            note=_("Scrapped: %(reason)s") % {"reason": verdict.reason},
            location=None,
        )
    _work_orders_finish(device, verdict.reason, by)
    return ReconditioningDecision.objects.create(
        device=device,
        outcome=verdict.outcome,
        reason=verdict.reason[:300],
        age_months=min(verdict.age_months, 32767),
        inspection_passed=inspection_passed,
        decided_by=by if getattr(by, "is_authenticated", False) else None,
    )

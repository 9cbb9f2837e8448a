"""The loss process (DEVICE-4, BILL-4): a device reported lost (*förkommet*) gets a loss case;
the decision writes it off or debits the care unit by BILL-4, recording what billing needs to
invoice it (the value, the unit, the day); it can be found again within three months.

BILL-4 (seed 004, lost devices): only articles in the assortment have a debitable value; a main
device's is its residual value but at least 20 % of the purchase price, an accessory's 50 % of
it; under 1 000 SEK nothing is debited.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import (
    CustomerOrderLine,
    Device,
    DeviceStatus,
    HolderKind,
    LossCase,
    LossCaseTransition,
    LossState,
    PickupLine,
)
from logistics.services.devices import months_later
from logistics.services.errors import LogisticsError, StateNotAllowed
from logistics.services.state import device_move
from patients.transitions import CREATED, StateMachine, transition_apply, transition_created
from prescriptions.models import Article, ArticleKind

S = LossState
MAIN_FLOOR: Final = Decimal("0.20")
ACCESSORY_SHARE: Final = Decimal("0.50")
DEBIT_THRESHOLD_SEK: Final = Decimal("1000")
FOUND_WITHIN_MONTHS: Final = 3
OPEN_LOSS_STATES: Final = frozenset({S.REPORTED, S.WRITTEN_OFF, S.DEBITED})


def _refused(case: LossCase, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Loss case %(number)s is %(state)s and cannot become %(to)s.")
        % {"number": case.number, "state": S(from_state).label, "to": S(to_state).label}
    )


LOSS_MACHINE: Final = StateMachine(
    name="loss case",
    moves={
        CREATED: frozenset({S.REPORTED}),
        S.REPORTED: frozenset({S.WRITTEN_OFF, S.DEBITED, S.FOUND}),
        # Found again within three months even after the decision (billing credits a debit).
        S.WRITTEN_OFF: frozenset({S.FOUND}),
        S.DEBITED: frozenset({S.FOUND}),
        S.FOUND: frozenset(),
    },
    history_model=LossCaseTransition,
    subject_field="case",
    refuse=_refused,
)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def residual_value(*, article: Article, received_on: datetime.date, on: datetime.date) -> Decimal:
    """The purchase price written down evenly over the article's lifespan (none: the price)."""
    price = Decimal(article.price_sek)
    if not article.lifespan_years:
        return _money(price)
    months = (on.year - received_on.year) * 12 + on.month - received_on.month
    left = max(Decimal(0), 1 - Decimal(months) / Decimal(12 * article.lifespan_years))
    return _money(price * left)


def debitable_value(*, article: Article, residual: Decimal) -> Decimal:
    """BILL-4: what may be debited, before the 1 000 SEK threshold."""
    if not article.in_assortment:
        return Decimal("0.00")
    price = Decimal(article.price_sek)
    if article.kind == ArticleKind.MAIN:
        return _money(max(residual, price * MAIN_FLOOR))
    if article.kind == ArticleKind.ACCESSORY:
        return _money(price * ACCESSORY_SHARE)
    return Decimal("0.00")


def loss_report(
    *,
    device_id: int,
    unit_id: int,
    by: Any,
    today: datetime.date | None = None,
    line: PickupLine | None = None,
) -> LossCase:
    """The device is reported lost: its status becomes lost (it keeps its holder, who lost
    it) and a loss case opens for the care unit. In the caller's transaction."""
    device = Device.objects.select_for_update().get(pk=device_id)
    day = today or timezone.localdate()
    try:
        with transaction.atomic():
            case = LossCase.objects.create(
                device=device, pickup_line=line, unit_id=unit_id, reported_on=day
            )
    except IntegrityError:
        raise LogisticsError(
            _("Device %(serial)s already has an open loss case.") % {"serial": device.serial_number}
        ) from None
    transition_created(machine=LOSS_MACHINE, obj=case, by=by)
    device_move(
        device=device,
        to_state=DeviceStatus.LOST,
        by=by,
        note=_("Reported lost, loss case %(number)s") % {"number": case.number},
    )
    return case


# Where a device may be when its holder reports it lost (DEVICE-4).
REPORTABLE: Final = frozenset(
    {DeviceStatus.ON_LOAN, DeviceStatus.AT_UNIT, DeviceStatus.IN_USE_AT_UNIT}
)


@transaction.atomic
def loss_device_report(*, device_id: int, unit_id: int, by: Any) -> LossCase:
    """A device reported lost outside a pickup (a call, the device card)."""
    return loss_report(device_id=device_id, unit_id=unit_id, by=by)


@transaction.atomic
def loss_device_report_by_call(*, device_id: int, by: Any) -> LossCase:
    """Customer service records a call: the holder has lost the device. The care unit is the
    one whose order lent it out (the prescriber's); a device in a store is not reported here."""
    device = Device.objects.select_for_update().get(pk=device_id)
    if device.status not in REPORTABLE:
        raise LogisticsError(
            _("Device %(serial)s is %(status)s: only a device that is out can be reported lost.")
            % {"serial": device.serial_number, "status": DeviceStatus(device.status).label}
        )
    line = (
        CustomerOrderLine.objects.filter(device_id=device.pk)
        .select_related("order")
        .order_by("-pk")
        .first()
    )
    if line is None:
        raise LogisticsError(
            _("Device %(serial)s went out on no order: no care unit is known to debit.")
            % {"serial": device.serial_number}
        )
    return loss_report(device_id=device.pk, unit_id=line.order.unit_id, by=by)


def _case_locked(case_id: int) -> LossCase:
    try:
        return (
            LossCase.objects.select_for_update(of=("self",))
            .select_related("device__article")
            .get(pk=case_id)
        )
    except LossCase.DoesNotExist:
        raise LogisticsError(_("The loss case is no longer there.")) from None


@transaction.atomic
def loss_case_decide(*, case_id: int, by: Any, today: datetime.date | None = None) -> LossCase:
    """Decide by BILL-4: debited when the debitable value is at least 1 000 SEK, else written
    off. Records the purchase price, the residual value, the debit and the day."""
    case = _case_locked(case_id)
    day = today or timezone.localdate()
    device = case.device
    residual = residual_value(article=device.article, received_on=device.received_on, on=day)
    debit = debitable_value(article=device.article, residual=residual)
    debited = debit >= DEBIT_THRESHOLD_SEK
    transition_apply(
        machine=LOSS_MACHINE,
        obj=case,
        to_state=S.DEBITED if debited else S.WRITTEN_OFF,
        by=by,
        note=_("Debitable value by the rule for lost devices: %(value)s SEK") % {"value": debit},
        purchase_price_sek=_money(Decimal(device.article.price_sek)),
        residual_value_sek=residual,
        debit_sek=debit if debited else Decimal("0.00"),
        decided_on=day,
    )
    return case


def found_by(case: LossCase) -> datetime.date:
    """The last day the device can be found again: three months after it was reported."""
    return months_later(case.reported_on, FOUND_WITHIN_MONTHS)


@transaction.atomic
def loss_case_found(*, case_id: int, by: Any, today: datetime.date | None = None) -> LossCase:
    """The device turned up within three months: the case closes as found and the device goes
    to the workshop to be inspected (DEVICE-3). Later it stays lost."""
    case = _case_locked(case_id)
    day = today or timezone.localdate()
    if day > found_by(case):
        raise LogisticsError(
            _(
                "Loss case %(number)s was reported on %(day)s, more than three months ago: the "
                "device can no longer be found again."
            )
            % {"number": case.number, "day": case.reported_on.isoformat()}
        )
    transition_apply(machine=LOSS_MACHINE, obj=case, to_state=S.FOUND, by=by, found_on=day)
    device = Device.objects.select_for_update().get(pk=case.device_id)
    device_move(
        device=device,
        to_state=DeviceStatus.IN_WORKSHOP,
        by=by,
        note=_("Found again, loss case %(number)s; to inspection") % {"number": case.number},
        holder_kind=HolderKind.STORE,
        holder_patient=None,
        holder_unit=None,
        location=None,
    )
    return case

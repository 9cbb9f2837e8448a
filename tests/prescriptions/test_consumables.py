"""Consumables (issue 14, Sesam LMN): a quantity per period, withdrawals against it within what
remains, a time lock between withdrawals, each withdrawal an order released to logistics.
Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from patients.models import AccessEntry
from prescriptions.models import (
    ConsumablePrescription,
    ConsumableState,
    ConsumableTransition,
    ConsumableWithdrawal,
    DeliveryKind,
    OrderRelease,
    Prescription,
    PrescriptionState,
    WithdrawalTransition,
)
from prescriptions.services.consumables import (
    consumable_period,
    consumable_prescription_create,
    consumable_prescription_end,
    consumable_prescriptions_expire,
    consumable_status,
    consumable_withdrawal_create,
)
from prescriptions.services.errors import FieldRefused, RuleRefused, StateNotAllowed
from protection.models import Grant
from protection.refusals import PatientNotFound
from tests.personas import ctx_for
from tests.prescriptions.conftest import article

pytestmark = pytest.mark.django_db


def strips(*, interval: int = 25) -> Any:
    item = article("3.50", area_code="diabetes")
    item.product_area.withdrawal_interval_days = interval
    item.product_area.save()
    return item


def consumable(rx: Any, patient: Any, item: Any, **kwargs: Any) -> ConsumablePrescription:
    today = timezone.localdate()
    values: dict[str, Any] = {
        "quantity_per_period": 90,
        "period_months": 1,
        "valid_from": today - timedelta(days=3),
        "valid_to": today + timedelta(days=365),
        "need": "Blodsockermätning fyra gånger om dagen",
    } | kwargs
    return consumable_prescription_create(
        ctx=ctx_for(rx, stepped_up=True),
        patient_reference=patient.reference,
        article_id=item.pk,
        **values,
    )


def withdraw(user: Any, c: ConsumablePrescription, quantity: int) -> ConsumableWithdrawal:
    return consumable_withdrawal_create(ctx=ctx_for(user), reference=c.reference, quantity=quantity)


def test_consumables_prescriber_writes_a_quantity_per_period_with_history_and_log(rx, ordinary):
    c = consumable(rx, ordinary, strips())
    assert (c.state, c.quantity_per_period, c.prescriber_id) == (ConsumableState.ACTIVE, 90, rx.pk)
    assert list(
        ConsumableTransition.objects.filter(consumable=c).values_list("to_state", "by")
    ) == [("active", rx.pk)]
    assert AccessEntry.objects.filter(user=rx, patient=ordinary).exists()


def test_consumables_only_incontinence_diabetes_or_nutrition_articles(rx, ordinary):
    with pytest.raises(FieldRefused) as refused:
        consumable(rx, ordinary, article())  # a walker is no consumable
    assert refused.value.field == "article"
    assert not ConsumablePrescription.objects.exists()


def test_consumables_a_withdrawal_is_an_order_released_to_logistics_with_its_sale_fields(
    rx, ordinary, customer_service
):
    c = consumable(rx, ordinary, strips())
    w = withdraw(customer_service, c, 60)
    order = w.order
    assert order.state == PrescriptionState.APPROVED
    assert order.phone_order
    assert order.entered_by_id == customer_service.pk
    assert order.prescriber_id == rx.pk
    assert list(order.lines.values_list("article_id", "quantity")) == [(c.article_id, 60)]
    assert OrderRelease.objects.filter(prescription=order).exists()  # logistics picks it up
    assert (w.article_id, w.quantity, str(w.unit_price_sek)) == (c.article_id, 60, "3.50")
    assert list(
        WithdrawalTransition.objects.filter(withdrawal=w).values_list("to_state", "by")
    ) == [("ordered", customer_service.pk)]
    status = consumable_status(c)
    assert (status.withdrawn, status.remaining) == (60, 30)


def test_consumables_time_lock_refuses_with_the_day_the_next_withdrawal_is_possible(
    rx, ordinary, customer_service
):
    c = consumable(rx, ordinary, strips(interval=25))
    first = withdraw(customer_service, c, 30)
    next_day = timezone.localdate(first.withdrawn_at) + timedelta(days=25)
    with translation.override("sv"), pytest.raises(FieldRefused) as refused:
        withdraw(customer_service, c, 30)
    assert "nästa uttag" in str(refused.value).lower()
    assert next_day.isoformat() in str(refused.value)
    assert ConsumableWithdrawal.objects.count() == 1
    assert Prescription.objects.count() == 1  # the refused order rolled back with it
    # 25 days later the lock has run out.
    ConsumableWithdrawal.objects.filter(pk=first.pk).update(
        withdrawn_at=first.withdrawn_at - timedelta(days=25)
    )
    assert consumable_status(c).next_possible is None
    withdraw(customer_service, c, 30)
    assert ConsumableWithdrawal.objects.count() == 2


def test_consumables_a_withdrawal_takes_at_most_what_remains_of_the_period(
    rx, ordinary, customer_service
):
    c = consumable(rx, ordinary, strips(interval=0))
    withdraw(customer_service, c, 80)
    with translation.override("sv"), pytest.raises(FieldRefused) as refused:
        withdraw(customer_service, c, 11)
    assert refused.value.field == "quantity"
    assert "10" in str(refused.value)
    withdraw(customer_service, c, 10)
    assert consumable_status(c).remaining == 0


def test_consumables_an_ended_or_expired_prescription_takes_no_withdrawal(
    rx, ordinary, customer_service
):
    today = timezone.localdate()
    expired = consumable(
        rx, ordinary, strips(), valid_from=today - timedelta(days=90), valid_to=today - timedelta(1)
    )
    with pytest.raises(StateNotAllowed):
        withdraw(customer_service, expired, 1)
    ended = consumable(rx, ordinary, strips())
    consumable_prescription_end(ctx=ctx_for(rx), reference=ended.reference)
    with pytest.raises(StateNotAllowed):
        withdraw(customer_service, ended, 1)
    assert not ConsumableWithdrawal.objects.exists()


def test_consumables_periods_run_from_the_first_valid_day():
    c = ConsumablePrescription(
        valid_from=date(2026, 1, 31), valid_to=date(2026, 12, 31), period_months=1
    )
    assert consumable_period(c, date(2026, 2, 27)) == (date(2026, 1, 31), date(2026, 2, 27))
    assert consumable_period(c, date(2026, 2, 28)) == (date(2026, 2, 28), date(2026, 3, 30))
    q = ConsumablePrescription(
        valid_from=date(2026, 1, 15), valid_to=date(2026, 5, 1), period_months=3
    )
    assert consumable_period(q, date(2026, 4, 14)) == (date(2026, 1, 15), date(2026, 4, 14))
    assert consumable_period(q, date(2026, 4, 15)) == (date(2026, 4, 15), date(2026, 5, 1))


def test_presc_2_a_withdrawal_for_a_protected_patient_goes_to_the_prescribers_unit(
    rx, protected_patient, customer_service
):
    c = consumable(rx, protected_patient, strips())
    order = withdraw(customer_service, c, 30).order
    assert order.delivery_kind == DeliveryKind.UNIT
    assert order.delivery_contact_id == rx.pk
    assert order.delivery_unit_id is not None


def test_region_3_a_withdrawal_for_an_unregistered_out_of_region_patient_is_refused(
    rx, out_of_region, customer_service
):
    c = consumable(rx, out_of_region, strips())
    with translation.override("sv"), pytest.raises(RuleRefused) as refused:
        withdraw(customer_service, c, 30)
    assert refused.value.rule == "REGION-3"
    assert "registrering" in str(refused.value)
    assert not ConsumableWithdrawal.objects.exists()
    assert not Prescription.objects.exists()


def test_consumables_denied_a_prescriber_takes_no_withdrawal_and_customer_service_writes_none(
    rx, ordinary, customer_service
):
    c = consumable(rx, ordinary, strips())
    with pytest.raises(RuleRefused):
        withdraw(rx, c, 1)
    with pytest.raises(RuleRefused):
        consumable(customer_service, ordinary, strips())
    assert not ConsumableWithdrawal.objects.exists()


def test_consumables_denied_no_withdrawal_for_a_protected_patient_the_prescriber_lost(
    rx, protected_patient, customer_service
):
    c = consumable(rx, protected_patient, strips())
    Grant.objects.filter(user=rx).update(ended_at=timezone.now())
    with pytest.raises(PatientNotFound):
        withdraw(customer_service, c, 1)
    assert not ConsumableWithdrawal.objects.exists()


def test_access_8_a_consumable_prescription_in_force_keeps_the_case_open_until_it_ends(
    rx, protected_patient
):
    """Withdrawals come one at a time: between two, the unit has no open order for the patient,
    yet the prescription is in force, so the unit's grants stay; ending it closes the case."""
    from django.db import transaction

    from protection import tasks
    from protection.services.case_end import case_closed_record
    from tests.factories import UserFactory
    from tests.logistics.test_access_8_case_end import closed_and_handled, ended, unit_grant

    c = consumable(rx, protected_patient, strips())
    nurse = UserFactory(username="nurse", role="prescriber", unit=rx.staff_profile.unit)
    grant = unit_grant(nurse, protected_patient, c.unit_id, case=c.reference)

    # Another case of the unit closes (an order delivered, say): the consumable is still open.
    with transaction.atomic():
        assert case_closed_record(patient_id=protected_patient.pk, unit_id=c.unit_id)
    assert tasks.handle_case_closures() == 0
    assert ended(grant).ended_at is None

    closed_and_handled(
        lambda: consumable_prescription_end(ctx=ctx_for(rx, stepped_up=True), reference=c.reference)
    )
    assert ended(grant).ended_at is not None


def test_access_8_a_consumable_prescription_past_its_last_day_ends_and_closes_the_case(
    rx, protected_patient
):
    """Nobody ends a prescription that simply runs out: the daily task does, with a history row
    of its own, and the unit's grants end with the case (ACCESS-8). A second run ends nothing."""
    from protection import tasks
    from tests.factories import UserFactory
    from tests.logistics.test_access_8_case_end import ended, unit_grant

    today = timezone.localdate()
    c = consumable(rx, protected_patient, strips(), valid_to=today + timedelta(days=1))
    nurse = UserFactory(username="nurse", role="prescriber", unit=rx.staff_profile.unit)
    grant = unit_grant(nurse, protected_patient, c.unit_id, case=c.reference)

    # Its last day is still valid: nothing ends.
    assert consumable_prescriptions_expire(today=today + timedelta(days=1)) == 0
    assert tasks.handle_case_closures() == 0
    assert ended(grant).ended_at is None

    assert consumable_prescriptions_expire(today=today + timedelta(days=2)) == 1
    c.refresh_from_db()
    assert c.state == ConsumableState.ENDED
    moved = ConsumableTransition.objects.filter(consumable=c).order_by("pk").last()
    assert moved is not None
    assert (moved.from_state, moved.to_state, moved.by) == ("active", "ended", None)
    assert tasks.handle_case_closures() == 1
    assert ended(grant).ended_at is not None

    assert consumable_prescriptions_expire(today=today + timedelta(days=2)) == 0
    assert ConsumableTransition.objects.filter(consumable=c).count() == 2


def test_consumables_expiry_leaves_a_prescription_in_force_and_one_ended_early_alone(rx, ordinary):
    today = timezone.localdate()
    running = consumable(rx, ordinary, strips())
    early = consumable(rx, ordinary, strips(), valid_to=today + timedelta(days=5))
    consumable_prescription_end(ctx=ctx_for(rx, stepped_up=True), reference=early.reference)

    assert consumable_prescriptions_expire(today=today + timedelta(days=30)) == 0
    running.refresh_from_db()
    assert running.state == ConsumableState.ACTIVE
    assert ConsumableTransition.objects.filter(consumable=early).count() == 2

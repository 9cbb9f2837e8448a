"""The month's charges and the monthly run (BILL-1, BILL-7, REGION-4, REGION-6): idempotent
recompute, corrections after invoicing, one validated invoice per home region, lapsed claims,
deactivation after invoicing, and refusal when the official rules are missing."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from billing.errors import RulesUnavailable
from billing.models import (
    ChargeEvent,
    ChargeKind,
    Invoice,
    InvoiceKind,
    LapsedClaim,
    PayerKind,
    RunState,
)
from billing.peppol import peppol_validate
from billing.services.charges import charges_compute
from billing.services.runs import billing_run, system_context
from logistics.models import LossCase, PickupLine, PickupOrder, UrgentFee
from prescriptions.models import CareEpisode, InvoiceMark
from tests.billing.conftest import HOME_REGION, order_of, out_of_region
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The services' messages are asserted in English; the compiled catalogue is Swedish."""
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db

FEB = datetime.date(2026, 2, 1)
MAR = datetime.date(2026, 3, 1)


def run(month: datetime.date, user: Any, *, dry_run: bool = False, today: Any = None):
    return billing_run(
        month=month,
        dry_run=dry_run,
        ctx=system_context(user),
        today=today or month + datetime.timedelta(days=40),
    )


def test_bill_1_recomputing_a_month_charges_nothing_twice(lent_device, tariffs):
    out_of_region(lent_device)
    first = charges_compute(month=FEB)
    second = charges_compute(month=FEB)
    assert (first.created, second.created, second.unchanged) == (1, 0, 1)
    rent = ChargeEvent.objects.get(kind=ChargeKind.RENT)
    # Delivered on 2 February: 27 days at 4.50.
    assert (rent.quantity, rent.amount_sek) == (Decimal(27), Decimal("121.50"))
    assert (rent.payer_kind, rent.payer_region_id) == (PayerKind.HOME_REGION, HOME_REGION)


def test_bill_1_an_own_region_device_is_charged_to_the_prescribing_unit(lent_device, tariffs):
    charges_compute(month=FEB)
    rent = ChargeEvent.objects.get(kind=ChargeKind.RENT)
    assert rent.payer_kind == PayerKind.UNIT
    assert rent.payer_unit_id == order_of(lent_device).unit_id


def test_bill_1_the_run_issues_one_valid_invoice_per_home_region(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device, reference="AVT-2026-17")
    _urgent_fee(lent_device, datetime.date(2026, 2, 3))
    done = run(FEB, billing_officer)
    assert done.state == RunState.DONE, done.summary
    (invoice,) = Invoice.objects.all()
    assert invoice.kind == InvoiceKind.INVOICE
    assert (invoice.series, invoice.number) == ("F", 1)
    assert invoice.buyer_reference == "AVT-2026-17"
    assert invoice.total_payable_sek == Decimal("621.50")
    assert invoice.lines.count() == 2
    assert not peppol_validate(bytes(invoice.ubl_xml)).fatal
    xml = bytes(invoice.ubl_xml).decode()
    assert "Godkänd för F-skatt" in xml
    assert "AVT-2026-17" in xml
    assert not ChargeEvent.objects.filter(invoice_line__isnull=True, payer_kind="home_region")
    assert InvoiceMark.objects.get().invoiced_at is not None
    assert done.summary["invoices"][0]["number"] == "F1"
    # Run again: nothing new to invoice.
    again = run(FEB, billing_officer)
    assert again.summary["invoices"] == []
    assert Invoice.objects.count() == 1


def test_bill_1_a_preview_shows_the_invoices_and_changes_nothing(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    preview = run(FEB, billing_officer, dry_run=True)
    assert preview.dry_run
    assert [i["total_sek"] for i in preview.summary["invoices"]] == ["121.50"]
    assert not Invoice.objects.exists()
    assert not ChargeEvent.objects.exists()
    issued = run(FEB, billing_officer)
    assert issued.summary["invoices"][0]["number"] == "F1"


def test_bill_1_a_correction_after_invoicing_is_credited_by_the_next_run(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    run(FEB, billing_officer)
    # A pickup registered late: the rent stopped on 12 February, ten days charged, not 27.
    _pickup(lent_device, stops_on=datetime.date(2026, 2, 12))
    _urgent_fee(lent_device, datetime.date(2026, 3, 5))
    second = run(MAR, billing_officer)
    correction = ChargeEvent.objects.get(kind=ChargeKind.CORRECTION)
    assert correction.amount_sek == Decimal("-76.50")  # 17 days at 4.50
    assert correction.month == FEB
    assert correction.corrects is not None
    assert correction.corrects.kind == ChargeKind.RENT
    # March's invoice charges the fee and credits the difference, and passes the rules.
    assert Invoice.objects.filter(number=2).exists(), str(second.summary)
    march = Invoice.objects.get(number=2)
    assert march.total_payable_sek == Decimal("423.50")
    assert second.summary["invoices"][0]["number"] == "F2"
    assert not peppol_validate(bytes(march.ubl_xml)).fatal
    # Recomputing again finds nothing more to correct.
    assert charges_compute(month=FEB).corrections == 0


def test_bill_1_corrections_exceeding_the_charges_are_left_for_a_credit_note(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    run(FEB, billing_officer)
    _pickup(lent_device, stops_on=datetime.date(2026, 2, 12))
    second = run(MAR, billing_officer)
    assert second.summary["invoices"] == []
    assert "credit the earlier invoice" in second.summary["not_issued"][0]["message"]
    assert ChargeEvent.objects.get(kind=ChargeKind.CORRECTION).invoice_line is None


def _urgent_fee(device, day):
    fee = UrgentFee.objects.create(order=order_of(device), amount_sek=Decimal("500.00"))
    UrgentFee.objects.filter(pk=fee.pk).update(
        recorded_at=datetime.datetime(day.year, day.month, day.day, 10, tzinfo=datetime.UTC)
    )


def _pickup(device, *, stops_on):
    order = order_of(device)
    pickup_order = PickupOrder.objects.create(
        patient=order.patient,
        unit=order.unit,
        contact=order.orderer,
        channel="prescriber",
        created_by=order.orderer,
        registered_on=stops_on - datetime.timedelta(days=3),
        due_on=stops_on,
    )
    return PickupLine.objects.create(
        order=pickup_order, device=device, state="collected", rent_stops_on=stops_on
    )


def test_region_6_a_claim_six_months_after_delivery_lapses_and_four_months_warns(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    # Four and a half months after the delivery on 2 February: invoiced, with a warning.
    warned = run(FEB, billing_officer, today=datetime.date(2026, 6, 20))
    assert warned.summary["lapsing"] == [order_of(lent_device).number]
    assert Invoice.objects.count() == 1


def test_region_6_a_claim_older_than_six_months_is_flagged_not_invoiced(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    lapsed = run(FEB, billing_officer, today=datetime.date(2026, 8, 3))
    assert lapsed.summary["lapsed"] == 1
    assert not Invoice.objects.exists()
    assert LapsedClaim.objects.get().charge.kind == ChargeKind.RENT
    # Flagged once; a later run neither invoices nor flags it again.
    run(FEB, billing_officer, today=datetime.date(2026, 8, 4))
    assert LapsedClaim.objects.count() == 1
    assert not Invoice.objects.exists()


def test_region_4_after_invoicing_the_out_of_region_patient_is_deactivated(
    lent_device, tariffs, home_account, billing_officer
):
    mark = out_of_region(lent_device, deactivate=True)
    done = run(FEB, billing_officer)
    assert done.summary["deactivated"] == 1, done.summary
    episode = CareEpisode.objects.get(pk=mark.prescription.episode_id)
    assert episode.closed_at is not None


def test_region_4_a_patient_not_marked_for_deactivation_stays(
    lent_device, tariffs, home_account, billing_officer
):
    mark = out_of_region(lent_device, deactivate=False)
    run(FEB, billing_officer)
    assert CareEpisode.objects.get(pk=mark.prescription.episode_id).closed_at is None


def test_bill_7_an_invoice_with_fatal_findings_is_not_issued_and_the_findings_are_kept(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    # No buyer name: BT-44 is mandatory, the official rules refuse it.
    home_account.name = ""
    home_account.save()
    done = run(FEB, billing_officer)
    assert not Invoice.objects.exists()
    (refused,) = done.findings
    assert refused["findings"], refused
    assert all(f["flag"] == "fatal" for f in refused["findings"])
    assert done.summary["not_issued"][0]["fatal"] == len(refused["findings"])
    # The number went back with the refused invoice: the next one is still F1.
    home_account.name = "Region Jönköpings län"
    home_account.save()
    assert run(FEB, billing_officer).summary["invoices"][0]["number"] == "F1"


def test_bill_7_no_invoice_is_issued_when_the_rules_cannot_be_loaded(
    lent_device, tariffs, home_account, billing_officer, settings, tmp_path
):
    out_of_region(lent_device)
    settings.PEPPOL_RULES_DIR = tmp_path
    with pytest.raises(RulesUnavailable, match="rules could not be loaded"):
        run(FEB, billing_officer)
    assert not Invoice.objects.exists()
    assert not ChargeEvent.objects.exists()


def test_bill_1_charges_are_append_only_for_the_application_role(lent_device, tariffs):
    charges_compute(month=FEB)
    charge = ChargeEvent.objects.get()
    with connection.cursor() as cursor:
        for sql in (
            "UPDATE billing_chargeevent SET amount_sek = 0 WHERE id = %s",
            "DELETE FROM billing_chargeevent WHERE id = %s",
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                cursor.execute(sql, [charge.pk])
    charge.refresh_from_db()
    assert charge.amount_sek == Decimal("121.50")


def test_bill_7_an_issued_invoice_and_its_lines_cannot_change(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    run(FEB, billing_officer)
    invoice = Invoice.objects.get()
    line = invoice.lines.get()
    charge = ChargeEvent.objects.get()
    with connection.cursor() as cursor:
        for sql, pk in (
            (
                "UPDATE billing_invoice SET total_net_sek = 1, total_payable_sek = 1 WHERE id = %s",
                invoice.pk,
            ),
            ("UPDATE billing_invoice SET buyer_reference = 'x' WHERE id = %s", invoice.pk),
            ("DELETE FROM billing_invoice WHERE id = %s", invoice.pk),
            ("UPDATE billing_invoiceline SET amount_sek = 0 WHERE id = %s", line.pk),
            ("DELETE FROM billing_invoiceline WHERE id = %s", line.pk),
            # Invoiced once: the charge's link cannot be moved to another line or cleared.
            ("UPDATE billing_chargeevent SET invoice_line_id = NULL WHERE id = %s", charge.pk),
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                cursor.execute(sql, [pk])
        # The outbox state is the one thing that moves.
        cursor.execute("UPDATE billing_invoice SET state = 'sent' WHERE id = %s", [invoice.pk])
    invoice.refresh_from_db()
    assert (invoice.state, invoice.total_payable_sek) == ("sent", Decimal("121.50"))


def test_bill_1_the_billing_role_runs_the_month(billing_officer):
    assert billing_officer.has_perm("billing.run_billing")
    assert not UserFactory(username="annan", role="logistics").has_perm("billing.run_billing")


def test_bill_4_a_debited_loss_is_charged_to_the_care_unit_at_the_decided_value(lent_device):
    order = order_of(lent_device)
    LossCase.objects.create(
        device=lent_device,
        unit=order.unit,
        state="debited",
        reported_on=datetime.date(2026, 2, 10),
        purchase_price_sek=Decimal("2900.00"),
        residual_value_sek=Decimal("1450.00"),
        debit_sek=Decimal("1450.00"),
        decided_on=datetime.date(2026, 2, 16),
    )
    charges_compute(month=FEB)
    debit = ChargeEvent.objects.get(kind=ChargeKind.LOSS_DEBIT)
    assert (debit.payer_kind, debit.payer_unit_id) == (PayerKind.UNIT, order.unit_id)
    assert debit.amount_sek == Decimal("1450.00")
    assert debit.loss_case is not None
    assert debit.loss_case.number in debit.text

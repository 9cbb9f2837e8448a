"""The demo month (issue 12, "Demo and tests"): a freshly seeded demo holds last month's
deliveries, rent, an urgent fee, a repair, a lost device and Olof Berg's out-of-region rollator,
so that the README's ``billing_run`` for that month issues real invoices that pass the official
rules; the protected patient's charge names her in no issued e-invoice; a second run issues
nothing new."""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from billing.demo import KARL, KARL_FEE, OLOF, previous_month
from billing.models import ChargeEvent, ChargeKind, Invoice, PayerKind
from billing.services.patient_invoices import patient_invoices_issue
from billing.services.runs import system_context as billing_context
from logistics.demo import EVA
from patients.models import Patient
from protection.rls import system_context

pytestmark = pytest.mark.django_db


def _run(month: str) -> dict[str, Any]:
    out = StringIO()
    call_command("billing_run", "--month", month, "--user", "billing", stdout=out)
    summary: dict[str, Any] = json.loads(out.getvalue())
    return summary


def test_bill_1_bill_7_the_demo_month_is_invoiced_to_olof_bergs_home_region_and_names_no_protected_patient(  # noqa: E501
    shared_dir: Any,
) -> None:
    call_command("seed_demo", "--shared", str(shared_dir), stdout=StringIO())
    month = previous_month(timezone.localdate())
    with system_context():
        olof = Patient.objects.get(identity__personal_identity_number=OLOF)
        eva = Patient.objects.select_related("identity").get(identity__personal_identity_number=EVA)
        secrets = [
            eva.identity.given_names,
            eva.identity.surname,
            EVA,
            EVA[2:],
            *[str(v) for v in (eva.identity.registered_address or {}).values() if v],
        ]
    assert eva.is_protected

    first = _run(f"{month:%Y-%m}")

    assert first["state"] == "done"
    assert first["not_issued"] == []  # zero fatal findings, or the invoice would be listed here
    assert first["charges"]["problems"] == []
    kinds = set(ChargeEvent.objects.filter(month=month).values_list("kind", flat=True))
    assert {
        ChargeKind.RENT,
        ChargeKind.URGENT_FEE,
        ChargeKind.LABOUR,
        ChargeKind.PARTS,
        ChargeKind.LOSS_DEBIT,
    } <= kinds
    # The protected patient's charge exists (her urgent fee) ...
    assert ChargeEvent.objects.filter(month=month, patient_id=eva.pk).exists()
    # ... and Olof Berg's rent is invoiced to his home region, Stockholm (REGION-1).
    olof_rent = ChargeEvent.objects.get(month=month, patient_id=olof.pk, kind=ChargeKind.RENT)
    assert olof_rent.payer_kind == PayerKind.HOME_REGION
    assert olof_rent.invoice_line is not None
    # BILL-6: his repair's labour goes to the same home region, on an invoice too.
    labour = ChargeEvent.objects.get(month=month, patient_id=olof.pk, kind=ChargeKind.LABOUR)
    assert labour.payer_kind == PayerKind.HOME_REGION
    assert labour.invoice_line is not None
    issued = list(Invoice.objects.all())
    assert issued
    assert [i["number"] for i in first["invoices"]] == [f"{i.series}{i.number}" for i in issued]
    assert olof_rent.invoice_line.invoice.buyer_region_id == olof.home_region_id == "01"
    for invoice in issued:
        xml = bytes(invoice.ubl_xml).decode()
        for secret in secrets:
            assert secret not in xml
        assert not re.search(rf"\b{eva.birth_year}\b", xml)

    again = _run(f"{month:%Y-%m}")

    assert again["invoices"] == []
    assert again["charges"]["created"] == 0
    assert Invoice.objects.count() == len(issued)


def test_bill_5_the_demo_months_patient_fee_becomes_pa1_to_karl_lindqvist(shared_dir: Any) -> None:
    """The README's "Patientfakturor" step: the demo month holds Karl Lindqvist's own fee,
    which the patient invoices issue as PA1 to him (an ordinary patient, by letter)."""
    call_command("seed_demo", "--shared", str(shared_dir), stdout=StringIO())
    month = previous_month(timezone.localdate())
    _run(f"{month:%Y-%m}")
    officer = get_user_model().objects.get(username="billing")

    (invoice,) = patient_invoices_issue(ctx=billing_context(officer))

    with system_context():
        karl = Patient.objects.get(identity__personal_identity_number=KARL)
    assert str(invoice) == "PA1"
    assert invoice.account.patient_id == karl.pk
    assert invoice.total_sek == KARL_FEE
    assert invoice.letter_job is not None
    # Seeding again adds no second fee: nothing more to invoice.
    call_command("seed_demo", "--shared", str(shared_dir), stdout=StringIO())
    assert patient_invoices_issue(ctx=billing_context(officer)) == []

"""Issue 12's attacker's review of the billing floor: each finding with the test that failed
before its fix (LEAK-4, ACCESS-9, BILL-2)."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from billing.services.finance import finance_export
from billing.services.protected import patient_account_get
from patients.models import PatientIdentity
from patients.roles import BILLING
from protection.gate import protected_patients_open_to
from tests.billing.protected_helpers import person_invoice
from tests.personas import give_grant, logged_in

pytestmark = pytest.mark.django_db

MAR = datetime.date(2026, 3, 1)


def test_leak_4_a_file_naming_a_person_protected_before_the_move_ran_is_not_handed_out(
    client: Client, ordinary: Any, billing_officer: Any
) -> None:
    """The person became protected, and the task that moves their account (and lists the file
    for withdrawal) has not run yet: a lost message waits up to an hour for the sweep. The
    file still names them under their old customer number, so it is not handed out either."""
    account = patient_account_get(patient_id=ordinary.pk)
    old_number = account.customer_number
    person_invoice(account)
    export = finance_export(month=MAR, by=billing_officer, today=datetime.date(2026, 4, 2))
    assert old_number.encode() in bytes(export.content)
    ordinary.protected_registration = True
    ordinary.save()
    logged_in(client, billing_officer)
    response = client.get(f"/billing/finance-exports/{export.pk}/file/", follow=True)
    assert response.redirect_chain[-1][0] == "/billing/finance-exports/"
    assert "not handed out again" in response.content.decode()
    assert old_number not in response.content.decode()


@pytest.mark.parametrize("side", ["user", "group"])
def test_access_9_a_grant_holder_who_joins_billing_loses_the_grant(
    protected: PatientIdentity, prescriber: Any, side: str
) -> None:
    """Billing staff get no grants (ACCESS-9): the request and the decision refuse them, and a
    grant holder who joins billing afterwards (in the user admin or the group admin) keeps
    none either: the grant ends as the group is added."""
    grant = give_grant(prescriber, protected)
    assert protected.patient in protected_patients_open_to(prescriber)
    billing = Group.objects.get(name=BILLING)
    if side == "user":
        prescriber.groups.add(billing)
    else:
        billing.user_set.add(prescriber)
    assert protected.patient not in protected_patients_open_to(prescriber)
    grant.refresh_from_db()
    assert grant.ended_at is not None
    assert "billing" in grant.end_reason


def test_access_9_joining_another_role_keeps_the_grant(
    protected: PatientIdentity, prescriber: Any
) -> None:
    grant = give_grant(prescriber, protected)
    prescriber.groups.add(Group.objects.get(name="technician"))
    grant.refresh_from_db()
    assert grant.ended_at is None
    assert protected.patient in protected_patients_open_to(prescriber)


def test_bill_2_leak_4_the_e_invoice_export_writes_no_protected_persons_invoice(
    ordinary: Any, protected_patient: Any, tmp_path: Path
) -> None:
    """``export_invoices`` writes the month's documents as issued, for sending on: an invoice
    to a protected person is invoiced by hand, so it is never written, only counted."""
    to_protect = person_invoice(patient_account_get(patient_id=protected_patient.pk))
    ordinary_invoice = person_invoice(patient_account_get(patient_id=ordinary.pk))
    out = io.StringIO()
    call_command("export_invoices", "--month", "2026-03", "--out", str(tmp_path), stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["files"] == [f"{ordinary_invoice}.xml"]
    assert summary["manual"] == 1
    assert not (tmp_path / f"{to_protect}.xml").exists()

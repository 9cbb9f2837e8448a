"""README "The billing month" on the seeded demo: preview the previous month, issue it, credit
one invoice by a line, and export the month's e-invoices (BILL-1, BILL-7)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from billing.models import Invoice, InvoiceKind
from billing.peppol import peppol_validate
from billing.services.credits import credit_note_issue

RUN = "billing.run_billing"

pytestmark = pytest.mark.django_db


def _json(*args: str) -> Any:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def test_bill_1_bill_7_the_readme_billing_month_works_on_the_demo(
    shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "a-demo-password")
    call_command("seed_demo", "--shared", str(shared_dir), stdout=io.StringIO())
    today = timezone.localdate()
    previous = (today.replace(day=1) - timezone.timedelta(days=1)).strftime("%Y-%m")
    preview = _json("billing_run", "--month", previous, "--dry-run")
    assert not Invoice.objects.exists()
    run = _json("billing_run", "--month", previous)
    invoices = list(Invoice.objects.filter(kind=InvoiceKind.INVOICE))
    assert invoices, run
    # The preview showed what the run then issued, per invoice.
    assert preview["dry_run"] is True
    assert len(preview["invoices"]) == len(run["invoices"]) == len(invoices)
    again = _json("billing_run", "--month", previous)
    assert Invoice.objects.count() == len(invoices), again
    officer = next(u for u in get_user_model().objects.filter(is_active=True) if u.has_perm(RUN))
    note = credit_note_issue(
        invoice_id=invoices[0].pk, reason="Fel period", line_numbers=[1], by=officer
    )
    assert not peppol_validate(bytes(note.ubl_xml)).fatal
    exported = _json("export_invoices", "--month", previous, "--out", str(tmp_path))
    assert exported["files"] == [f"{document}.xml" for document in [*invoices, note]]

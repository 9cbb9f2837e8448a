"""BILL-1: the monthly run per home region, previewed or issued.

The run derives the month's charges and again the month before's (idempotent), then invoices
every home region's uninvoiced charges up to the month's end, one invoice per region and buyer
reference (BT-10 is one per invoice). REGION-6: a charge more than six months after its
delivery is flagged lapsed instead (each once); those past four months are listed as lapsing.
BILL-7: each invoice is validated before it is issued; one with fatal findings is not issued
and its findings are kept on the run; when the rules cannot be loaded nothing is issued.
REGION-4: after invoicing, the out-of-region hearing, diabetes and incontinence patients are
deactivated by the prescriptions floor's service.

A preview (dry run) does all of it in a transaction that is rolled back, so it shows exactly
what issuing would do and changes nothing but the run's own record."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.errors import BillingError, RulesUnavailable
from billing.models import (
    AccountKind,
    BillingAccount,
    BillingRun,
    ChargeEvent,
    InvoiceKind,
    LapsedClaim,
    PayerKind,
    RunState,
)
from billing.months import months_add
from billing.services.charges import charges_compute
from billing.services.issue import InvoiceRefused, LineDraft, findings_json, invoice_issue
from billing.services.numbering import INVOICE_SERIES
from patients.services import Actor
from prescriptions.models import HomeRegionAgreement, InvoiceMark
from prescriptions.services.errors import PrescriptionError
from prescriptions.services.region import out_of_region_deactivate
from protection.gate import AccessContext

RUN_LOCK_KEY = int.from_bytes(b"BILLRUN", "big")
LAPSE_MONTHS = 6
WARN_MONTHS = 4


class _Preview(Exception):
    """Rolls the preview's transaction back."""


@dataclass
class RunOutcome:
    invoices: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    lapsed: list[str] = field(default_factory=list)
    lapsing: list[str] = field(default_factory=list)
    deactivated: int = 0
    deactivation_pending: list[str] = field(default_factory=list)
    charges: dict[str, Any] = field(default_factory=dict)


def _claim_day(charge: ChargeEvent) -> datetime.date:
    return charge.delivered_on or charge.period_start


def _buyer_reference(charge: ChargeEvent, references: dict[int, str]) -> str:
    mark_prescription = charge.invoice_mark.prescription_id if charge.invoice_mark else None
    return references.get(mark_prescription or 0, "")


def _region_account(region_id: str) -> BillingAccount | None:
    return BillingAccount.objects.filter(kind=AccountKind.REGION, region_id=region_id).first()


def _line(charge: ChargeEvent) -> LineDraft:
    period = ""
    if charge.period_start != charge.period_end:
        period = f" {charge.period_start:%Y-%m-%d} - {charge.period_end:%Y-%m-%d}"
    return LineDraft(
        text=charge.text,
        description=f"Order {charge.order_number}{period}".strip() if charge.order_number else "",
        quantity=charge.quantity,
        unit_code=charge.unit_code,
        unit_price=charge.unit_price_sek,
        amount=charge.amount_sek,
        article_id=charge.article_id,
        article_number=charge.article.article_number if charge.article else "",
        period_start=charge.period_start,
        period_end=charge.period_end,
        order_number=charge.order_number,
    )


def _deactivate(marks: set[int], ctx: AccessContext, outcome: RunOutcome) -> None:
    """REGION-4 through the prescriptions floor's service, each in its own savepoint: a patient
    who cannot be deactivated yet (an open prescription) stays on the list for customer
    service, and the invoicing stands."""
    for mark in InvoiceMark.objects.filter(
        pk__in=marks, deactivate_after_invoicing=True
    ).select_related("prescription"):
        try:
            with transaction.atomic():
                out_of_region_deactivate(ctx=ctx, invoice_mark_id=mark.pk)
            outcome.deactivated += 1
        except PrescriptionError as error:
            outcome.deactivation_pending.append(f"{mark.prescription.reference}: {error}")


def _invoice_region(
    *,
    run: BillingRun,
    region_id: str,
    charges: list[ChargeEvent],
    references: dict[int, str],
    today: datetime.date,
    ctx: AccessContext,
    outcome: RunOutcome,
) -> None:
    account = _region_account(region_id)
    if account is None:
        outcome.refused.append(
            {
                "region": region_id,
                "message": _(
                    "No billing account for region %(region)s: add one under billing accounts."
                )
                % {"region": region_id},
                "findings": [],
            }
        )
        return
    by_reference: dict[str, list[ChargeEvent]] = defaultdict(list)
    for charge in charges:
        reference = _buyer_reference(charge, references) or account.default_buyer_reference
        by_reference[reference].append(charge)
    for reference, group in sorted(by_reference.items()):
        problem: dict[str, Any] = {"region": region_id, "reference": reference, "findings": []}
        if not reference:
            problem["message"] = _(
                "No buyer reference (BT-10) for region %(region)s: record the home region's "
                "agreement or the account's default buyer reference."
            ) % {"region": region_id}
            outcome.refused.append(problem)
            continue
        lines = [_line(charge) for charge in group]
        if sum((line.amount for line in lines), Decimal(0)) < 0:
            problem["message"] = _(
                "The corrections for region %(region)s exceed its charges: credit the earlier "
                "invoice instead."
            ) % {"region": region_id}
            outcome.refused.append(problem)
            continue
        try:
            with transaction.atomic():
                invoice = invoice_issue(
                    kind=InvoiceKind.INVOICE,
                    series=INVOICE_SERIES,
                    account=account,
                    buyer_reference=reference,
                    lines=lines,
                    issue_date=today,
                    period=(min(c.period_start for c in group), max(c.period_end for c in group)),
                    run=run,
                    by=ctx.user,
                )
        except InvoiceRefused as refused:
            problem["message"] = str(refused)
            problem["findings"] = findings_json(refused.findings)
            outcome.refused.append(problem)
            continue
        except BillingError as error:
            if isinstance(error, RulesUnavailable):
                raise
            problem["message"] = str(error)
            outcome.refused.append(problem)
            continue
        line_ids = list(invoice.lines.order_by("line_no").values_list("pk", flat=True))
        for charge, line_id in zip(group, line_ids, strict=True):
            ChargeEvent.objects.filter(pk=charge.pk, invoice_line__isnull=True).update(
                invoice_line_id=line_id
            )
        marks = {c.invoice_mark_id for c in group if c.invoice_mark_id}
        InvoiceMark.objects.filter(pk__in=marks, invoiced_at__isnull=True).update(
            invoiced_at=timezone.now()
        )
        _deactivate(marks, ctx, outcome)
        outcome.invoices.append(
            {
                "number": str(invoice),
                "region": region_id,
                "lines": len(lines),
                "total_sek": str(invoice.total_payable_sek),
                "warnings": len(invoice.findings),
            }
        )


def _run_body(
    *, run: BillingRun, ctx: AccessContext, today: datetime.date, outcome: RunOutcome
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RUN_LOCK_KEY])
    # The month before is derived again too: what was registered late (a pickup whose rent
    # stop has passed, a corrected work order) becomes a correction this run invoices.
    totals: dict[str, Any] = {"created": 0, "corrections": 0, "unchanged": 0, "problems": []}
    for month in (months_add(run.month, -1), run.month):
        computed = charges_compute(month=month)
        totals["created"] += computed.created
        totals["corrections"] += computed.corrections
        totals["unchanged"] += computed.unchanged
        totals["problems"] += computed.problems
    outcome.charges = totals
    due = (
        ChargeEvent.objects.filter(
            payer_kind=PayerKind.HOME_REGION,
            invoice_line__isnull=True,
            lapsed__isnull=True,
            month__lte=run.month,
        )
        .select_related("article", "invoice_mark")
        .order_by("payer_region_id", "pk")
    )
    if run.region_id:
        due = due.filter(payer_region_id=run.region_id)
    lapse_before = months_add(today, -LAPSE_MONTHS)
    warn_before = months_add(today, -WARN_MONTHS)
    per_region: dict[str, list[ChargeEvent]] = defaultdict(list)
    lapsed = []
    for charge in due:
        day = _claim_day(charge)
        if day < lapse_before:
            lapsed.append(LapsedClaim(charge=charge, run=run))
            outcome.lapsed.append(charge.order_number or str(charge.pk))
            continue
        if day < warn_before:
            outcome.lapsing.append(charge.order_number or str(charge.pk))
        assert charge.payer_region_id is not None
        per_region[charge.payer_region_id].append(charge)
    LapsedClaim.objects.bulk_create(lapsed)
    prescription_ids = {
        c.invoice_mark.prescription_id for cs in per_region.values() for c in cs if c.invoice_mark
    }
    references: dict[int, str] = {}
    for agreement in HomeRegionAgreement.objects.filter(
        prescription_id__in=prescription_ids
    ).order_by("issued_on", "pk"):
        references[agreement.prescription_id] = agreement.reference
    for region_id, charges in sorted(per_region.items()):
        _invoice_region(
            run=run,
            region_id=region_id,
            charges=charges,
            references=references,
            today=today,
            ctx=ctx,
            outcome=outcome,
        )


def billing_run(
    *,
    month: datetime.date,
    dry_run: bool,
    ctx: AccessContext,
    region_id: str | None = None,
    today: datetime.date | None = None,
) -> BillingRun:
    """Run (or preview) the month; returns the run with its summary. Safe to run again: what
    is invoiced is never invoiced twice. Raises RulesUnavailable (nothing issued) when the
    official rules cannot be loaded."""
    if month.day != 1 or month > timezone.localdate():
        raise BillingError(_("Choose a month that has begun, as YYYY-MM."))
    today = today or timezone.localdate()
    outcome = RunOutcome()
    run = BillingRun.objects.create(
        month=month,
        region_id=region_id,
        dry_run=dry_run,
        started_by=ctx.user if getattr(ctx.user, "is_authenticated", False) else None,
    )
    state = RunState.DONE
    message = ""
    try:
        with transaction.atomic():
            _run_body(run=run, ctx=ctx, today=today, outcome=outcome)
            if dry_run:
                raise _Preview
    except _Preview:
        pass
    except RulesUnavailable as error:
        state, message = RunState.REFUSED, str(error)
        outcome = RunOutcome()
    summary = {
        "month": f"{month:%Y-%m}",
        "region": region_id,
        "dry_run": dry_run,
        "state": str(state),
        "message": message,
        "charges": outcome.charges,
        "invoices": outcome.invoices,
        "not_issued": [
            {k: v for k, v in r.items() if k != "findings"} | {"fatal": len(r["findings"])}
            for r in outcome.refused
        ],
        "lapsed": len(outcome.lapsed),
        "lapsing": outcome.lapsing,
        "deactivated": outcome.deactivated,
        "deactivation_pending": outcome.deactivation_pending,
    }
    BillingRun.objects.filter(pk=run.pk).update(
        state=state,
        summary=summary,
        findings=outcome.refused,
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    if state == RunState.REFUSED:
        raise RulesUnavailable(message)
    return run


def system_context(user: Any) -> AccessContext:
    """The context of a run started from the command line, acting as ``user``."""
    actor = Actor(user_id=user.pk, unit_id=None, ip_address=None, session_ref="")
    return AccessContext(user=user, actor=actor, session=None)

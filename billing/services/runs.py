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
    ChargeKind,
    InvoiceKind,
    PayerKind,
    RunState,
)
from billing.months import months_add
from billing.services.charges import charges_compute
from billing.services.issue import InvoiceRefused, LineDraft, findings_json, invoice_issue
from billing.services.numbering import INVOICE_SERIES
from patients.services import Actor
from prescriptions.models import InvoiceMark
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
    lapsed: int = 0
    lapsing: list[str] = field(default_factory=list)
    deactivated: int = 0
    deactivation_pending: list[str] = field(default_factory=list)
    charges: dict[str, Any] = field(default_factory=dict)


# The run's due charges, one row each with the buyer reference and the invoice line they go
# on, in a temporary table (dropped at the end of the run): the charges are never loaded as
# objects, only the lines are, so the run's memory does not grow with the devices.
_DUE_CREATE = """
CREATE TEMPORARY TABLE billing_run_due AS
SELECT c.id, c.payer_region_id AS region_id, coalesce(agreement.reference, '') AS reference,
    c.invoice_mark_id, coalesce(c.delivered_on, c.period_start) AS claim_day,
    coalesce(nullif(c.order_number, ''), c.id::text) AS claim,
    c.text, c.quantity, c.unit_code, c.unit_price_sek, c.amount_sek, c.article_id,
    c.period_start, c.period_end, c.order_number,
    -- One line per article, month and price for what adds up exactly (whole quantities at a
    -- price in öre: the line's amount is its quantity times the price, EN 16931 / PEPPOL-R120);
    -- a correction, labour by the hour and the like keep a line of their own.
    CASE WHEN c.kind <> %(correction)s AND c.quantity = trunc(c.quantity)
         THEN concat_ws(':', c.kind, c.article_id, c.month, c.unit_code, c.unit_price_sek, c.text)
         ELSE 'charge:' || c.id
    END AS line_key
FROM billing_chargeevent c
LEFT JOIN prescriptions_invoicemark mark ON mark.id = c.invoice_mark_id
LEFT JOIN (
    SELECT DISTINCT ON (prescription_id) prescription_id, reference
    FROM prescriptions_homeregionagreement
    ORDER BY prescription_id, issued_on DESC, id DESC
) agreement ON agreement.prescription_id = mark.prescription_id
WHERE c.payer_kind = %(home_region)s AND c.invoice_line_id IS NULL AND c.month <= %(month)s
  AND (%(region)s::varchar IS NULL OR c.payer_region_id = %(region)s::varchar)
  AND NOT EXISTS (SELECT 1 FROM billing_lapsedclaim l WHERE l.charge_id = c.id)
"""

_LINES = """
SELECT line_key, min(text), sum(quantity), min(unit_code), min(unit_price_sek), sum(amount_sek),
    min(article_id), min(a.article_number), min(period_start), max(period_end),
    min(order_number), count(*)
FROM billing_run_due d LEFT JOIN prescriptions_article a ON a.id = d.article_id
WHERE region_id = %s AND reference = %s
GROUP BY line_key
ORDER BY min(d.id)
"""


def _line(row: tuple[Any, ...]) -> LineDraft:
    (_key, text, quantity, unit_code, price, amount, article_id, article_number) = row[:8]
    (period_start, period_end, order_number, charges) = row[8:]
    period = ""
    if period_start != period_end:
        period = f" {period_start:%Y-%m-%d} - {period_end:%Y-%m-%d}"
    if charges > 1:
        # The charges behind a grouped line keep their order numbers; the line counts them.
        description = f"{charges} debiteringar"
        order_number = ""
    else:
        description = f"Order {order_number}{period}".strip() if order_number else ""
    return LineDraft(
        text=text,
        description=description,
        quantity=quantity,
        unit_code=unit_code,
        unit_price=price,
        amount=amount,
        article_id=article_id,
        article_number=article_number or "",
        period_start=period_start,
        period_end=period_end,
        order_number=order_number,
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


def _region_account(region_id: str) -> BillingAccount | None:
    return BillingAccount.objects.filter(kind=AccountKind.REGION, region_id=region_id).first()


def _invoice_region(
    *,
    cursor: Any,
    run: BillingRun,
    region_id: str,
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
    cursor.execute(
        "UPDATE billing_run_due SET reference = %s WHERE region_id = %s AND reference = ''",
        [account.default_buyer_reference, region_id],
    )
    cursor.execute(
        "SELECT DISTINCT reference FROM billing_run_due WHERE region_id = %s ORDER BY 1",
        [region_id],
    )
    for (reference,) in cursor.fetchall():
        problem: dict[str, Any] = {"region": region_id, "reference": reference, "findings": []}
        if not reference:
            problem["message"] = _(
                "No buyer reference (BT-10) for region %(region)s: record the home region's "
                "agreement or the account's default buyer reference."
            ) % {"region": region_id}
            outcome.refused.append(problem)
            continue
        cursor.execute(_LINES, [region_id, reference])
        rows = cursor.fetchall()
        lines = [_line(row) for row in rows]
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
                    period=(
                        min(line.period_start for line in lines if line.period_start),
                        max(line.period_end for line in lines if line.period_end),
                    ),
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
        # Every charge to the line that bills it, as one statement (the line's key is its group).
        cursor.execute(
            """
            UPDATE billing_chargeevent c SET invoice_line_id = line.id
            FROM billing_run_due d
            JOIN unnest(%s::text[], %s::bigint[]) AS line(key, id) ON line.key = d.line_key
            WHERE c.id = d.id AND d.region_id = %s AND d.reference = %s
              AND c.invoice_line_id IS NULL
            """,
            [[row[0] for row in rows], line_ids, region_id, reference],
        )
        cursor.execute(
            "SELECT DISTINCT invoice_mark_id FROM billing_run_due "
            "WHERE region_id = %s AND reference = %s AND invoice_mark_id IS NOT NULL",
            [region_id, reference],
        )
        marks = {mark for (mark,) in cursor.fetchall()}
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
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS billing_run_due")
        cursor.execute(
            _DUE_CREATE,
            {
                "correction": ChargeKind.CORRECTION,
                "home_region": PayerKind.HOME_REGION,
                "month": run.month,
                "region": run.region_id,
            },
        )
        lapse_before = months_add(today, -LAPSE_MONTHS)
        cursor.execute(
            """
            WITH lapsed AS (
                DELETE FROM billing_run_due WHERE claim_day < %s RETURNING id
            )
            INSERT INTO billing_lapsedclaim (charge_id, run_id)
            SELECT id, %s FROM lapsed ORDER BY id
            """,
            [lapse_before, run.pk],
        )
        outcome.lapsed = cursor.rowcount
        # Each order number once, in the order the charges came.
        cursor.execute(
            """
            SELECT claim FROM billing_run_due WHERE claim_day < %s
            GROUP BY claim ORDER BY min(region_id), min(id)
            """,
            [months_add(today, -WARN_MONTHS)],
        )
        outcome.lapsing = [claim for (claim,) in cursor.fetchall()]
        cursor.execute("CREATE INDEX ON billing_run_due (region_id, reference, line_key)")
        cursor.execute("ANALYZE billing_run_due")
        cursor.execute("SELECT DISTINCT region_id FROM billing_run_due ORDER BY 1")
        for (region_id,) in cursor.fetchall():
            _invoice_region(
                cursor=cursor,
                run=run,
                region_id=region_id,
                today=today,
                ctx=ctx,
                outcome=outcome,
            )
        cursor.execute("DROP TABLE billing_run_due")


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
        "lapsed": outcome.lapsed,
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

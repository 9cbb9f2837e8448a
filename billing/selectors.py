"""Reads of the billing floor for users."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)

from billing.models import (
    BillingRun,
    ChargeEvent,
    ChargeKind,
    FinanceExport,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    LapsedClaim,
    ManualInvoiceItem,
    PatientInvoice,
    PayerKind,
    ProtectedAccountMove,
    RunState,
    Withdrawal,
)
from billing.months import month_end, months_add
from patients.models import Region


@dataclass(frozen=True)
class CostRow:
    label: str
    amount_sek: Decimal


@dataclass(frozen=True)
class HomeRegionCost:
    region_name: str
    rows: list[CostRow]
    total_sek: Decimal


def home_region_charges_of_patient(patient_id: int) -> QuerySet[ChargeEvent]:
    """The charges of the patient's care to their home region: what
    :func:`home_region_cost_for_patient` sums, whose existence the patient page asks first."""
    return ChargeEvent.objects.filter(patient_id=patient_id, payer_kind=PayerKind.HOME_REGION)


def home_region_cost_for_patient(patient_id: int) -> list[HomeRegionCost]:
    """BILL-6: what the patient's care has cost their home region so far, in full (devices,
    rent, labour, parts and fees, corrections included), per home region charged. One query for
    the sums, one for the regions' names; empty for a patient whose own region pays."""
    sums = (
        home_region_charges_of_patient(patient_id)
        .values_list("payer_region_id", "kind")
        .annotate(total=Sum("amount_sek"))
        .order_by("payer_region_id", "kind")
    )
    per_region: dict[str, list[CostRow]] = {}
    labels = dict(ChargeKind.choices)
    for region_id, kind, total in sums:
        per_region.setdefault(region_id, []).append(CostRow(str(labels[kind]), total))
    names = dict(Region.objects.filter(pk__in=per_region).values_list("pk", "name"))
    return [
        HomeRegionCost(
            region_name=names[region_id],
            rows=rows,
            total_sek=sum((row.amount_sek for row in rows), Decimal(0)),
        )
        for region_id, rows in per_region.items()
    ]


def manual_items_list(*, open_only: bool) -> QuerySet[ManualInvoiceItem]:
    """BILL-2, BILL-5: the manual-invoicing list, by secret customer number and order number
    (never a person)."""
    items = ManualInvoiceItem.objects.select_related(
        "account", "invoice", "patient_invoice", "charge", "handled_by"
    ).order_by("listed_at", "pk")
    if open_only:
        items = items.filter(handled_at__isnull=True)
    return items


def last_issued_run() -> BillingRun | None:
    """The latest run that issued (not a preview, not refused): "the last run" of BILL-3."""
    return (
        BillingRun.objects.filter(dry_run=False, state=RunState.DONE)
        .order_by("-started_at", "-pk")
        .first()
    )


def protected_moves_list(
    *, since: datetime.datetime | None = None
) -> QuerySet[ProtectedAccountMove]:
    """BILL-3: the accounts whose holder became protected since ``since`` (the last run), those
    not yet reviewed first; each with its review (one query). An older move still unreviewed
    stays listed: the review is owed until someone has made it. ``since`` None: all of them."""
    moves = ProtectedAccountMove.objects.select_related("account", "review__reviewed_by")
    if since is not None:
        moves = moves.filter(Q(moved_at__gte=since) | Q(review__isnull=True))
    return moves.order_by(F("review__reviewed_at").desc(nulls_first=True), "-moved_at", "-pk")


def withdrawals_list() -> QuerySet[Withdrawal]:
    """LEAK-4: invoices finance holds under an old number, to be withdrawn by hand."""
    return Withdrawal.objects.select_related(
        "invoice", "patient_invoice", "export", "move", "withdrawn_by"
    ).order_by(F("withdrawn_at").desc(nulls_first=True), "listed_at", "pk")


def finance_exports_list() -> QuerySet[FinanceExport]:
    # The file's bytes stay in the database until downloaded.
    return FinanceExport.objects.defer("content").select_related("created_by").order_by("-number")


@dataclass(frozen=True)
class BillingCounts:
    to_send: int
    rejected: int
    lapsed: int
    last_month_run: bool


def billing_counts(*, today: datetime.date) -> BillingCounts:
    """The billing role's start page: invoices waiting to be sent, rejected ones (an invoice
    still to be replaced, a credit note still to be sent again), lapsed claims, and whether
    last month has been invoiced (one query)."""
    last_month = months_add(today.replace(day=1), -1)
    row = Invoice.objects.aggregate(
        to_send=Count("pk", filter=Q(state=InvoiceState.ISSUED)),
        # A rejected credit note waits to be sent again, so it counts until it is.
        rejected=Count(
            "pk",
            filter=Q(state=InvoiceState.REJECTED)
            & (Q(_not_replaced()) | Q(kind=InvoiceKind.CREDIT_NOTE)),
        ),
    )
    ran = BillingRun.objects.filter(month=last_month, dry_run=False, state=RunState.DONE)
    return BillingCounts(
        to_send=int(row["to_send"]),
        rejected=int(row["rejected"]),
        lapsed=LapsedClaim.objects.count(),
        last_month_run=ran.exists(),
    )


def invoices_list(*, month: datetime.date | None, state: str, kind: str) -> QuerySet[Invoice]:
    """Invoices and credit notes, newest first, filtered by issue month, state and kind."""
    invoices = Invoice.objects.select_related("buyer_region", "credited_invoice").order_by(
        "-issued_at", "-number"
    )
    if month is not None:
        invoices = invoices.filter(issue_date__gte=month, issue_date__lte=month_end(month))
    if state:
        invoices = invoices.filter(state=state)
    if kind:
        invoices = invoices.filter(kind=kind)
    return invoices


def invoice_get(*, invoice_id: int) -> Invoice:
    """One invoice with its lines and state history; Invoice.DoesNotExist otherwise."""
    return (
        Invoice.objects.select_related("buyer_region", "credited_invoice", "pdf_job")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("line_no")),
            "transitions",
            "credit_notes",
        )
        .get(pk=invoice_id)
    )


def _not_replaced() -> Any:
    """A rejected invoice still to be credited and issued anew (``rejected_invoice_replace``):
    an invoice with a line no credit note has taken yet (a credit note before the rejection
    may have taken some)."""
    return Q(kind=InvoiceKind.INVOICE) & Exists(
        InvoiceLine.objects.filter(invoice=OuterRef("pk"), credited_by__isnull=True)
    )


def outbox_list(*, state: str) -> QuerySet[Invoice]:
    """The outbox: invoices in a sending state, the oldest first (what waits longest); each
    rejected invoice says whether it is still to be replaced (``to_replace``)."""
    return (
        Invoice.objects.select_related("buyer_region")
        .filter(state=state)
        .annotate(to_replace=ExpressionWrapper(Q(_not_replaced()), output_field=BooleanField()))
        .order_by("issued_at", "number")
    )


def lapsed_claims_list() -> QuerySet[LapsedClaim]:
    """REGION-6: claims flagged as lapsed, the newest first."""
    return LapsedClaim.objects.select_related("charge", "charge__payer_region").order_by(
        "-flagged_at", "-pk"
    )


def patient_invoices_list() -> QuerySet[PatientInvoice]:
    """BILL-5: the patient invoices, newest first, with their account and line count (one
    query)."""
    return (
        PatientInvoice.objects.select_related("account")
        .annotate(line_count=Count("lines"))
        .order_by("-number")
    )

"""The billing role's pages (issue 12): the month's run (preview and issue), invoices and
credit notes, the outbox, lapsed claims and KPI-3. Thin: reads through billing.selectors (and
the logistics floor's KPI-3 selector), writes through billing.services."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.errors import BillingError
from billing.models import Invoice, InvoiceKind, InvoiceState
from billing.months import month_parse, months_add
from billing.selectors import invoice_get, invoices_list, lapsed_claims_list, outbox_list
from billing.services.credits import credit_note_issue, rejected_invoice_replace
from billing.services.outbox import credit_note_send_again, invoice_send_on_commit
from billing.services.runs import billing_run
from logistics.selectors.pickups import losses_per_unit
from patients.models import Region
from protection.gate import AccessContext
from protection.permissions import role_permission_required

VIEW = "billing.view_invoice"
RUN = "billing.run_billing"
PAGE_SIZE = 50


def _month_field(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=gettext_lazy("As YYYY-MM, for example 2026-11."),
        max_length=7,
    )


def _clean_month(value: str) -> datetime.date:
    try:
        return month_parse(value)
    except ValueError:
        raise forms.ValidationError(
            gettext_lazy("Write the month as YYYY-MM, for example 2026-11.")
        ) from None


class RunForm(forms.Form):
    month = _month_field(gettext_lazy("Month"))
    region = forms.ModelChoiceField(
        label=gettext_lazy("Region"),
        queryset=Region.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All regions"),
    )
    # A ticked confirmation instead of a script's dialog (the CSP allows no inline script).
    confirm = forms.BooleanField(
        label=gettext_lazy("To issue: I confirm that the invoices are to be issued and sent"),
        required=False,
    )

    def clean_month(self) -> datetime.date:
        month = _clean_month(self.cleaned_data["month"])
        if month > timezone.localdate():
            raise forms.ValidationError(gettext_lazy("Choose a month that has begun."))
        return month


@never_cache
@login_required
@role_permission_required(RUN)
@require_http_methods(["GET", "POST"])
def run_view(request: HttpRequest) -> HttpResponse:
    """BILL-1: choose month and region; "Preview" runs the month without issuing (dry run),
    "Issue" issues it. Either shows the run's result with each invoice's validation (BILL-7)."""
    last = months_add(timezone.localdate().replace(day=1), -1)
    form = RunForm(request.POST or None, initial={"month": f"{last:%Y-%m}"})
    run = None
    if request.method == "POST" and form.is_valid():
        dry_run = request.POST.get("action") != "issue"
        if not dry_run and not form.cleaned_data["confirm"]:
            form.add_error("confirm", _("Tick the box to confirm, then issue the invoices."))
    if request.method == "POST" and form.is_valid():
        region = form.cleaned_data["region"]
        try:
            run = billing_run(
                month=form.cleaned_data["month"],
                dry_run=dry_run,
                ctx=AccessContext.from_request(request),
                region_id=region.pk if region else None,
            )
        except BillingError as error:
            form.add_error(None, str(error))
    status = 400 if form.is_bound and form.errors else 200
    context: dict[str, Any] = {"form": form, "summary": None}
    if run is not None:
        names = dict(Region.objects.values_list("pk", "name"))
        context["summary"] = run.summary
        context["invoices"] = [
            row | {"region_name": names.get(row["region"], row["region"])}
            for row in run.summary.get("invoices", [])
        ]
        context["refused"] = [
            problem
            | {
                "region_name": names.get(problem["region"], problem["region"]),
                "categories": finding_categories(problem.get("findings", [])),
            }
            for problem in run.findings
        ]
    return render(request, "billing/run.html", context, status=status)


# The common kinds of finding, in words a billing officer acts on; the rule ids stay in the
# folded "rules (for review)" list.
_CATEGORIES: tuple[tuple[str, Any], ...] = (
    ("BR-CO-", gettext_lazy("The totals do not add up.")),
    ("SE-R-", gettext_lazy("The seller's Swedish details (organisation number, F-tax, VAT).")),
    ("BR-E-", gettext_lazy("The VAT exemption (category E) and its reason.")),
    ("PEPPOL-", gettext_lazy("The Peppol network's requirements.")),
    ("BR-", gettext_lazy("A required part of the invoice is missing or wrong.")),
)


def finding_categories(findings: list[dict[str, Any]]) -> list[str]:
    """The findings' kinds in plain words, each once, in the table's order."""
    found: list[str] = []
    for finding in findings:
        rule = str(finding.get("rule", ""))
        for prefix, words in _CATEGORIES:
            if rule.startswith(prefix):
                if str(words) not in found:
                    found.append(str(words))
                break
        else:
            other = _("Another e-invoice rule.")
            if other not in found:
                found.append(other)
    return found


class InvoiceFilterForm(forms.Form):
    month = forms.CharField(
        label=gettext_lazy("Issued in month"),
        help_text=gettext_lazy("As YYYY-MM, for example 2026-11."),
        max_length=7,
        required=False,
    )
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        choices=[("", gettext_lazy("All states")), *InvoiceState.choices],
        required=False,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("", gettext_lazy("Invoices and credit notes")), *InvoiceKind.choices],
        required=False,
    )

    def clean_month(self) -> datetime.date | None:
        value = self.cleaned_data["month"]
        return _clean_month(value) if value else None


@never_cache
@login_required
@role_permission_required(VIEW)
@require_GET
def invoices_view(request: HttpRequest) -> HttpResponse:
    """Invoices and credit notes, filtered by month, state and kind."""
    form = InvoiceFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    data = form.cleaned_data if form.is_bound and valid else {}
    invoices = invoices_list(
        month=data.get("month"), state=data.get("state", ""), kind=data.get("kind", "")
    )
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/invoices.html",
        {"form": form, "page": page},
        status=200 if valid else 400,
    )


def _invoice(invoice_id: int) -> Invoice:
    try:
        return invoice_get(invoice_id=invoice_id)
    except Invoice.DoesNotExist:
        raise Http404 from None


class CreditForm(forms.Form):
    lines = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Lines to credit"),
        help_text=gettext_lazy("Leave all unticked to credit the whole invoice."),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)
    confirm = forms.BooleanField(
        label=gettext_lazy("I confirm that a credit note is to be issued and sent")
    )

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [  # type: ignore[attr-defined]
            (line.line_no, f"{line.line_no}: {line.text} ({line.amount_sek} kr)")
            for line in invoice.lines.all()
        ]


def _invoice_page(request: HttpRequest, invoice: Invoice, form: CreditForm) -> HttpResponse:
    return render(
        request,
        "billing/invoice.html",
        {
            "invoice": invoice,
            "form": form,
            "may_credit": invoice.kind == InvoiceKind.INVOICE,
            # A rejected invoice is replaced while a line of it is not credited (an earlier
            # credit note may have taken some); then it is dealt with.
            "rejected": invoice.state == InvoiceState.REJECTED
            and invoice.kind == InvoiceKind.INVOICE
            and invoice.lines.filter(credited_by__isnull=True).exists(),
            # A rejected credit note is sent again once the cause is fixed with the receiver.
            "send_again": invoice.state == InvoiceState.REJECTED
            and invoice.kind == InvoiceKind.CREDIT_NOTE,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@never_cache
@login_required
@role_permission_required(VIEW)
@require_GET
def invoice_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """An invoice or credit note: parties, lines, totals and state history."""
    invoice = _invoice(invoice_id)
    return _invoice_page(request, invoice, CreditForm(invoice=invoice))


@never_cache
@login_required
@role_permission_required(RUN)
@require_POST
def invoice_credit_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """BILL-7: credit an invoice wholly or by the lines ticked, with a reason and a ticked
    confirmation; a refusal is shown next to the form, what was typed kept."""
    invoice = _invoice(invoice_id)
    form = CreditForm(request.POST, invoice=invoice)
    if form.is_valid():
        chosen = form.cleaned_data["lines"] or None
        try:
            note = credit_note_issue(
                invoice_id=invoice.pk,
                reason=form.cleaned_data["reason"],
                line_numbers=chosen,
                by=request.user,
            )
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Credit note %(number)s issued (reason: %(reason)s).")
                % {"number": note, "reason": form.cleaned_data["reason"]},
            )
            return redirect("billing:invoice", invoice_id=note.pk)
    return _invoice_page(request, invoice, form)


@never_cache
@login_required
@role_permission_required(VIEW)
@require_GET
def invoice_xml_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The e-invoice as issued (UBL XML), as a download."""
    invoice = _invoice(invoice_id)
    response = HttpResponse(bytes(invoice.ubl_xml), content_type="application/xml")
    name = f"{invoice.series}-{invoice.number}.xml"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@never_cache
@login_required
@role_permission_required(RUN)
@require_POST
def invoice_replace_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """A rejected invoice: a credit note and a new invoice, never an edit."""
    invoice = _invoice(invoice_id)
    try:
        _note, new = rejected_invoice_replace(invoice_id=invoice.pk, by=request.user)
    except BillingError as error:
        messages.error(request, str(error))
        return redirect("billing:invoice", invoice_id=invoice.pk)
    messages.success(request, _("Credited and replaced by %(number)s.") % {"number": new})
    return redirect("billing:invoice", invoice_id=new.pk)


@never_cache
@login_required
@role_permission_required(VIEW)
@require_GET
def outbox_view(request: HttpRequest) -> HttpResponse:
    """The outbox: invoices by sending state, with attempts and the last error."""
    state = request.GET.get("state") or InvoiceState.ISSUED
    if state not in InvoiceState.values:
        state = InvoiceState.ISSUED
    page = Paginator(outbox_list(state=state), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/outbox.html",
        {"page": page, "state": state, "states": InvoiceState.choices},
    )


@never_cache
@login_required
@role_permission_required(RUN)
@require_POST
def invoice_send_again_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Send a waiting invoice again now (after a failed attempt), or a credit note the receiver
    rejected, back through the outbox."""
    invoice = _invoice(invoice_id)
    if invoice.state == InvoiceState.REJECTED:
        try:
            credit_note_send_again(invoice_id=invoice.pk, by=request.user)
        except BillingError as error:
            messages.error(request, str(error))
            return redirect("billing:invoice", invoice_id=invoice.pk)
        messages.success(request, _("%(number)s is being sent again.") % {"number": invoice})
    elif invoice.state != InvoiceState.ISSUED:
        messages.error(request, _("%(number)s is not waiting to be sent.") % {"number": invoice})
    else:
        invoice_send_on_commit(invoice.pk)
        messages.success(request, _("%(number)s is being sent again.") % {"number": invoice})
    return redirect("billing:outbox")


@never_cache
@login_required
@role_permission_required(VIEW)
@require_GET
def lapsed_view(request: HttpRequest) -> HttpResponse:
    """REGION-6: claims flagged as lapsed (older than six months after delivery)."""
    page = Paginator(lapsed_claims_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/lapsed.html", {"page": page})


DATE = forms.DateInput(attrs={"type": "date"})


class PeriodForm(forms.Form):
    since = forms.DateField(label=gettext_lazy("From"), widget=DATE)
    until = forms.DateField(label=gettext_lazy("To"), widget=DATE)


BAR_MAX = 300


@never_cache
@login_required
@role_permission_required(VIEW)
@require_GET
def losses_view(request: HttpRequest) -> HttpResponse:
    """KPI-3: losses per care unit, count and debited value, with a server-drawn bar chart
    (the logistics floor's selector)."""
    today = timezone.localdate()
    initial = {"since": datetime.date(today.year, 1, 1), "until": today}
    form = PeriodForm(request.GET or None, initial=initial)
    period = form.cleaned_data if form.is_bound and form.is_valid() else initial
    rows = losses_per_unit(since=period["since"], until=period["until"])
    top = max((row.value_sek for row in rows), default=Decimal(0))
    bars = [
        {
            "row": row,
            "y": 10 + index * 30,
            "width": int(row.value_sek / top * BAR_MAX) if top else 0,
        }
        for index, row in enumerate(rows)
    ]
    return render(
        request,
        "billing/losses.html",
        {
            "form": form,
            "rows": rows,
            "bars": bars,
            "height": 20 + len(rows) * 30,
            "since": period["since"],
            "until": period["until"],
        },
        status=400 if form.is_bound and form.errors else 200,
    )

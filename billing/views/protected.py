"""The billing floor's pages for protected persons and the finance system (B3): the
manual-invoicing list (BILL-2, BILL-5), the review of accounts whose holder became protected
with the withdrawals by hand (BILL-3, LEAK-4), and the finance exports. They show secret
customer numbers, invoice and order numbers only, never a person (ACCESS-9)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from billing.errors import BillingError
from billing.models import FinanceExport, ManualInvoiceItem, ProtectedAccountMove, Withdrawal
from billing.selectors import (
    finance_exports_list,
    last_issued_run,
    manual_items_list,
    protected_moves_list,
    withdrawals_list,
)
from billing.services.finance import export_resend_check
from billing.services.protected import (
    MANUAL_PERMISSION,
    REVIEW_PERMISSION,
    WITHDRAW_PERMISSION,
    manual_item_handle,
    protected_account_review,
    withdrawal_done,
)
from protection.permissions import role_permission_required

VIEW_MANUAL = "billing.view_manualinvoiceitem"
VIEW_MOVES = "billing.view_protectedaccountmove"
VIEW_EXPORTS = "billing.view_financeexport"
LIST_LIMIT = 200


@never_cache
@login_required
@role_permission_required(VIEW_MANUAL)
@require_GET
def manual_list_view(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("show") == "all"
    return render(
        request,
        "billing/protected/manual.html",
        {"items": list(manual_items_list(open_only=not show_all)[:LIST_LIMIT]), "all": show_all},
    )


@login_required
@role_permission_required(MANUAL_PERMISSION)
@require_POST
def manual_handle_view(request: HttpRequest, manual_item_id: int) -> HttpResponse:
    if not ManualInvoiceItem.objects.filter(pk=manual_item_id).exists():
        raise Http404
    try:
        manual_item_handle(by=request.user, item_id=manual_item_id)
    except BillingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Marked as invoiced by hand."))
    return redirect("billing:manual")


@never_cache
@login_required
@role_permission_required(VIEW_MOVES)
@require_GET
def protected_review_view(request: HttpRequest) -> HttpResponse:
    """BILL-3: the month's review lists the accounts whose holder became protected since the
    last run (and any still unreviewed); "show all" lists every move."""
    show_all = request.GET.get("show") == "all"
    last_run = None if show_all else last_issued_run()
    since = last_run.started_at if last_run is not None else None
    return render(
        request,
        "billing/protected/review.html",
        {
            "moves": list(protected_moves_list(since=since)[:LIST_LIMIT]),
            "withdrawals": list(withdrawals_list()[:LIST_LIMIT]),
            "since": since,
            "all": show_all,
        },
    )


@login_required
@role_permission_required(REVIEW_PERMISSION)
@require_POST
def protected_reviewed_view(request: HttpRequest, move_id: int) -> HttpResponse:
    if not ProtectedAccountMove.objects.filter(pk=move_id).exists():
        raise Http404
    try:
        protected_account_review(by=request.user, move_id=move_id)
    except BillingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The account is marked as reviewed."))
    return redirect("billing:protected_review")


@login_required
@role_permission_required(WITHDRAW_PERMISSION)
@require_POST
def withdrawal_done_view(request: HttpRequest, withdrawal_id: int) -> HttpResponse:
    if not Withdrawal.objects.filter(pk=withdrawal_id).exists():
        raise Http404
    try:
        withdrawal_done(by=request.user, withdrawal_id=withdrawal_id)
    except BillingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The invoice is marked as withdrawn from finance."))
    return redirect("billing:protected_review")


@never_cache
@login_required
@role_permission_required(VIEW_EXPORTS)
@require_GET
def exports_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "billing/protected/exports.html",
        {"exports": list(finance_exports_list()[:LIST_LIMIT])},
    )


@never_cache
@login_required
@role_permission_required(VIEW_EXPORTS)
@require_GET
def export_file_view(request: HttpRequest, export_id: int) -> HttpResponse:
    export = FinanceExport.objects.filter(pk=export_id).first()
    if export is None:
        raise Http404
    try:
        export_resend_check(export)
    except BillingError as error:
        messages.error(request, str(error))
        return redirect("billing:exports")
    extension = "sie" if export.format == "sie" else "txt"
    response = HttpResponse(bytes(export.content), content_type="application/octet-stream")
    response["Content-Disposition"] = (
        f'attachment; filename="finans-{export.month:%Y-%m}-{export.number}.{extension}"'
    )
    return response

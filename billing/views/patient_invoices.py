"""BILL-5: the patient invoices page: the letters invoicing ordinary patients' fees, and the
button that invoices the fees not yet invoiced (a protected person's go to the manual list).
Customer and invoice numbers only: the person's name and address are on the letter alone."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from billing.errors import BillingError
from billing.selectors import patient_invoices_list
from billing.services.patient_invoices import RUN_PERMISSION, patient_invoices_issue
from protection.gate import AccessContext
from protection.permissions import holds_role_permission, role_permission_required

VIEW = "billing.view_invoice"
PAGE_SIZE = 50


@never_cache
@login_required
@role_permission_required(VIEW)
@require_GET
def patient_invoices_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(patient_invoices_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/patient_invoices.html",
        {"page": page, "may_issue": holds_role_permission(request.user, RUN_PERMISSION)},
    )


@login_required
@role_permission_required(RUN_PERMISSION)
@require_POST
def patient_invoices_issue_view(request: HttpRequest) -> HttpResponse:
    try:
        issued = patient_invoices_issue(ctx=AccessContext.from_request(request))
    except BillingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d patient invoice issued.",
                "%(count)d patient invoices issued.",
                len(issued),
            )
            % {"count": len(issued)},
        )
    return redirect("billing:patient_invoices")

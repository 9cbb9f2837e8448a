"""The customer order pages: "Öppna kundorder" for the prescriber, one order's page (lines,
promise per line, history, cancelling with a confirmation), and allocation for the store."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from logistics.selectors.orders import (
    VIEW_PRESCRIPTION,
    WORK_ORDERS,
    OrderDetail,
    order_get_for_user,
    orders_mine_for_user,
)
from logistics.services.errors import LogisticsError
from logistics.services.orders import order_cancel, orders_allocate
from patients.presenters import prints_only_notice
from protection.gate import AccessContext
from protection.permissions import holds_role_permission, role_permission_required


class CancelOrderForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=300,
        help_text=gettext_lazy("Why the order is cancelled. Never a name or personnummer."),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("Yes, cancel the order (or the chosen lines)"), required=True
    )
    lines = forms.MultipleChoiceField(
        label=gettext_lazy("Only these lines"), required=False, widget=forms.CheckboxSelectMultiple
    )


def _cancel_form(detail: OrderDetail, data: Any = None) -> CancelOrderForm:
    form = CancelOrderForm(data)
    lines_field = form.fields["lines"]
    assert isinstance(lines_field, forms.MultipleChoiceField)
    lines_field.choices = [
        (str(line.pk), f"{line.position}: {line.article.name}")
        for line in detail.lines
        if line.state in ("received", "backordered", "allocated", "picking", "picked", "packed")
    ]
    return form


@never_cache
@login_required
@role_permission_required(VIEW_PRESCRIPTION)
@require_GET
def orders_mine_view(request: HttpRequest) -> HttpResponse:
    rows = orders_mine_for_user(ctx=AccessContext.from_request(request))
    return render(
        request,
        "logistics/orders/mine.html",
        # PRINT-1: a list naming a protected (or linked, or hidden) patient prints only a notice.
        {"rows": rows, "protected": prints_only_notice(row.card for row in rows)},
    )


def _page(
    request: HttpRequest,
    detail: OrderDetail,
    form: CancelOrderForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "logistics/orders/detail.html",
        {
            "detail": detail,
            "order": detail.order,
            "protected": prints_only_notice([detail.card]),
            "cancel_form": form or (_cancel_form(detail) if detail.may_cancel else None),
        },
        status=status,
    )


@never_cache
@login_required
@require_GET
def order_detail_view(request: HttpRequest, number: str) -> HttpResponse:
    return _page(
        request, order_get_for_user(ctx=AccessContext.from_request(request), number=number)
    )


@never_cache
@login_required
@require_POST
def order_cancel_view(request: HttpRequest, number: str) -> HttpResponse:
    detail = order_get_for_user(ctx=AccessContext.from_request(request), number=number)
    form = _cancel_form(detail, request.POST)
    if not form.is_valid():
        return _page(request, detail, form, status=400)
    chosen = [int(pk) for pk in form.cleaned_data["lines"]] or None
    try:
        order_cancel(
            by=request.user, number=number, reason=form.cleaned_data["reason"], line_ids=chosen
        )
    except LogisticsError as exc:
        form.add_error(None, str(exc))
        return _page(request, detail, form, status=400)
    messages.success(request, _("Order %(number)s is cancelled.") % {"number": number})
    return redirect(reverse("logistics:order", args=[number]))


@never_cache
@login_required
@require_POST
def orders_allocate_view(request: HttpRequest) -> HttpResponse:
    if not holds_role_permission(request.user, WORK_ORDERS):
        raise PermissionDenied
    result = orders_allocate(by=request.user)
    messages.success(
        request,
        _("%(allocated)s lines allocated, %(waiting)s waiting for stock.")
        % {"allocated": result.allocated, "waiting": result.backordered},
    )
    return redirect(request.POST.get("next") or reverse("logistics:orders_mine"))

"""Direct deliveries by suppliers (LOG-3, LEAK-4), for logistics staff: the list of what is
with the suppliers and of withdrawals to confirm, and one delivery's page, where the supplier's
report of delivery is recorded."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from logistics.models import DirectDeliveryState
from logistics.selectors.direct import (
    direct_deliveries_with_suppliers,
    direct_delivery_get_for_user,
    direct_withdrawals_open,
)
from logistics.services.direct import direct_delivery_confirm, direct_delivery_withdrawal_confirm
from logistics.services.errors import LogisticsError
from protection.gate import AccessContext
from protection.permissions import role_permission_required

WORK = "logistics.work_orders"


class ConfirmForm(forms.Form):
    delivered_on = forms.DateField(
        label=gettext_lazy("Delivered on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    received_by = forms.CharField(label=gettext_lazy("Received by"), max_length=200)

    def __init__(
        self, *args: object, serial_lines: list[tuple[int, str]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for line_id, label in serial_lines:
            self.fields[f"serial_{line_id}"] = forms.CharField(
                label=label, max_length=64, required=True
            )

    def serials(self) -> dict[int, str]:
        return {
            int(name.removeprefix("serial_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("serial_")
        }


@login_required
@role_permission_required(WORK)
@require_GET
def direct_deliveries_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "logistics/direct/list.html",
        {
            "with_suppliers": list(direct_deliveries_with_suppliers()),
            "withdrawals": list(direct_withdrawals_open()),
        },
    )


@login_required
@role_permission_required(WORK)
def direct_delivery_view(request: HttpRequest, delivery_id: int) -> HttpResponse:
    page = direct_delivery_get_for_user(
        ctx=AccessContext.from_request(request), delivery_id=delivery_id
    )
    serial_lines = [
        (
            line.pk,
            _("Serial number, line %(position)s (%(article)s)")
            % {"position": line.position, "article": line.article.article_number},
        )
        for line in page.lines
        if line.article.serial_numbered and line.state == "received"
    ]
    form = None
    if page.delivery.state == DirectDeliveryState.ORDERED:
        form = ConfirmForm(
            request.POST or None,
            serial_lines=serial_lines,
            initial={"delivered_on": timezone.localdate()},
        )
    if request.method == "POST":
        if form is None:
            messages.error(request, _("This direct delivery is no longer with the supplier."))
            return redirect("logistics:direct_delivery", delivery_id=delivery_id)
        if form.is_valid():
            day: datetime.date = form.cleaned_data["delivered_on"]
            try:
                direct_delivery_confirm(
                    delivery_id=delivery_id,
                    delivered_on=day,
                    received_by=form.cleaned_data["received_by"],
                    serials=form.serials(),
                    by=request.user,
                )
            except LogisticsError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("Delivery of order %(number)s by the supplier is recorded.")
                    % {"number": page.delivery.order.number},
                )
                return redirect("logistics:direct_deliveries")
    status = 400 if form is not None and form.is_bound and form.errors else 200
    return render(
        request, "logistics/direct/detail.html", {"page": page, "form": form}, status=status
    )


@login_required
@role_permission_required(WORK)
@require_POST
def direct_withdrawal_confirm_view(request: HttpRequest, delivery_id: int) -> HttpResponse:
    try:
        delivery = direct_delivery_withdrawal_confirm(delivery_id=delivery_id, by=request.user)
    except LogisticsError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Recorded: %(supplier)s has been told to stop order %(number)s.")
            % {"supplier": delivery.supplier.name, "number": delivery.order.number},
        )
    return redirect("logistics:direct_deliveries")

"""The loss process's pages (DEVICE-4, BILL-4, KPI-3) and the workshop's reconditioning of a
returned device (DEVICE-3), for logistics staff and customer service. Devices, articles and
units only: no patient is named."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from logistics.models import Device, DeviceStatus, LocationKind, LossCase, LossState, StockLocation
from logistics.selectors.pickups import loss_case_get, loss_cases_list, losses_per_unit
from logistics.services.errors import LogisticsError
from logistics.services.losses import (
    REPORTABLE,
    found_by,
    loss_case_decide,
    loss_case_found,
    loss_device_report_by_call,
)
from logistics.services.reconditioning import reconditioning_decide
from protection.permissions import holds_role_permission, role_permission_required

VIEW_LOSSES = "logistics.view_losscase"
DECIDE_LOSSES = "logistics.change_losscase"
VIEW_KPI = "logistics.view_kpi"
WORK = "logistics.work_orders"
LIST_LIMIT = 200


@never_cache
@login_required
@role_permission_required(VIEW_LOSSES)
@require_GET
def losses_view(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in LossState.values:
        state = ""
    return render(
        request,
        "logistics/losses/list.html",
        {
            "cases": list(loss_cases_list(state=state)[:LIST_LIMIT]),
            "state": state,
            "states": LossState.choices,
            "links_kpi": holds_role_permission(request.user, VIEW_KPI),
        },
    )


@never_cache
@login_required
@role_permission_required(VIEW_LOSSES)
@require_GET
def loss_case_view(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        page = loss_case_get(case_id=case_id)
    except LossCase.DoesNotExist:
        raise Http404 from None
    case = page.case
    today = timezone.localdate()
    return render(
        request,
        "logistics/losses/detail.html",
        {
            "page": page,
            "case": case,
            "found_by": found_by(case),
            "may_change": holds_role_permission(request.user, DECIDE_LOSSES),
            "may_decide": case.state == LossState.REPORTED,
            "may_find": case.state != LossState.FOUND and today <= found_by(case),
        },
    )


@login_required
@role_permission_required(DECIDE_LOSSES)
@require_POST
def loss_case_decide_view(request: HttpRequest, case_id: int) -> HttpResponse:
    if not LossCase.objects.filter(pk=case_id).exists():
        raise Http404
    try:
        case = loss_case_decide(case_id=case_id, by=request.user)
    except LogisticsError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Loss case %(number)s: %(state)s.")
            % {"number": case.number, "state": LossState(case.state).label},
        )
    return redirect("logistics:loss_case", case_id=case_id)


@login_required
@role_permission_required(DECIDE_LOSSES)
@require_POST
def loss_case_found_view(request: HttpRequest, case_id: int) -> HttpResponse:
    if not LossCase.objects.filter(pk=case_id).exists():
        raise Http404
    try:
        case = loss_case_found(case_id=case_id, by=request.user)
    except LogisticsError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Loss case %(number)s: the device is found and goes to inspection.")
            % {"number": case.number},
        )
    return redirect("logistics:loss_case", case_id=case_id)


class LossKpiForm(forms.Form):
    since = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"})
    )


@never_cache
@login_required
@role_permission_required(VIEW_KPI)
@require_GET
def loss_kpi_view(request: HttpRequest) -> HttpResponse:
    """KPI-3: losses per care unit, count and value, for a period (the year so far)."""
    today = timezone.localdate()
    initial = {"since": datetime.date(today.year, 1, 1), "until": today}
    form = LossKpiForm(request.GET or None, initial=initial)
    period = form.cleaned_data if form.is_bound and form.is_valid() else initial
    return render(
        request,
        "logistics/losses/kpi.html",
        {
            "form": form,
            "rows": losses_per_unit(since=period["since"], until=period["until"]),
            "since": period["since"],
            "until": period["until"],
        },
        status=400 if form.is_bound and form.errors else 200,
    )


class ReconditioningForm(forms.Form):
    inspection_passed = forms.TypedChoiceField(
        label=gettext_lazy("Cleaned and inspected: the result"),
        choices=[
            ("yes", gettext_lazy("Passed the inspection")),
            ("no", gettext_lazy("Failed the inspection")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("Back to store"),
        queryset=StockLocation.objects.none(),
        required=False,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["store"].queryset = StockLocation.objects.filter(  # type: ignore[attr-defined]
            kind=LocationKind.CENTRAL
        ).order_by("name")


@login_required
@role_permission_required(WORK)
@require_POST
def device_reconditioning_view(request: HttpRequest, device_id: int) -> HttpResponse:
    """DEVICE-3: the workshop records the cleaning and inspection; the policy decides."""
    if not Device.objects.filter(pk=device_id, status=DeviceStatus.IN_WORKSHOP).exists():
        raise Http404
    form = ReconditioningForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Record the result of the inspection."))
        return redirect("logistics:device", device_id=device_id)
    store = form.cleaned_data["store"]
    try:
        decision = reconditioning_decide(
            device_id=device_id,
            inspection_passed=form.cleaned_data["inspection_passed"],
            store_id=store.pk if store is not None else None,
            by=request.user,
        )
    except LogisticsError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(outcome)s: %(reason)s")
            % {"outcome": decision.get_outcome_display().capitalize(), "reason": decision.reason},
        )
    return redirect("logistics:device", device_id=device_id)


@login_required
@role_permission_required(DECIDE_LOSSES)
@require_POST
def device_report_lost_view(request: HttpRequest, device_id: int) -> HttpResponse:
    """DEVICE-4: customer service records that the holder has lost the device."""
    if not Device.objects.filter(pk=device_id, status__in=REPORTABLE).exists():
        raise Http404
    try:
        case = loss_device_report_by_call(device_id=device_id, by=request.user)
    except LogisticsError as error:
        messages.error(request, str(error))
        return redirect("logistics:device", device_id=device_id)
    messages.success(
        request,
        _("Reported lost: loss case %(number)s is opened.") % {"number": case.number},
    )
    return redirect("logistics:loss_case", case_id=case.pk)

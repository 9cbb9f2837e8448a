"""KPI-4: the assortment owner's follow-up of replacement groups, per quarter."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from logistics.selectors.replacement_followup import replacement_group_follow_up
from prescriptions.selectors.followup import Quarter
from prescriptions.views.followup import FOLLOW_UP, QuarterForm
from protection.permissions import role_permission_required


@login_required
@role_permission_required(FOLLOW_UP)
@require_GET
def replacement_follow_up_view(request: HttpRequest) -> HttpResponse:
    current = Quarter.of(timezone.localdate())
    default = {"year": current.year, "quarter": current.quarter}
    form = QuarterForm(request.GET if "year" in request.GET else default)
    rows = quarter = None
    if form.is_valid():
        quarter = Quarter(form.cleaned_data["year"], form.cleaned_data["quarter"])
        rows = replacement_group_follow_up(quarter=quarter)
    return render(
        request,
        "logistics/kpi/replacement_groups.html",
        {"form": form, "rows": rows, "quarter": quarter},
    )

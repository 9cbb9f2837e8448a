"""KPI-5: the assortment owner's follow-up of prescribing, per quarter (no patient data)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from prescriptions.selectors.followup import Quarter, prescribing_follow_up
from protection.permissions import role_permission_required

FOLLOW_UP = "prescriptions.follow_up_assortment"


class QuarterForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=gettext_lazy("Quarter"),
        coerce=int,
        choices=[(n, str(n)) for n in range(1, 5)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].widget.attrs["inputmode"] = "numeric"


@login_required
@role_permission_required(FOLLOW_UP)
@require_GET
def follow_up_view(request: HttpRequest) -> HttpResponse:
    current = Quarter.of(timezone.localdate())
    data = (
        request.GET if "year" in request.GET else {"year": current.year, "quarter": current.quarter}
    )
    form = QuarterForm(data)
    report = None
    if form.is_valid():
        report = prescribing_follow_up(
            quarter=Quarter(form.cleaned_data["year"], form.cleaned_data["quarter"])
        )
    return render(
        request, "prescriptions/catalogue/follow_up.html", {"form": form, "report": report}
    )

"""KPI-1's pages: delivery reliability per month, kind and agreement type as a table (the
accessible form) and server-rendered SVG charts, and one cell's missed lines one click away.
``logistics.view_kpi`` only. The query parameters (month, kind, agreement type) hold no
identity; the lists show order numbers, articles and units, never a patient."""

from __future__ import annotations

import datetime
import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from logistics.selectors.kpi import (
    AGREEMENTS,
    KIND_LABELS,
    KINDS,
    TARGETS,
    kpi1_missed_lines,
    kpi1_table,
    months_back,
)
from logistics.views.kpi_chart import chart_for
from prescriptions.models import AgreementType
from protection.permissions import role_permission_required

VIEW_KPI = "logistics.view_kpi"
PAGE_SIZE = 50
MONTHS_TO_CHOOSE = 36
# \Z, not $: "2026-01\n" is no month. Year 0000 passes the pattern but is no date.
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])\Z")


def month_key(month: datetime.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def month_parse(text: str) -> datetime.date | None:
    match = MONTH_RE.match(text or "")
    if match is None:
        return None
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return None


class MonthForm(forms.Form):
    until = forms.ChoiceField(label=gettext_lazy("Show the 12 months up to"), required=False)

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["until"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (month_key(m), dateformat.format(m, "F Y"))
            for m in reversed(months_back(today, MONTHS_TO_CHOOSE))
        ]


def row_heading(agreement: AgreementType, kind: str) -> str:
    return _("%(agreement)s - delivery reliability, %(kind)s") % {
        "agreement": agreement.label,
        "kind": KIND_LABELS[kind],
    }


@login_required
@role_permission_required(VIEW_KPI)
@require_GET
def kpi_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = MonthForm(request.GET or None, today=today)
    until = today
    if form.is_bound and form.is_valid() and form.cleaned_data["until"]:
        until = month_parse(form.cleaned_data["until"]) or today
    months = months_back(until)
    rows = kpi1_table(months=months, today=today)
    missed_base = reverse("logistics:kpi_missed")
    table = []
    for row in rows:
        heading = row_heading(row.agreement, row.kind)
        table.append(
            {
                "row": row,
                "heading": heading,
                "chart": chart_for(row, heading=heading),
                "cells": [
                    {
                        "cell": cell,
                        "missed_url": "?".join(
                            [
                                missed_base,
                                urlencode(
                                    {
                                        "month": month_key(cell.month),
                                        "kind": row.kind,
                                        "agreement": row.agreement.value,
                                    }
                                ),
                            ]
                        ),
                    }
                    for cell in row.cells
                ],
            }
        )
    return render(
        request,
        "logistics/kpi/kpi.html",
        {"form": form, "months": months, "table": table, "targets": TARGETS},
    )


@login_required
@role_permission_required(VIEW_KPI)
@require_GET
def kpi_missed_view(request: HttpRequest) -> HttpResponse:
    month = month_parse(request.GET.get("month", ""))
    kind = request.GET.get("kind", "")
    agreement = request.GET.get("agreement", "")
    if month is None or kind not in KINDS or agreement not in {a.value for a in AGREEMENTS}:
        raise Http404
    today = timezone.localdate()
    lines = kpi1_missed_lines(month=month, kind=kind, agreement=agreement, today=today)
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({"month": month_key(month), "kind": kind, "agreement": agreement}) + "&"
    return render(
        request,
        "logistics/kpi/missed.html",
        {
            "page": page,
            "query": query,
            "heading": row_heading(AgreementType(agreement), kind),
            "month": month,
            "until": month_key(month),
        },
    )

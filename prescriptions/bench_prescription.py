"""The bare comparison view for ``manage.py bench_prescription_page``: the same prescription's
20 lines, read in one query and rendered in a plain table, with no gate, no access entry, no
eligibility, history or catalogue form.

Used only as the benchmark's URL configuration (the product's URLs plus this one), so that both
go through the same middleware stack; the difference is what the prescription page costs.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.urls import urlpatterns as product_urlpatterns
from prescriptions.models import PrescriptionLine


def bare_prescription_view(request: HttpRequest, number: str) -> HttpResponse:
    lines = list(
        PrescriptionLine.objects.select_related("prescription", "article")
        .filter(prescription__reference=number)
        .order_by("position")
    )
    if not lines:
        raise Http404
    return render(request, "prescriptions/bench_bare.html", {"number": number, "lines": lines})


urlpatterns = [
    path("bench/prescription-bare/<str:number>/", bare_prescription_view, name="bench_bare"),
    *product_urlpatterns,
]

"""The bare comparison view for ``manage.py bench_recall``: the first page of a safety notice's
devices, read in one query and rendered in a plain template, with no counts, weeks, history or
permission reads of the page's own.

Used only as the benchmark's URL configuration (the product's URLs plus this one), so that both
go through the same middleware stack; the difference is what the campaign page costs.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.urls import urlpatterns as product_urlpatterns
from logistics.models import NoticeDevice
from logistics.selectors.recalls import PAGE_SIZE


def bare_campaign_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    rows = list(
        NoticeDevice.objects.filter(notice_id=notice_id)
        .select_related("device__article", "holder_unit", "location", "prescriber")
        .order_by("pk")[:PAGE_SIZE]
    )
    return render(request, "logistics/bench_recall_bare.html", {"rows": rows})


urlpatterns = [
    path(
        "bench/logistics/campaign-bare/<int:notice_id>/",
        bare_campaign_view,
        name="bench_campaign",
    ),
    *product_urlpatterns,
]

"""The bare comparison views for ``manage.py bench_recall``: the first page of a safety notice's
devices, and the first rows of the technicians' open work orders, each read in one query and
rendered in a plain template, with no counts, weeks, history, guards or permission reads of the
page's own.

Used only as the benchmark's URL configuration (the product's URLs plus this one), so that both
go through the same middleware stack; the difference is what the campaign page costs.
"""

from __future__ import annotations

from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.urls import urlpatterns as product_urlpatterns
from logistics.models import NoticeDevice, WorkOrder
from logistics.selectors.recalls import PAGE_SIZE
from logistics.selectors.workorders import QUEUE_LIMIT
from logistics.services.workorders import OPEN_STATES


def bare_campaign_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    rows = list(
        NoticeDevice.objects.filter(notice_id=notice_id)
        .select_related("device__article", "holder_unit", "location", "prescriber")
        .order_by("pk")[:PAGE_SIZE]
    )
    return render(request, "logistics/bench_recall_bare.html", {"rows": rows})


def bare_queue_view(request: HttpRequest) -> HttpResponse:
    """The first rows of the workshops' open work orders, in one query."""
    orders = list(
        WorkOrder.objects.filter(state__in=OPEN_STATES)
        .select_related("device", "article")
        .order_by(F("due_on").asc(nulls_last=True), "pk")[:QUEUE_LIMIT]
    )
    return render(request, "logistics/bench_recall_bare.html", {"orders": orders})


urlpatterns = [
    path("bench/logistics/queue-workshop-bare/", bare_queue_view, name="bench_workshop_queue"),
    path(
        "bench/logistics/campaign-bare/<int:notice_id>/",
        bare_campaign_view,
        name="bench_campaign",
    ),
    *product_urlpatterns,
]

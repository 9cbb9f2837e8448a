"""The bare comparison views for ``manage.py bench_logistics``: the first page of the order
queue's lines and a device, each read in one query and rendered in a plain template, with no
paginator count, permission reads of the page's own, gate or history.

Used only as the benchmark's URL configuration (the product's URLs plus these), so that both go
through the same middleware stack; the difference is what the real page costs.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.urls import urlpatterns as product_urlpatterns
from logistics.models import CustomerOrderLine, Device, LineState

PAGE_SIZE = 50


def bare_queue_view(request: HttpRequest) -> HttpResponse:
    lines = list(
        CustomerOrderLine.objects.filter(state__in=[LineState.RECEIVED, LineState.BACKORDERED])
        .select_related("order", "article")
        .order_by("promised_on", "order__number", "position")[:PAGE_SIZE]
    )
    return render(request, "logistics/bench_bare.html", {"title": "queue", "lines": lines})


def bare_device_view(request: HttpRequest, device_id: int) -> HttpResponse:
    device = (
        Device.objects.select_related("article", "owner_region", "location")
        .filter(pk=device_id)
        .first()
    )
    if device is None:
        raise Http404
    return render(request, "logistics/bench_bare.html", {"title": "device", "device": device})


urlpatterns = [
    path("bench/logistics/queue-bare/", bare_queue_view, name="bench_logistics_queue"),
    path("bench/logistics/device-bare/<int:device_id>/", bare_device_view, name="bench_device"),
    *product_urlpatterns,
]

"""The logistics start page: the store's queues with a count on each, and a queue's list of
order lines. Logistics staff (``logistics.work_orders``) only; no patient is shown on either
page (the staff hold no grants), an order is named by its number, unit and article."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from logistics.selectors.queues import QUEUE_LIST_ROUTE, queue_counts, queue_get, queue_lines
from protection.permissions import role_permission_required

WORK_ORDERS = "logistics.work_orders"
PAGE_SIZE = 50


@login_required
@role_permission_required(WORK_ORDERS)
@require_GET
def queues_view(request: HttpRequest) -> HttpResponse:
    entries = [
        {
            "label": entry.queue.label,
            "count": entry.count,
            "url": reverse(QUEUE_LIST_ROUTE, args=[entry.queue.slug])
            if entry.queue.url_name == QUEUE_LIST_ROUTE
            else reverse(entry.queue.url_name),
        }
        for entry in queue_counts(day=timezone.localdate())
    ]
    return render(request, "logistics/queues/start.html", {"entries": entries})


@login_required
@role_permission_required(WORK_ORDERS)
@require_GET
def queue_list_view(request: HttpRequest, slug: str) -> HttpResponse:
    queue = queue_get(slug)
    if queue is None:
        raise Http404
    today = timezone.localdate()
    page = Paginator(queue_lines(queue=queue, day=today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "logistics/queues/list.html",
        {"queue": queue, "page": page, "today": today},
    )

"""The logistics floor's pages, under /logistics/ (namespace ``logistics``). Each part of the
floor keeps its views in its own module under ``logistics/views/``."""

from django.urls import URLPattern, URLResolver, path

from logistics.views import kpi, queues

Patterns = tuple[list[URLPattern | URLResolver], str]

logistics_patterns: Patterns = (
    [
        # The start page with the store's queues, and a queue's list of order lines.
        path("", queues.queues_view, name="queues"),
        path("queue/<slug:slug>/", queues.queue_list_view, name="queue"),
        # KPI-1: delivery reliability, and a cell's missed lines.
        path("kpi/", kpi.kpi_view, name="kpi"),
        path("kpi/missed/", kpi.kpi_missed_view, name="kpi_missed"),
    ],
    "logistics",
)

"""The logistics floor's pages, under /logistics/ (namespace ``logistics``). Each part of the
floor keeps its views in its own module under ``logistics/views/``."""

from django.urls import URLPattern, URLResolver, path

from logistics.views import stock

Patterns = tuple[list[URLPattern | URLResolver], str]

logistics_patterns: Patterns = (
    [
        path("replenishments/", stock.replenishments_view, name="replenishments"),
    ],
    "logistics",
)

"""The logistics floor's pages, under /logistics/ (namespace ``logistics``). Each part of the
floor keeps its views in its own module under ``logistics/views/``."""

from django.urls import URLPattern, URLResolver

from logistics.urls_orders import urlpatterns as order_patterns

Patterns = tuple[list[URLPattern | URLResolver], str]

logistics_patterns: Patterns = ([*order_patterns], "logistics")

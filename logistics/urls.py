"""The logistics floor's pages, under /logistics/ (namespace ``logistics``). Each part of the
floor keeps its views in its own module under ``logistics/views/``."""

from django.urls import URLPattern, URLResolver, path

from logistics.views import reservations

from logistics.urls_orders import urlpatterns as order_patterns

Patterns = tuple[list[URLPattern | URLResolver], str]

logistics_patterns: Patterns = ([*order_patterns], "logistics")
logistics_patterns: Patterns = (
    [
        # LOG-1: the prescriber's reserved articles.
        path("reservations/", reservations.reservations_view, name="reservations"),
        path(
            "reservations/release-all/",
            reservations.reservations_release_all_view,
            name="reservations_release_all",
        ),
        path(
            "reservations/<int:pk>/release/",
            reservations.reservation_release_view,
            name="reservation_release",
        ),
from logistics.views import stock

Patterns = tuple[list[URLPattern | URLResolver], str]

logistics_patterns: Patterns = (
    [
        path("replenishments/", stock.replenishments_view, name="replenishments"),
    ],
    "logistics",
)

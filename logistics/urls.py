"""The logistics floor's pages, under /logistics/ (namespace ``logistics``). Each part of the
floor keeps its views in its own module under ``logistics/views/``."""

from django.urls import URLPattern, URLResolver, path

from logistics.views import devices

Patterns = tuple[list[URLPattern | URLResolver], str]

logistics_patterns: Patterns = (
    [
        # The device register (DEVICE-1).
        path("devices/", devices.device_search_view, name="device_search"),
        path("devices/<int:device_id>/", devices.device_detail_view, name="device"),
    ],
    "logistics",
)

"""The product's URLs and error handlers, plus one view that fails, for the 500 page's test."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns

# The message names what a request carried, as a real failure's message might.
FAILURE_TEXT = "failed while reading 18900101-9802 zqxj-secret"


def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(FAILURE_TEXT)


urlpatterns = [path("failing/", failing_view), *urlpatterns]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

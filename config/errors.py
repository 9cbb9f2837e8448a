"""The product's own error pages (400, 403, 404, 500 and a refused form), in the user's language.

LEAK-1: none of them repeats anything from the request: not the address (it may hold a
personnummer), not the query, not the reason Django had for the refusal (an exception's text
may quote what was sent). Django's default views pass the exception's text to 403 and 404
templates and name the path on 404; these views pass nothing. The 500 page is rendered without
the request, so a broken database or session cannot break the page that reports it.
"""

from __future__ import annotations

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template.loader import render_to_string
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponseBadRequest(render_to_string("400.html", request=request))


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponseForbidden(render_to_string("403.html", request=request))


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponseNotFound(render_to_string("404.html", request=request))


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponseServerError(render_to_string("500.html"))


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid token (mostly: the page stood open past the session)."""
    return HttpResponseForbidden(render_to_string("403_csrf.html", request=request))

"""LEAK-1: no identity number travels in a URL, whatever a form, a link or a person typed.

The product's own pages post identity numbers; this middleware is the net under that rule for
everything else (an admin search box, a bookmarked address, a hand-edited query string). A
request whose path or query string holds something shaped like a personnummer is refused before
any view runs, with a page that does not repeat it. The address is read as a person would: decoded
(also when encoded twice), Unicode-normalised, with any character between the digits counting as
a separator (``patients.identity.contains_identity_number``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils import translation

from patients.identity import contains_identity_number

logger = logging.getLogger(__name__)


class RefuseIdentityNumbersInUrls:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # WSGI hands the query string over as bytes read as Latin-1; read it as UTF-8 again so
        # that a full-width or other non-ASCII digit is seen as the digit it is.
        query = request.META.get("QUERY_STRING", "").encode("latin-1", "replace")
        address = request.path + "?" + query.decode("utf-8", "replace").replace("+", " ")
        if contains_identity_number(address):
            logger.warning("refused a request with an identity number in its address")
            # This runs before the language middleware: the same choice, read here (the cookie
            # set by the language switch, else Swedish).
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
            with translation.override(language):
                page = render_to_string("400_identity_in_url.html")
            return HttpResponseBadRequest(page)
        return self.get_response(request)

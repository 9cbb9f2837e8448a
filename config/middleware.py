"""Swedish unless the user chose English.

Django's LocaleMiddleware follows the browser's Accept-Language, so a region's PC with an
English Windows would get an English UI. The product speaks Swedish by default; the language
switch in the header (Django's set_language view) stores the user's explicit choice in the
language cookie, which is the only thing that changes it.

The language is active for the request only: the thread gets back the language it had before,
so that whatever runs next in it (the next request, a test, a task) does not inherit it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class ChosenLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.available = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response

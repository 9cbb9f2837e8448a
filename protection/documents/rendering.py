"""HTML to PDF with WeasyPrint, loading nothing but the project's static files.

A document template may name fonts, the logo and style sheets through ``{% static %}``; every
other address (http, file, data) is refused and fails the render: a document that fetched from
outside could tell a third party who it is about, and one that read local files could print
them. Fonts are bundled (static/fonts, DejaVu Sans) so that every worker renders the same
document, and subset by HarfBuzz (``libharfbuzz-subset0``, installed by ``make system-deps``).
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

# Templates resolve ``{% static %}`` against this origin; it exists nowhere, and the fetcher
# below answers for it from the static files instead of the network.
DOCUMENT_ORIGIN = "https://documents.invalid"


class ResourceRefused(FatalURLFetchingError):
    """A document asked for something that is not one of the project's static files."""


def _static_prefix() -> str:
    return DOCUMENT_ORIGIN + "/" + settings.STATIC_URL.lstrip("/")


@functools.cache
def static_file_bytes(name: str) -> bytes | None:
    """A static file by its name under STATIC_URL: from the finders (development, tests) or
    the collected, possibly hashed, files (production). None when there is no such file.

    Read once per process: the static files are deployed with the code and do not change
    under a running worker, and every letter asks for the same fonts and logo."""
    found = finders.find(name)
    if isinstance(found, str):
        with open(found, "rb") as handle:
            return handle.read()
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as handle:
            data: bytes = handle.read()
            return data
    return None


class StaticFilesOnly(URLFetcher):
    """WeasyPrint's fetcher, narrowed to the project's static files."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        prefix = _static_prefix()
        if not url.startswith(prefix):
            # The address is not logged: a careless template could put anything in it.
            logger.warning("a document asked for a resource outside the static files; refused")
            raise ResourceRefused("documents load only the project's static files")
        name = unquote(url[len(prefix) :].split("?", 1)[0].split("#", 1)[0])
        if not name or name.startswith("/") or ".." in name.split("/"):
            raise ResourceRefused("not a static file name")
        data = static_file_bytes(name)
        if data is None:
            raise ResourceRefused("no such static file")
        mime_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, data, {"Content-Type": mime_type})


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int


class _ProcessFonts:
    """One WeasyPrint font configuration per process: an ``@font-face`` is registered with
    Fontconfig once (WeasyPrint skips a face it already holds), not for every document, and
    decoded images (the logo) are kept beside it. Made on first use in the process that
    renders, so a forked pool child never shares its parent's Fontconfig state."""

    def __init__(self) -> None:
        self.pid = -1
        self.fonts: FontConfiguration | None = None
        self.images: dict[str, Any] = {}

    def get(self) -> tuple[FontConfiguration, dict[str, Any]]:
        if self.fonts is None or self.pid != os.getpid():
            self.pid, self.fonts, self.images = os.getpid(), FontConfiguration(), {}
        return self.fonts, self.images


_process_fonts = _ProcessFonts()


def html_to_pdf(html: str) -> RenderedPdf:
    fonts, images = _process_fonts.get()
    document = HTML(
        string=html, base_url=DOCUMENT_ORIGIN + "/", url_fetcher=StaticFilesOnly()
    ).render(font_config=fonts, cache=images)
    return RenderedPdf(content=document.write_pdf(), pages=len(document.pages))


def template_html(template: str, context: dict[str, Any]) -> str:
    """The template in the product's language: a worker has no request to take one from."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(template, context)

"""The public assortment for residents, without logging in (CAT-2).

No login and no role: anyone may read what the region offers. So these views must not reach
anything that knows a person: they read only ``prescriptions.selectors.assortment`` (the
catalogue's tables) and render without the request, so that no context processor touches the
session, the user, messages or the menu. The response sets no cookie (no session, no CSRF
token: the search is a GET form), may be cached by shared caches for a few minutes, and varies
on the cookie that chooses the language (config/middleware.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from prescriptions.models.catalogue import ProductArea
from prescriptions.selectors.assortment import public_article_get, public_article_search

# Long enough to spare the database a burst of readers, short enough that a withdrawn article
# leaves the page within minutes.
PUBLIC_MAX_AGE = 300


class AssortmentSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search for an assistive device"),
        help_text=gettext_lazy("A word from its name, for example rollator, or its ISO code."),
        max_length=100,
        required=False,
    )
    # The refusal does not echo what was sent: a resident reads words, never an area's key.
    area = forms.ChoiceField(
        label=gettext_lazy("Product area"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose a product area from the list.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        assert isinstance(area, forms.ChoiceField)
        area.choices = [("", gettext_lazy("All product areas"))] + [
            (a.code, a.name) for a in ProductArea.objects.order_by("name")
        ]


def _public(template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    # Without the request: no context processor runs, so nothing reads the session or the user.
    response = HttpResponse(render_to_string(template, context), status=status)
    patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    patch_vary_headers(response, ["Cookie"])
    return response


@require_GET
def assortment_search_view(request: HttpRequest) -> HttpResponse:
    form = AssortmentSearchForm(request.GET or None)
    articles = None
    if form.is_bound and form.is_valid():
        articles = public_article_search(
            query=form.cleaned_data["q"],
            product_area=form.cleaned_data["area"] or None,
            day=timezone.localdate(),
        )
    return _public("prescriptions/assortment/search.html", {"form": form, "articles": articles})


@require_GET
def assortment_article_view(request: HttpRequest, article_number: str) -> HttpResponse:
    article = public_article_get(article_number=article_number, day=timezone.localdate())
    if article is None:
        # The public page's own 404: the site's would render with the request (a CSRF cookie
        # for its language form) and point to pages a resident cannot open.
        return _public("prescriptions/assortment/not_found.html", {}, status=404)
    return _public("prescriptions/assortment/article.html", {"article": article})

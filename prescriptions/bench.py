"""The bare comparison view for ``manage.py bench_catalogue_search``: the same search's articles
from one query, rendered with the same page template, with no accessories, no replacement
proposal and no product-area list for the form.

Used only as the benchmark's URL configuration (the product's URLs plus this one), so that both
go through the same middleware and template; the difference is what the catalogue's extra work
costs.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from config.urls import urlpatterns as product_urlpatterns
from prescriptions.selectors.catalogue import (
    SEARCH_LIMIT,
    CatalogueEntry,
    article_matches,
    article_orderable,
    article_stock_state,
    normalise_query,
)


class BareSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    area = forms.ChoiceField(required=False, choices=[("", "")])


def bare_search_view(request: HttpRequest) -> HttpResponse:
    query = normalise_query(request.GET.get("q", ""))
    matches = article_matches(query=query, product_area=request.GET.get("area") or None)
    day = timezone.localdate()
    entries = [
        CatalogueEntry(
            article=article,
            orderability=article_orderable(article, day),
            stock_state=article_stock_state(article),
        )
        for article in (
            matches.select_related("agreement", "product_area", "main_article")[:SEARCH_LIMIT]
            if matches is not None
            else []
        )
    ]
    return render(
        request,
        "prescriptions/catalogue/search.html",
        {"form": BareSearchForm(request.GET), "entries": entries},
    )


urlpatterns = [
    path("bench/catalogue-bare/", bare_search_view, name="bench_catalogue_bare"),
    *product_urlpatterns,
]

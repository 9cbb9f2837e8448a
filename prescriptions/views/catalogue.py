"""The catalogue for prescribers: search, and an article's page with accessories and replacement.

The catalogue holds no patient data. Reaching it takes the role permission
``prescriptions.search_catalogue`` (prescribers, customer service, technicians; CAT-1); the
selectors decide orderability and the replacement proposal (PRESC-8), the views only route.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from prescriptions.models import ProductArea
from prescriptions.selectors.catalogue import (
    agreement_search_for_user,
    article_detail,
    article_search,
)
from protection.permissions import role_permission_required

SEARCH_CATALOGUE = "prescriptions.search_catalogue"


class CatalogueSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search the catalogue"),
        help_text=gettext_lazy(
            "Name (small typing errors are fine), article number or ISO 9999 code."
        ),
        max_length=100,
        required=False,
    )
    area = forms.ChoiceField(label=gettext_lazy("Product area"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        assert isinstance(area, forms.ChoiceField)
        area.choices = [("", gettext_lazy("All product areas"))] + [
            (a.code, a.name) for a in ProductArea.objects.order_by("name")
        ]


@login_required
@role_permission_required(SEARCH_CATALOGUE)
@require_GET
def catalogue_search_view(request: HttpRequest) -> HttpResponse:
    form = CatalogueSearchForm(request.GET or None)
    entries = None
    if form.is_bound and form.is_valid():
        entries = article_search(
            query=form.cleaned_data["q"],
            product_area=form.cleaned_data["area"] or None,
            day=timezone.localdate(),
        )
    return render(
        request, "prescriptions/catalogue/search.html", {"form": form, "entries": entries}
    )


@login_required
@role_permission_required(SEARCH_CATALOGUE)
@require_GET
def article_detail_view(request: HttpRequest, article_number: str) -> HttpResponse:
    entry = article_detail(article_number=article_number, day=timezone.localdate())
    if entry is None:
        raise Http404
    return render(request, "prescriptions/catalogue/article.html", {"entry": entry})


@login_required
@role_permission_required("prescriptions.search_catalogue")
@require_GET
def agreement_search_view(request: HttpRequest) -> HttpResponse:
    """CAT-1: product and agreement search, a role of its own (e.g. technicians)."""
    query = request.GET.get("q", "")
    agreements, articles = agreement_search_for_user(user=request.user, query=query)
    return render(
        request,
        "prescriptions/catalogue/agreement_search.html",
        {"query": query, "agreements": agreements, "articles": articles},
    )

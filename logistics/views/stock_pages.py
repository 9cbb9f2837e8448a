"""The logistics staff's stock pages: the stores with counts, a store's levels per article,
and the central store's purchase proposal list with purchase orders made from it. Staff
(``logistics.work_orders``) hold no grants, so nothing here names a patient."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from logistics.models import LocationKind, StockLocation
from logistics.selectors.stock import purchase_proposals, stock_levels_for_store
from logistics.services.errors import LogisticsError
from logistics.services.purchasing import purchase_orders_create
from logistics.views.queues import WORK_ORDERS
from protection.permissions import role_permission_required

PAGE_SIZE = 50


def _store_get(code: str) -> StockLocation:
    store = StockLocation.objects.filter(code=code, active=True).first()
    if store is None:
        raise Http404
    return store


@login_required
@role_permission_required(WORK_ORDERS)
@require_GET
def stores_view(request: HttpRequest) -> HttpResponse:
    stores = StockLocation.objects.filter(active=True).annotate(articles=Count("levels"))
    return render(request, "logistics/stock/stores.html", {"stores": list(stores)})


@login_required
@role_permission_required(WORK_ORDERS)
@require_GET
def store_view(request: HttpRequest, code: str) -> HttpResponse:
    store = _store_get(code)
    query = request.GET.get("q", "").strip()[:100]
    page = Paginator(stock_levels_for_store(location_id=store.pk, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "logistics/stock/store.html",
        {
            "store": store,
            "page": page,
            "q": query,
            "query": urlencode({"q": query}) + "&" if query else "",
        },
    )


def _central_store() -> StockLocation:
    store = StockLocation.objects.filter(kind=LocationKind.CENTRAL, active=True).first()
    if store is None:
        raise Http404
    return store


@login_required
@role_permission_required(WORK_ORDERS)
@require_http_methods(["GET", "POST"])
def proposals_view(request: HttpRequest) -> HttpResponse:
    store = _central_store()
    groups = purchase_proposals(location_id=store.pk)
    if request.method == "POST":
        quantities = {p.level.pk: p.quantity for g in groups for p in g.proposals if p.quantity > 0}
        if not quantities:
            messages.info(request, _("There are no purchase proposals to order."))
            return redirect("logistics:proposals")
        try:
            orders = purchase_orders_create(
                quantities=quantities, by=request.user, location_id=store.pk
            )
        except LogisticsError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Purchase orders created: %(numbers)s.")
                % {"numbers": ", ".join(str(o.number) for o in orders)},
            )
        return redirect("logistics:proposals")
    return render(request, "logistics/stock/proposals.html", {"store": store, "groups": groups})

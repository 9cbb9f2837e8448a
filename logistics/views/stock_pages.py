"""The logistics staff's stock pages: the stores with counts, a store's levels per article,
and the central store's purchase proposal list with purchase orders made from it. Staff
(``logistics.work_orders``) hold no grants, so nothing here names a patient."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from logistics.models import LocationKind, PurchaseOrderLine, StockLocation
from logistics.selectors.stock import (
    article_stock,
    open_purchase_orders,
    purchase_proposals,
    stock_levels_for_store,
)
from logistics.services.errors import LogisticsError
from logistics.services.purchasing import (
    ReceiptLineInput,
    ReceiptRefused,
    goods_receipt_record,
    purchase_orders_create,
    stock_reorder_set,
)
from logistics.views.queues import WORK_ORDERS
from prescriptions.models import Article
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


class ReorderForm(forms.Form):
    reorder_point = forms.IntegerField(
        label=gettext_lazy("Reorder point"), min_value=0, max_value=99999, required=False
    )
    reorder_quantity = forms.IntegerField(
        label=gettext_lazy("Reorder quantity"), min_value=0, max_value=99999
    )


@login_required
@role_permission_required(WORK_ORDERS)
@require_http_methods(["GET", "POST"])
def article_stock_view(request: HttpRequest, code: str, article_number: str) -> HttpResponse:
    store = _store_get(code)
    article = Article.objects.filter(article_number=article_number).first()
    if article is None:
        raise Http404
    stock = article_stock(location_id=store.pk, article_id=article.pk)
    initial = (
        {
            "reorder_point": stock.level.reorder_point,
            "reorder_quantity": stock.level.reorder_quantity,
        }
        if stock.level is not None
        else {"reorder_quantity": 0}
    )
    form = ReorderForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            stock_reorder_set(
                article_id=article.pk,
                location_id=store.pk,
                reorder_point=form.cleaned_data["reorder_point"],
                reorder_quantity=form.cleaned_data["reorder_quantity"],
            )
        except LogisticsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The reorder point is saved."))
            return redirect("logistics:article_stock", store.code, article.article_number)
    return render(
        request,
        "logistics/stock/article.html",
        {"store": store, "article": article, "stock": stock, "form": form},
    )


@login_required
@role_permission_required(WORK_ORDERS)
@require_GET
def purchase_orders_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "logistics/stock/purchase_orders.html",
        {"orders": list(open_purchase_orders())},
    )


class ReceiptForm(forms.Form):
    """One row per open purchase order line: quantity, serial numbers (one a line), the
    supplier's lot number where it gives one, and GTIN.
    Fields are named ``<field>_<line id>`` so a refusal lands on its field and row."""

    def __init__(self, *args: Any, lines: list[PurchaseOrderLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            number = line.article.article_number
            self.fields[f"quantity_{line.pk}"] = forms.IntegerField(
                label=gettext_lazy("Quantity received, article %(article)s") % {"article": number},
                min_value=0,
                max_value=99999,
                required=False,
            )
            if line.article.serial_numbered:
                self.fields[f"serials_{line.pk}"] = forms.CharField(
                    label=gettext_lazy("Serial numbers, article %(article)s (one a line)")
                    % {"article": number},
                    widget=forms.Textarea(attrs={"rows": 3}),
                    required=False,
                )
                self.fields[f"lot_{line.pk}"] = forms.CharField(
                    label=gettext_lazy(
                        "Lot number, article %(article)s (if the supplier gives one)"
                    )
                    % {"article": number},
                    max_length=64,
                    required=False,
                )
            if line.article.gtin:
                self.fields[f"gtin_{line.pk}"] = forms.CharField(
                    label=gettext_lazy("GTIN, article %(article)s") % {"article": number},
                    max_length=14,
                    required=False,
                )

    def rows(self) -> list[tuple[PurchaseOrderLine, list[Any]]]:
        return [
            (
                line,
                [
                    self[f"{name}_{line.pk}"]
                    for name in ("quantity", "serials", "lot", "gtin")
                    if f"{name}_{line.pk}" in self.fields
                ],
            )
            for line in self.lines
        ]

    def receipt_lines(self) -> list[ReceiptLineInput]:
        data = self.cleaned_data
        result = []
        for line in self.lines:
            quantity = data.get(f"quantity_{line.pk}") or 0
            if not quantity:
                continue
            serials = data.get(f"serials_{line.pk}", "") or ""
            result.append(
                ReceiptLineInput(
                    key=str(line.pk),
                    article_id=line.article_id,
                    quantity=quantity,
                    serial_numbers=tuple(s.strip() for s in serials.splitlines() if s.strip()),
                    gtin=(data.get(f"gtin_{line.pk}") or "").strip(),
                    lot_number=(data.get(f"lot_{line.pk}") or "").strip(),
                    purchase_order_line_id=line.pk,
                )
            )
        return result


@login_required
@role_permission_required(WORK_ORDERS)
@require_http_methods(["GET", "POST"])
def goods_receipt_view(request: HttpRequest, number: str) -> HttpResponse:
    order = open_purchase_orders().filter(number=number).first()
    if order is None:
        raise Http404
    lines = [line for line in order.lines.all() if line.received < line.quantity]
    form = ReceiptForm(request.POST or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        try:
            receipt = goods_receipt_record(
                location_id=order.location_id,
                purchase_order_id=order.pk,
                by=request.user,
                lines=form.receipt_lines(),
            )
        except ReceiptRefused as refused:
            name = f"{refused.field}_{refused.key}"
            form.add_error(name if name in form.fields else None, str(refused))
        except LogisticsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Goods receipt %(number)s is recorded.") % {"number": receipt.number}
            )
            return redirect("logistics:purchase_orders")
    return render(request, "logistics/stock/receipt.html", {"order": order, "form": form})

"""LOG-2 for a unit's staff: the unit's open replenishments ("Öppna lagerpåfyllnader"), apart
from customer orders, and ordering replenishment of one of the unit's buffer stores."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from logistics.models import LocationKind, StockLocation
from logistics.selectors.stock import open_replenishments_for_units
from logistics.services.errors import LogisticsError
from logistics.services.replenishment import (
    ORDER_REPLENISHMENT,
    replenishment_order,
    user_unit_ids,
)
from protection.permissions import role_permission_required

ROWS = 5


class ReplenishmentForm(forms.Form):
    store = forms.ChoiceField(label=gettext_lazy("Buffer store"))

    def __init__(self, *args: Any, stores: list[StockLocation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        store = self.fields["store"]
        assert isinstance(store, forms.ChoiceField)
        store.choices = [(s.code, s.name) for s in stores]
        for row in range(1, ROWS + 1):
            self.fields[f"article_{row}"] = forms.CharField(
                label=gettext_lazy("Article number, row %(row)s") % {"row": row},
                max_length=32,
                required=False,
            )
            self.fields[f"quantity_{row}"] = forms.IntegerField(
                label=gettext_lazy("Quantity, row %(row)s") % {"row": row},
                min_value=1,
                max_value=999,
                required=False,
            )

    def rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"article_{r}"], self[f"quantity_{r}"]) for r in range(1, ROWS + 1)]

    def lines(self) -> list[tuple[str, int]]:
        data = self.cleaned_data
        return [
            (data[f"article_{r}"].strip(), data[f"quantity_{r}"] or 1)
            for r in range(1, ROWS + 1)
            if data.get(f"article_{r}", "").strip()
        ]


@login_required
@role_permission_required(ORDER_REPLENISHMENT)
def replenishments_view(request: HttpRequest) -> HttpResponse:
    units = user_unit_ids(request.user)
    stores = list(
        StockLocation.objects.filter(kind=LocationKind.BUFFER, active=True, unit_id__in=units)
    )
    form = ReplenishmentForm(request.POST or None, stores=stores)
    if request.method == "POST" and form.is_valid():
        try:
            order = replenishment_order(
                user=request.user, location_code=form.cleaned_data["store"], lines=form.lines()
            )
        except LogisticsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Replenishment %(number)s is ordered.") % {"number": order.number}
            )
            return redirect("logistics:replenishments")
    return render(
        request,
        "logistics/stock/replenishments.html",
        {
            "form": form,
            "stores": stores,
            "orders": list(open_replenishments_for_units(unit_ids=units)),
        },
    )

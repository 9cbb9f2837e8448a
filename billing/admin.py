"""The billing staff's reference data in the admin: the price list. Billing accounts have a
patient field, so they are kept on the billing pages (B4), not in an admin that would have to
mask rows."""

from __future__ import annotations

from django.contrib import admin

from billing.models import Tariff


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin[Tariff]):
    """Rent per device and day (per article or product area) and the hourly labour rate, each
    with dated validity; a new price is a new row from its first day."""

    list_display = ("kind", "article", "product_area", "price_sek", "valid_from", "valid_until")
    list_filter = ("kind",)
    list_select_related = ("article", "product_area")
    raw_id_fields = ("article",)
    search_fields = ("article__article_number", "article__name", "product_area__name")
    fields = ("kind", "article", "product_area", "price_sek", "valid_from", "valid_until")

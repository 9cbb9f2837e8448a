"""The billing staff's reference data in the admin: the price list and the accounts of regions,
municipalities and care units (patients' accounts are made by the billing floor's services, and
their holders never shown here: no patient field)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from billing.models import BillingAccount, Tariff


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


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin[BillingAccount]):
    """A region's (BT-10 default reference, organisation number, address for the e-invoice),
    a municipality's or a care unit's invoicing details."""

    list_display = ("customer_number", "kind", "name", "organisation_number")
    list_filter = ("kind",)
    search_fields = ("customer_number", "name", "organisation_number")
    fields = (
        "kind",
        "customer_number",
        "region",
        "unit",
        "municipality_code",
        "name",
        "organisation_number",
        "street",
        "postal_code",
        "city",
        "email",
        "default_buyer_reference",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[BillingAccount]:
        # Patients' accounts are not kept here (BILL-2: their numbers are for the billing pages).
        return super().get_queryset(request).exclude(kind="patient")

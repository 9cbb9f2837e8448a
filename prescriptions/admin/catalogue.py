"""Catalogue, units and prescribers in the admin (CAT-1), for customer service.

Nothing here is about patients: articles, agreements, suppliers, replacement groups, product and
competence areas, prescribing units with their delivery address, and prescribers with their
units and registered training. Unit orderers are prescribers whose ordering right is
"orderer for a unit" (PRESC-5); filter the prescriber list on it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prescriptions.models import (
    Agreement,
    Article,
    CompetenceArea,
    CompetenceRegistration,
    PickupPoint,
    PrescriberProfile,
    PrescribingUnit,
    ProductArea,
    ReplacementGroup,
    Supplier,
)


def _in_force_today(prefix: str = "") -> Q:
    """Agreements in force today; ``prefix`` ("agreement__") asks it of an article's agreement."""
    today = timezone.localdate()
    started = Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": today})
    not_ended = Q(**{f"{prefix}valid_until__isnull": True}) | Q(
        **{f"{prefix}valid_until__gte": today}
    )
    return started & not_ended


class AgreementInForceFilter(admin.SimpleListFilter):
    title = _("agreement in force today")
    parameter_name = "in_force"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        condition = _in_force_today("agreement__" if queryset.model is Article else "")
        if self.value() == "yes":
            return queryset.filter(condition)
        if self.value() == "no":
            return queryset.exclude(condition)
        return queryset


class NamedAutocompleteSelect(AutocompleteSelect):
    """Django's search-as-you-type choice, whose box is named by its text: with nothing chosen
    it is empty and a screen reader hears an unnamed combo box (axe aria-input-field-name).
    A placeholder that says what to choose names it."""

    def build_attrs(self, base_attrs: Any, extra_attrs: Any = None) -> Any:
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        attrs["data-placeholder"] = str(_("Search and choose"))
        return attrs


class _NamedAutocomplete:
    """An admin whose ``autocomplete_fields`` use ``NamedAutocompleteSelect``."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        model_admin: Any = self
        if db_field.name in model_admin.get_autocomplete_fields(request):
            kwargs["widget"] = NamedAutocompleteSelect(
                db_field, model_admin.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


@admin.register(Article)
class ArticleAdmin(_NamedAutocomplete, admin.ModelAdmin[Article]):
    list_display = (
        "article_number",
        "name",
        "product_area",
        "kind",
        "price_sek",
        "assortment_days",
        "in_assortment",
        "out_of_stock",
        "agreement",
        "agreement_in_force",
    )
    list_select_related = ("product_area", "agreement")
    list_filter = (
        "product_area",
        "kind",
        "assortment_days",
        "in_assortment",
        "out_of_stock",
        AgreementInForceFilter,
        "replacement_group__kind",
    )
    search_fields = ("article_number", "name", "iso9999")
    # 50 000 articles: never a drop-down of every one.
    autocomplete_fields = ("main_article", "agreement", "replacement_group")
    list_per_page = 50

    @admin.display(boolean=True, description=_("agreement in force today"))
    def agreement_in_force(self, obj: Article) -> bool:
        return obj.agreement.in_force_on(timezone.localdate())


@admin.register(Agreement)
class AgreementAdmin(_NamedAutocomplete, admin.ModelAdmin[Agreement]):
    """CAT-1: the validity period is set here; the catalogue import never changes it."""

    list_display = ("code", "supplier", "valid_from", "valid_until", "in_force", "articles")
    list_select_related = ("supplier",)
    list_filter = (AgreementInForceFilter, "supplier")
    search_fields = ("code", "supplier__name")
    autocomplete_fields = ("supplier",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agreement]:
        return super().get_queryset(request).annotate(article_count=Count("article"))

    @admin.display(boolean=True, description=_("in force today"))
    def in_force(self, obj: Agreement) -> bool:
        return obj.in_force_on(timezone.localdate())

    @admin.display(description=_("articles"), ordering="article_count")
    def articles(self, obj: Agreement) -> int:
        return int(getattr(obj, "article_count", 0))


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin[Supplier]):
    list_display = ("name",)
    search_fields = ("name",)


class ReplacementArticleInline(admin.TabularInline[Article, ReplacementGroup]):
    """The group's articles, read here; an article joins a group on its own page."""

    model = Article
    fk_name = "replacement_group"
    fields = ("article_number", "name", "price_sek", "in_assortment", "out_of_stock", "agreement")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        return super().get_queryset(request).select_related("agreement")


@admin.register(ReplacementGroup)
class ReplacementGroupAdmin(admin.ModelAdmin[ReplacementGroup]):
    list_display = ("code", "kind", "articles")
    list_filter = ("kind",)
    search_fields = ("code",)
    inlines = (ReplacementArticleInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReplacementGroup]:
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description=_("articles"), ordering="article_count")
    def articles(self, obj: ReplacementGroup) -> int:
        return int(getattr(obj, "article_count", 0))


@admin.register(CompetenceArea)
class CompetenceAreaAdmin(admin.ModelAdmin[CompetenceArea]):
    # The code is the key the product uses (``movement_communication_pressure``); the reader
    # knows an area by its name.
    list_display = ("name",)
    search_fields = ("code", "name")


@admin.register(ProductArea)
class ProductAreaAdmin(admin.ModelAdmin[ProductArea]):
    list_display = ("code", "name", "competence_area", "medicine_related")
    list_select_related = ("competence_area",)
    list_filter = ("competence_area", "medicine_related")
    search_fields = ("code", "name")


@admin.register(PickupPoint)
class PickupPointAdmin(admin.ModelAdmin[PickupPoint]):
    """LOG-4: where an ordinary patient may collect a delivery; inactive ones are not offered."""

    list_display = ("name", "street", "postal_code", "town", "active")
    list_filter = ("active", "town")
    search_fields = ("name", "town", "postal_code")


@admin.register(PrescribingUnit)
class PrescribingUnitAdmin(admin.ModelAdmin[PrescribingUnit]):
    """A unit's delivery address: the only address an order for a protected patient carries
    (PRESC-2)."""

    list_display = ("unit", "hsa_id", "delivery_street", "delivery_postal_code", "delivery_town")
    list_select_related = ("unit",)
    search_fields = ("unit__name", "unit__hsa_id", "delivery_town")
    raw_id_fields = ("unit",)

    @admin.display(description=_("HSA-id"), ordering="unit__hsa_id")
    def hsa_id(self, obj: PrescribingUnit) -> str:
        return obj.unit.hsa_id


class CompetenceRegistrationInline(admin.StackedInline[CompetenceRegistration, PrescriberProfile]):
    """PRESC-5: the competence areas whose training is registered, with the date. Stacked: a
    tabular inline's inputs have a column heading but no label of their own."""

    model = CompetenceRegistration
    fk_name = "prescriber"
    fields = ("competence_area", "trained_on", "registered_at", "registered_by")
    readonly_fields = ("registered_at", "registered_by")
    extra = 0


@admin.register(PrescriberProfile)
class PrescriberProfileAdmin(admin.ModelAdmin[PrescriberProfile]):
    """Prescribers and unit orderers; the HSA-id is the staff profile's (one place to keep it)."""

    list_display = ("username", "hsa_id", "authorisation", "unit_names")
    list_select_related = ("user", "user__staff_profile")
    list_filter = ("authorisation", "competences__competence_area")
    search_fields = ("user__username", "user__staff_profile__hsa_id", "units__unit__name")
    fields = ("user", "hsa_id", "authorisation", "units", "email")
    readonly_fields = ("hsa_id",)
    raw_id_fields = ("user",)
    filter_horizontal = ("units",)
    inlines = (CompetenceRegistrationInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PrescriberProfile]:
        return super().get_queryset(request).prefetch_related("units__unit")

    @admin.display(description=_("user"), ordering="user__username")
    def username(self, obj: PrescriberProfile) -> str:
        return str(obj.user.get_username())

    @admin.display(description=_("HSA-id"), ordering="user__staff_profile__hsa_id")
    def hsa_id(self, obj: PrescriberProfile) -> str:
        profile = getattr(obj.user, "staff_profile", None)
        return (profile.hsa_id or "-") if profile is not None else "-"

    @admin.display(description=_("units"))
    def unit_names(self, obj: PrescriberProfile) -> str:
        return ", ".join(str(u.unit) for u in obj.units.all())

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Who registered a training is recorded, not typed.
        for registration in formset.save(commit=False):
            if registration.pk is None:
                registration.registered_by = request.user
            registration.save()
        for removed in formset.deleted_objects:
            removed.delete()
        formset.save_m2m()

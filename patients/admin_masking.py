"""One base for every admin whose rows are about a patient, so that none ties a masked patient to
a place (ACCESS-1, LEAK-1).

A row is *masked* when the database says the patient's identity is hidden from the user asking
(``hjm_identity_visible``, the function row-level security uses: protected, or linked to a
protected person, PROT-5, and no grant or emergency access in force). For a masked row:

- the list shows only the columns the admin declares in ``masked_row_fields``; every other
  column reads "—". The declaration is a list of what may be shown, so a column added later is
  hidden until someone decides otherwise;
- a filter, search or ordering on any other column leaves masked rows out of the result. Left
  out rather than refused: the answer then depends on visible rows only, so it tells nothing of
  a masked row whatever the value asked for, and a grant holder or a list of ordinary patients
  keeps its filters. The same holds for the default ordering, so a list ordered by a hidden
  column never shows a masked row between two visible ones;
- no list is filtered by patient at all (``?patient=``, ``?patient_id=``): refused, as the
  internal id is the first half of every such question;
- no list counts rows per filter choice (facets): a count of one is a row;
- its change page shows only ``masked_row_fields`` and ``masked_row_inlines``.

The admin site's autocomplete answers only for a field an admin declares in
``autocomplete_fields`` (Django itself checks only that the target model has a searchable
admin, which would map any foreign key's ids to names), and never returns a masked row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, cast

from django.contrib import admin
from django.contrib.admin.utils import display_for_field, display_for_value, label_for_field
from django.contrib.admin.utils import lookup_field as admin_lookup_field
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.views.main import ChangeList
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import BooleanField, F, Func, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

NOT_SHOWN = "—"
# A lookup may follow a shown relation to its own key, never further (``prescription__unit``
# would find a row by its unit).
_KEY_PARTS = frozenset({"id", "pk", "exact", "in", "isnull"})


class IdentityVisible(Func):
    """The database's answer for the user the request runs as (protection.middleware)."""

    function = "hjm_identity_visible"
    output_field = BooleanField()


def row_visible(obj: Any) -> bool:
    return bool(getattr(obj, "patient_visible", False))


def only_visible(rows: QuerySet[Any]) -> QuerySet[Any]:
    """The rows of a ``MaskedRowsAdmin`` queryset that are not masked for this user."""
    return rows.filter(patient_visible=True)


class MaskedChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        rows: QuerySet[Any] = super().get_queryset(request, exclude_parameters)
        model_admin = cast(MaskedRowsAdmin, self.model_admin)
        if model_admin.narrows_by_hidden(request, self, rows):
            rows = only_visible(rows)
        return rows


class MaskedRowsAdmin(admin.ModelAdmin[Any]):
    """Base of every ModelAdmin whose model leads to a patient (see the module docstring)."""

    # The ORM path from the model to the patient its rows are about ("pk" for the patient).
    patient_path: ClassVar[str]
    # Model fields and list columns a masked row may show, find and be ordered by.
    masked_row_fields: ClassVar[frozenset[str]] = frozenset()
    masked_row_inlines: ClassVar[Sequence[type[Any]]] = ()
    show_facets = admin.ShowFacets.NEVER

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        found: list[checks.CheckMessage] = super().check(**kwargs)
        if not getattr(self, "patient_path", ""):
            found.append(
                checks.Error(
                    "A MaskedRowsAdmin names the path to its rows' patient in patient_path.",
                    obj=type(self),
                    id="patients.E001",
                )
            )
        return found

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows: QuerySet[Any] = super().get_queryset(request)
        # One function call per row, inside the list's single query.
        annotated: QuerySet[Any] = rows.annotate(
            patient_visible=IdentityVisible(F(self.patient_path))
        )
        return annotated

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return MaskedChangeList

    # --- what a masked row shows -------------------------------------------------------------

    def get_list_display(self, request: HttpRequest) -> Any:
        return [
            column if column in self.masked_row_fields else self._masked_column(column)
            for column in super().get_list_display(request)
        ]

    def _masked_column(self, name: Any) -> Callable[[Any], Any]:
        """``name`` as a list column that reads "—" on a masked row and as before on others."""
        empty = self.get_empty_value_display()

        def column(obj: Any) -> Any:
            if not row_visible(obj):
                return NOT_SHOWN
            field, attr, value = admin_lookup_field(name, obj, self)
            if field is not None:
                return display_for_field(value, field, empty)
            return display_for_value(value, empty, getattr(attr, "boolean", False))

        column.short_description = label_for_field(name, self.model, self)  # type: ignore[attr-defined]
        order = self._order_field(name)
        if order is not None:
            column.admin_order_field = order  # type: ignore[attr-defined]
        return column

    def _order_field(self, name: Any) -> Any:
        if callable(name):
            return getattr(name, "admin_order_field", None)
        try:
            return self.model._meta.get_field(name).name
        except FieldDoesNotExist:
            attr = getattr(self, name, None) or getattr(self.model, name, None)
            return getattr(attr, "admin_order_field", None)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        if obj is not None and not row_visible(obj):
            return [field for field in fields if field in self.masked_row_fields]
        return fields

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        inlines = super().get_inlines(request, obj)
        if obj is not None and not row_visible(obj):
            return [inline for inline in inlines if inline in self.masked_row_inlines]
        return inlines

    # --- what may find a masked row ----------------------------------------------------------

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        parts = lookup.split(LOOKUP_SEP)
        path = self.patient_path.split(LOOKUP_SEP)
        through_path = path != ["pk"] and parts[: len(path)] in (
            path,
            [*path[:-1], f"{path[-1]}_id"],
        )
        if through_path or {"patient", "patient_id"} & set(parts):
            return False
        allowed: bool = super().lookup_allowed(lookup, value, request)
        return allowed

    def shows(self, lookup: str) -> bool:
        """Whether the lookup reads only a column that masked rows show."""
        first, *rest = lookup.lstrip("-^=@").split(LOOKUP_SEP)
        if first == "pk":
            return True
        try:
            field = self.model._meta.get_field(first)
        except FieldDoesNotExist:
            return first in self.masked_row_fields
        if field.primary_key and not field.is_relation:
            return True
        if field.name not in self.masked_row_fields:
            return False
        return not field.is_relation or set(rest) <= _KEY_PARTS

    def narrows_by_hidden(self, request: HttpRequest, cl: ChangeList, rows: QuerySet[Any]) -> bool:
        """Whether a filter, the search or the ordering reads a column masked rows hide."""
        if any(not self.shows(param) for param in cl.get_filters_params()):
            return True
        if cl.query and any(not self.shows(f) for f in self.get_search_fields(request)):
            return True
        for order in cl.get_ordering(request, rows):
            if not isinstance(order, str):
                # An expression (an annotation's order): not a column the row shows.
                return True
            if not self.shows(order):
                return True
        return False


class DeclaredAutocompleteView(AutocompleteJsonView):
    """Django's autocomplete, for declared fields only and without masked rows (LEAK-1)."""

    def process_request(self, request: HttpRequest) -> Any:
        term, model_admin, source_field, to_field_name = super().process_request(request)
        if self.admin_site is None or not _declares_autocomplete(
            self.admin_site, request, source_field
        ):
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name

    def get_queryset(self) -> QuerySet[Any]:
        rows: QuerySet[Any] = super().get_queryset()
        if isinstance(self.model_admin, MaskedRowsAdmin):
            rows = only_visible(rows)
        return rows


def _declares_autocomplete(site: admin.AdminSite, request: HttpRequest, source: Any) -> bool:
    """Whether an admin of ``source``'s model (registered, or an inline of one) declares it."""
    for model_admin in site._registry.values():
        candidates = [model_admin, *model_admin.get_inline_instances(request)]
        for candidate in candidates:
            if candidate.model is source.model and source.name in (
                candidate.get_autocomplete_fields(request)
            ):
                return True
    return False


class ProductAdminSite(admin.AdminSite):
    """The product's admin site: Django's, with the autocomplete held to declared fields."""

    # The product's name, not "Django administration".
    site_header = gettext_lazy("Assistive device administration")
    site_title = gettext_lazy("Assistive device administration")
    index_title = gettext_lazy("Registers and settings")

    def autocomplete_view(self, request: HttpRequest) -> Any:
        return DeclaredAutocompleteView.as_view(admin_site=self)(request)

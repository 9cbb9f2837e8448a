"""Admin for customer service: reference data, units, register files, quarantine, access log.

No admin page shows a patient's identity: the patient list holds only what every staff member
may see (reference, birth year, protection, status). Editing identities comes through the
protection floor's gate, never through a generic ModelAdmin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from patients.models import (
    AccessEntry,
    Patient,
    QuarantinedRecord,
    Region,
    RegisterFile,
    StaffProfile,
    Unit,
)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Records that are written by the product, never by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ("county_code", "name", "county_letter")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin[Unit]):
    list_display = ("name", "hsa_id", "region")
    list_select_related = ("region",)
    search_fields = ("name", "hsa_id")


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin[StaffProfile]):
    list_display = ("user", "hsa_id", "unit")
    list_select_related = ("user", "unit")
    search_fields = ("user__username", "hsa_id")


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    """Only the non-identifying columns, and for a patient whose identity this user may not see
    (protected, or linked to a protected person: PROT-5) not even region or status: the masked
    row is the birth year alone (ACCESS-1)."""

    list_display = ("reference", "birth_year", "is_protected", "status_shown", "region_shown")
    list_select_related = ("home_region",)
    search_fields = ("reference",)
    fields = list_display
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Patient]:
        # The database's own answer (row-level security's function), so links count as well;
        # one call per listed row, inside the list's single query.
        patients: QuerySet[Patient] = super().get_queryset(request)
        return patients.annotate(
            identity_visible=RawSQL("hjm_identity_visible(patients_patient.id)", [])
        )

    @admin.display(description=_("home region"))
    def region_shown(self, obj: Patient) -> str:
        if not getattr(obj, "identity_visible", False) or obj.home_region is None:
            return "-"
        return obj.home_region.name

    @admin.display(description=_("status"))
    def status_shown(self, obj: Patient) -> str:
        if not getattr(obj, "identity_visible", False):
            return "-"
        return str(obj.get_status_display())


@admin.register(RegisterFile)
class RegisterFileAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "order_id", "file_number", "imported_at")
    fields = ("file_name", "order_id", "file_number", "content_sha256", "imported_at", "summary")
    readonly_fields = fields


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(ReadOnlyAdmin):
    """Position, PostId and reason only: the record itself may be a protected person."""

    list_display = ("register_file", "position", "post_id", "reason", "created_at")
    list_select_related = ("register_file",)
    fields = ("register_file", "position", "post_id", "reason", "created_at", "resolved_at")
    readonly_fields = fields


@admin.register(AccessEntry)
class AccessEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "unit", "action", "outcome", "patient", "patient_protected")
    list_select_related = ("user", "unit", "patient")
    list_filter = ("action", "outcome", "patient_protected")
    date_hierarchy = "at"
    fields = (
        "at",
        "user",
        "unit",
        "action",
        "object_type",
        "object_id",
        "patient",
        "patient_protected",
        "outcome",
        "ip_address",
        "session_ref",
    )
    readonly_fields = fields

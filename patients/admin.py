"""Admin for customer service: reference data, units, register files, quarantine, access log.

No admin page shows a patient's identity: the patient list holds only what every staff member
may see (reference, birth year, protection, status). Editing identities comes through the
protection floor's gate, never through a generic ModelAdmin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
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
    list_display = ("reference", "birth_year", "is_protected", "status", "region_shown")
    list_select_related = ("home_region",)
    list_filter = ("status",)
    search_fields = ("reference",)
    fields = ("reference", "birth_year", "is_protected", "status", "region_shown")
    readonly_fields = fields

    @admin.display(description=_("home region"))
    def region_shown(self, obj: Patient) -> str:
        # ACCESS-1: a protected patient's region would link them to a place.
        if obj.is_protected or obj.home_region is None:
            return "-"
        return obj.home_region.name


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

"""Admin for customer service: reference data, units, register files, quarantine, access log.

No admin page shows a patient's identity: the patient list holds only what every staff member
may see (reference, birth year, protection, status). Editing identities comes through the
protection floor's gate, never through a generic ModelAdmin. The patient list and the access
log are ``MaskedRowsAdmin``: a masked row shows only what ACCESS-1 allows, and filters, search
and ordering on anything else leave it out (patients.admin_masking).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from patients.admin_masking import MaskedRowsAdmin, only_visible
from patients.models import (
    AccessEntry,
    Patient,
    QuarantinedRecord,
    Region,
    RegisterFile,
    StaffProfile,
    Unit,
)
from patients.roles import LIST_PROTECTED_PERMISSION

# What an access entry was about, by the key its floor writes (AUDIT-4).
OBJECT_TYPE_LABELS = {
    "patient": _("Patient"),
    "grant": _("Grant of access"),
    "grant_request": _("Access request"),
    "emergency_access": _("Emergency access"),
    "document_job": _("Document"),
    "document_request": _("Document order"),
    "phone_order": _("Phone order"),
    "special_delivery_agreement": _("Special delivery agreement"),
    "prescription": _("Prescription"),
    "supply_registration": _("Registration with customer service"),
}


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
class PatientAdmin(MaskedRowsAdmin, ReadOnlyAdmin):
    """Only the non-identifying columns, and for a patient whose identity this user may not see
    (protected, or linked to a protected person: PROT-5) not even region or status: the masked
    row is the reference and the birth year (ACCESS-1).

    Only a role that holds ``patients.list_protected`` (protection administrators, who decide
    grants) has masked rows in the list at all; for everybody else, a superuser too, the list
    and its search hold no protected person. They find a patient through the product's search,
    which goes through the gate and leaves an access entry (AUDIT-1)."""

    patient_path = "pk"
    list_display = ("reference", "birth_year", "protected", "status", "home_region")
    masked_row_fields = frozenset({"id", "reference", "birth_year", "protected"})
    list_select_related = ("home_region",)
    search_fields = ("reference",)
    ordering = ("reference",)
    fields = list_display
    readonly_fields = fields

    # A generated column is not a BooleanField to Django's admin, which would print "False".
    @admin.display(
        boolean=True,
        description=Patient._meta.get_field("is_protected").verbose_name,
        ordering="is_protected",
    )
    def protected(self, obj: Patient) -> bool:
        return bool(obj.is_protected)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Patient]:
        patients: QuerySet[Patient] = super().get_queryset(request)
        if _lists_protected(request.user):
            return patients
        return only_visible(patients)


def _lists_protected(user: Any) -> bool:
    """Through the role only: a superuser or a permission given by hand does not count (as
    protection.permissions.holds_role_permission, a floor above)."""
    if not (user.is_authenticated and user.is_active) or user.is_superuser:
        return False
    return LIST_PROTECTED_PERMISSION in user.get_group_permissions()


# The import's counts (patients.navet.summary.ImportSummary), named for the reader.
SUMMARY_LABELS = {
    "files": _("files"),
    "records": _("records read"),
    "created": _("patients added"),
    "updated": _("patients updated"),
    "unchanged": _("unchanged"),
    "rejected": _("rejected"),
    "protection_added": _("protection added"),
    "protection_removed": _("protection removed"),
    "deceased": _("deceased"),
    "already_imported": _("already imported"),
    "errors": _("errors"),
    "dry_run": _("trial run, nothing written"),
}


@admin.register(RegisterFile)
class RegisterFileAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "order_id", "file_number", "imported_at")
    fields = (
        "file_name",
        "order_id",
        "file_number",
        "content_sha256",
        "imported_at",
        "summary_shown",
    )
    readonly_fields = fields

    @admin.display(description=RegisterFile._meta.get_field("summary").verbose_name)
    def summary_shown(self, obj: RegisterFile) -> SafeString:
        lines = []
        for key, value in obj.summary.items():
            if isinstance(value, bool):
                shown: Any = _("Yes") if value else _("No")
            elif isinstance(value, list):
                shown = len(value)
            else:
                shown = value
            lines.append((SUMMARY_LABELS.get(key, key), shown))
        return format_html_join(mark_safe("<br>"), "{}: {}", lines)


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(ReadOnlyAdmin):
    """Position, PostId and reason only: the record itself may be a protected person."""

    list_display = ("register_file", "position", "post_id", "reason", "created_at")
    list_select_related = ("register_file",)
    fields = ("register_file", "position", "post_id", "reason", "created_at", "resolved_at")
    readonly_fields = fields


@admin.register(AccessEntry)
class AccessEntryAdmin(MaskedRowsAdmin, ReadOnlyAdmin):
    """The access log as rows of internal references (AUDIT-4). An entry about a masked patient
    shows neither the patient nor who read it from which unit: the log review (AUDIT-3) is where
    a protection administrator follows a patient's accesses."""

    patient_path = "patient"
    masked_row_fields = frozenset(
        {"id", "at", "action", "object_kind", "outcome", "patient_protected"}
    )
    list_display = ("at", "user", "unit", "action", "outcome", "patient", "patient_protected")
    list_select_related = ("user", "unit", "patient")
    list_filter = ("action", "outcome", "patient_protected")
    date_hierarchy = "at"
    fields = (
        "at",
        "user",
        "unit",
        "action",
        "object_kind",
        "object_id",
        "patient",
        "patient_protected",
        "outcome",
        "ip_address",
        "session_ref",
    )
    readonly_fields = fields

    @admin.display(description=_("object type"), ordering="object_type")
    def object_kind(self, obj: AccessEntry) -> str:
        # The floors write their own keys; the known ones are named, another shows as written.
        return str(OBJECT_TYPE_LABELS.get(obj.object_type, obj.object_type) or "-")

"""The logistics floor in the admin, for customer service: stores are edited here; stock,
reservations, orders (with their lines and history), devices (with their history) and urgent
fees are read-only, since the product writes them through its services.

ACCESS-1, LEAK-1, LEAK-5: every admin whose rows lead to a patient (orders, urgent fees,
devices, reservations) is a ``patients.admin_masking.MaskedRowsAdmin``. Where the database hides
the patient's identity from this user, a row shows only its ``masked_row_fields``: never the
unit, the prescriber, the region, a store (a buffer store belongs to a unit), who did what, or
notes; filters, search and ordering on the other columns leave masked rows out, and no list is
filtered by patient. A patient appears by internal reference only, and not even that on a
masked row.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    CustomerOrderTransition,
    Deviation,
    Device,
    DeviceEvent,
    Incident,
    RecirculationPolicy,
    Reservation,
    StockLevel,
    StockLocation,
    UrgentFee,
    WorkOrder,
    WorkOrderPart,
    WorkOrderTransition,
)
from patients.admin_masking import IdentityVisible, MaskedRowsAdmin, row_visible
from patients.presenters import PROTECTED_LABEL


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StockLocation)
class StockLocationAdmin(admin.ModelAdmin[StockLocation]):
    """The stores: customer service adds and edits them (no patient data)."""

    list_display = ("code", "name", "kind", "region", "unit", "active")
    list_filter = ("kind", "active")
    list_select_related = ("region", "unit")
    search_fields = ("code", "name")
    fields = ("code", "name", "kind", "region", "unit", "active")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Stock, devices and orders refer to a store; it is made inactive instead.
        return False


@admin.register(RecirculationPolicy)
class RecirculationPolicyAdmin(admin.ModelAdmin[RecirculationPolicy]):
    """DEVICE-3: customer service sets how old (and how often reissued) a returned device of an
    article or product area may be to be reconditioned (no patient data)."""

    list_display = ("article", "product_area", "max_age_months", "max_times_reissued")
    list_select_related = ("article", "product_area")
    # The catalogue holds thousands of articles: chosen by id, not from a list.
    raw_id_fields = ("article",)
    search_fields = ("article__article_number", "article__name", "product_area__name")
    fields = ("article", "product_area", "max_age_months", "max_times_reissued")


@admin.register(StockLevel)
class StockLevelAdmin(_ReadOnly, admin.ModelAdmin[StockLevel]):
    list_display = (
        "article",
        "location",
        "physical",
        "reserved",
        "backordered",
        "available",
        "on_order",
        "reorder_point",
        "reorder_quantity",
    )
    list_filter = ("location",)
    list_select_related = ("article", "location")
    search_fields = ("article__article_number",)
    fields = list_display
    readonly_fields = fields


@admin.register(Reservation)
class ReservationAdmin(_ReadOnly, MaskedRowsAdmin):
    """LOG-1: what drafts and orders hold reserved. A reservation is about the patient of its
    draft or of its order; a masked one shows what and how many, not where or by whom."""

    patient_path = "order_line__order__patient"
    list_display = (
        "id",
        "article",
        "location",
        "quantity",
        "state",
        "holder",
        "created_at",
        "lapses_at",
        "ended_at",
    )
    list_filter = ("state",)
    list_select_related = ("article", "location", "holder")
    fields = (
        "article",
        "location",
        "quantity",
        "state",
        "holder",
        "created_at",
        "lapses_at",
        "ended_at",
        "ended_by",
        "lapse_notified_at",
    )
    readonly_fields = fields
    masked_row_fields = frozenset(
        {"id", "article", "quantity", "state", "created_at", "lapses_at", "ended_at"}
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The patient of the draft (LOG-1) or of the order: the database's answer for either.
        rows: QuerySet[Any] = admin.ModelAdmin.get_queryset(self, request)
        annotated: QuerySet[Any] = rows.annotate(
            patient_visible=IdentityVisible(
                Coalesce(
                    F("order_line__order__patient"), F("prescription_line__prescription__patient")
                )
            )
        )
        return annotated


class OrderLineInline(_ReadOnly, admin.TabularInline[CustomerOrderLine, CustomerOrder]):
    model = CustomerOrderLine
    fields = ("position", "article", "quantity", "supply", "state", "promised_on", "delivered_on")
    readonly_fields = fields
    extra = 0


class OrderTransitionInline(_ReadOnly, admin.TabularInline[CustomerOrderTransition, CustomerOrder]):
    model = CustomerOrderTransition
    fields = ("at", "from_state", "to_state", "by", "note")
    readonly_fields = fields
    extra = 0


@admin.register(CustomerOrder)
class CustomerOrderAdmin(_ReadOnly, MaskedRowsAdmin):
    patient_path = "patient"
    list_display = (
        "number",
        "kind",
        "patient_shown",
        "unit",
        "orderer",
        "state",
        "urgent",
        "promised_on",
        "created_at",
    )
    list_filter = ("kind", "state", "urgent")
    list_select_related = ("patient", "unit__unit", "orderer")
    search_fields = ("number",)
    fields = (
        "number",
        "kind",
        "patient_shown",
        "unit",
        "orderer",
        "state",
        "urgent",
        "agreement_type",
        "destination_kind",
        "delivery_unit",
        "delivery_contact",
        "pickup_point",
        "from_location",
        "to_location",
        "supplier_direct",
        "promised_on",
        "created_at",
        "cancelled_reason",
    )
    readonly_fields = fields
    # LEAK-5: a masked order is known by its number, its state and its promise; not by the
    # unit, prescriber, destination, store or the reason it was cancelled.
    masked_row_fields = frozenset(
        {"number", "kind", "patient_shown", "state", "urgent", "promised_on", "created_at"}
    )
    inlines = (OrderLineInline, OrderTransitionInline)
    # The history names who moved the order and carries notes; the lines say what only.
    masked_row_inlines = (OrderLineInline,)

    @admin.display(description=_("patient"))
    def patient_shown(self, obj: CustomerOrder) -> str:
        if obj.patient_id is None:
            return "-"
        if not row_visible(obj):
            return str(PROTECTED_LABEL)
        return obj.patient.reference if obj.patient is not None else "-"


@admin.register(UrgentFee)
class UrgentFeeAdmin(_ReadOnly, MaskedRowsAdmin):
    """The urgent orders' fees the billing floor invoices: order number and amount."""

    patient_path = "order__patient"
    list_display = ("order", "amount_sek", "recorded_at")
    list_select_related = ("order",)
    search_fields = ("order__number",)
    fields = list_display
    readonly_fields = fields
    masked_row_fields = frozenset({"order", "amount_sek", "recorded_at"})


class DeviceEventInline(_ReadOnly, admin.TabularInline[DeviceEvent, Device]):
    model = DeviceEvent
    fields = ("at", "from_state", "to_state", "by", "note")
    readonly_fields = fields
    extra = 0


@admin.register(Device)
class DeviceAdmin(_ReadOnly, MaskedRowsAdmin):
    """DEVICE-1: the register. A device a masked patient holds shows what it is and its dates,
    not its region, store, unit or history (who handled it, notes)."""

    patient_path = "holder_patient"
    list_display = (
        "serial_number",
        "article",
        "status",
        "holder_kind",
        "holder_shown",
        "owner_region",
        "location",
        "next_service_on",
    )
    list_filter = ("status", "holder_kind")
    list_select_related = ("article", "holder_patient", "holder_unit", "owner_region", "location")
    search_fields = ("serial_number", "lot_number", "article__article_number")
    fields = (
        "serial_number",
        "article",
        "lot_number",
        "gtin",
        "status",
        "holder_kind",
        "holder_shown",
        "owner_region",
        "location",
        "times_reissued",
        "received_on",
        "lifespan_until",
        "warranty_until",
        "next_service_on",
        "created_at",
    )
    readonly_fields = fields
    masked_row_fields = frozenset(
        {
            "serial_number",
            "article",
            "gtin",
            "status",
            "holder_kind",
            "holder_shown",
            "times_reissued",
            "received_on",
            "lifespan_until",
            "warranty_until",
            "next_service_on",
            "created_at",
        }
    )
    inlines = (DeviceEventInline,)
    masked_row_inlines = ()

    @admin.display(description=_("held by"))
    def holder_shown(self, obj: Device) -> str:
        if obj.holder_patient_id is not None:
            if not row_visible(obj):
                return str(_("a patient"))
            return obj.holder_patient.reference if obj.holder_patient is not None else "-"
        if obj.holder_unit is not None:
            return obj.holder_unit.name
        return obj.location.name if obj.location is not None else "-"


class WorkOrderPartInline(_ReadOnly, admin.TabularInline[WorkOrderPart, WorkOrder]):
    model = WorkOrderPart
    fields = ("article", "quantity", "location", "at")
    readonly_fields = fields
    extra = 0


class WorkOrderTransitionInline(_ReadOnly, admin.TabularInline[WorkOrderTransition, WorkOrder]):
    model = WorkOrderTransition
    fields = ("at", "from_state", "to_state", "by", "note")
    readonly_fields = fields
    extra = 0


@admin.register(WorkOrder)
class WorkOrderAdmin(_ReadOnly, MaskedRowsAdmin):
    """Work orders (issue 11), read by customer service; the product's pages write them. A
    masked row (PRESC-10, LEAK-5) is known by its number, kind, state and dates only: not the
    device, the prescriber, the workshop, the texts or the caller's phone number."""

    patient_path = "patient"
    list_display = (
        "number",
        "kind",
        "state",
        "device",
        "prescriber",
        "workshop",
        "technician",
        "due_on",
        "created_at",
    )
    list_filter = ("kind", "state", "source")
    list_select_related = ("device", "prescriber", "workshop", "technician", "patient")
    search_fields = ("number",)
    fields = (
        "number",
        "kind",
        "state",
        "source",
        "device",
        "article",
        "prescriber",
        "contact_unit",
        "workshop",
        "technician",
        "author",
        "supplier",
        "description",
        "caller_phone",
        "due_on",
        "minutes_spent",
        "result",
        "rejection_reason",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    masked_row_fields = frozenset(
        {"number", "kind", "state", "due_on", "created_at", "started_at", "finished_at"}
    )
    inlines = (WorkOrderPartInline, WorkOrderTransitionInline)
    masked_row_inlines = ()


@admin.register(Deviation)
class DeviationAdmin(_ReadOnly, MaskedRowsAdmin):
    """QUAL-1, read-only (the product's pages handle deviations): the patient by internal
    reference only; a deviation about a masked patient shows its number, category, state and
    dates, never what was written (it may describe the person's situation) or who reported."""

    patient_path = "patient"
    list_display = ("__str__", "category", "state", "reported_at", "order_number", "patient_shown")
    list_filter = ("state", "category")
    list_select_related = ("patient",)
    search_fields = ("order_number", "serial_number")
    fields = (
        "category",
        "state",
        "reported_at",
        "reported_by",
        "order_number",
        "serial_number",
        "patient_shown",
        "without_person",
        "description",
        "conclusion",
    )
    readonly_fields = fields
    masked_row_fields = frozenset({"__str__", "category", "state", "reported_at", "patient_shown"})

    @admin.display(description=_("patient"))
    def patient_shown(self, obj: Deviation) -> str:
        if obj.patient_id is None:
            return str(_("Without the person (ej person)")) if obj.without_person else "-"
        if not row_visible(obj):
            return str(PROTECTED_LABEL)
        return obj.patient.reference if obj.patient is not None else "-"


@admin.register(Incident)
class IncidentAdmin(_ReadOnly, MaskedRowsAdmin):
    """QUAL-2, read-only: an incident is about a device and names no patient; its device may be
    held by a masked patient (LEAK-1), so such a row shows the incident's number, state and
    dates, never the device, the work order or what happened."""

    patient_path = "device__holder_patient"
    masked_row_fields = frozenset({"__str__", "state", "occurred_on", "raised_at"})

    list_display = ("__str__", "device", "state", "occurred_on", "raised_at")
    list_filter = ("state",)
    list_select_related = ("device",)
    search_fields = ("device__serial_number", "work_order__number")
    fields = (
        "device",
        "state",
        "occurred_on",
        "work_order",
        "description",
        "raised_by",
        "raised_at",
        "sent_to_manufacturer_at",
        "sent_to_agency_at",
        "conclusion",
    )
    readonly_fields = fields

"""Prescriptions in the admin: read why a prescription went the way it did; phone orders.

No page here shows a protected patient's identity: a patient appears by internal reference, and
not even that where the database says the identity is hidden from this user
(``hjm_identity_visible``, as patients/admin.py). Everything is read-only except the two things
customer service does, and both go through the services: entering a phone order (PRESC-2: the
form offers no address or contact, delivery is computed) and clearing a registration
(REGION-3).

ACCESS-1, LEAK-1: where the patient's identity is hidden from this user, a row hides where the
patient is cared for as well: unit, prescriber, region and free text, the eligibility record (it
names the home region) and the history (actor, notes); the agreement and invoice rows hide their
region. No list may be filtered by patient (``lookup_allowed``): a filter by patient id would
tie a masked patient to their orders.

LEAK-3: a supply registration's details (personnummer, name, address, phone, door code) are shown
on its admin page only after the gate's decision for this user, with step-up (ACCESS-4), and
every opening of the page writes the gate's access entry (AUDIT-1), allowed or denied.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from patients.presenters import PROTECTED_LABEL
from prescriptions.models import (
    Article,
    ConsultationActivity,
    EligibilityRecord,
    HomeRegionAgreement,
    InvoiceMark,
    PrescribingUnit,
    Prescription,
    PrescriptionLine,
    PrescriptionTransition,
    SupplyRegistration,
    Urgency,
)
from prescriptions.services.errors import PrescriptionError
from prescriptions.services.phone_orders import PhoneOrderLine, prescription_phone_order_create
from prescriptions.services.region import (
    CLEAR_PERMISSION,
    out_of_region_deactivate,
    supply_registration_clear,
)
from protection.gate import AccessContext, Decision, patient_get_for_user
from protection.permissions import holds_role_permission
from protection.refusals import PatientNotFound

NOT_SHOWN = "—"


def _visible(obj: Any) -> bool:
    return bool(getattr(obj, "patient_visible", False))


class _NoPatientLookups:
    """LEAK-1: no list is filtered by a patient (``?patient=``, ``?prescription__patient=``)."""

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        if any(part == "patient" for part in lookup.split("__")):
            return False
        allowed: bool = super().lookup_allowed(lookup, value, request)  # type: ignore[misc]
        return allowed


def _annotate_visible(queryset: QuerySet[Any], patient_id_sql: str) -> QuerySet[Any]:
    """``patient_visible``: the database's answer for this user (``hjm_identity_visible``)."""
    # patient_id_sql is one of this module's constant expressions, never user input.
    sql = f"hjm_identity_visible({patient_id_sql})"
    annotated: QuerySet[Any] = queryset.annotate(patient_visible=RawSQL(sql, []))  # noqa: S611
    return annotated


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LineInline(_ReadOnly, admin.TabularInline[PrescriptionLine, Prescription]):
    model = PrescriptionLine
    fields = (
        "position",
        "article",
        "quantity",
        "supply",
        "main_line",
        "unit_price_sek",
        "special_adaptation",
        "requested_article",
    )
    readonly_fields = fields
    extra = 0


class TransitionInline(_ReadOnly, admin.TabularInline[PrescriptionTransition, Prescription]):
    model = PrescriptionTransition
    fields = ("at", "from_state", "to_state", "by", "note")
    readonly_fields = fields
    extra = 0


class EligibilityInline(_ReadOnly, admin.StackedInline[EligibilityRecord, Prescription]):
    """The "why": every criterion, its value, the rule and its effect."""

    model = EligibilityRecord
    fields = ("evaluated_at", "outcome", "total_cost_sek", "why")
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("criteria"))
    def why(self, obj: EligibilityRecord) -> str:
        return "\n".join(
            f"{c['rule']}: {c['criterion']} = {c['value']} ({c['effect']}) {c.get('message', '')}"
            for c in obj.criteria
        )


class PhoneOrderForm(forms.ModelForm[Prescription]):
    """PRESC-2: who, for whom and what; never where to or whom to call. The service computes
    delivery and submits the order under the same rules as the prescriber's pages."""

    patient_reference = forms.RegexField(label=_("patient reference"), regex=r"^P-[0-9A-Z]{10}$")
    # Not named after the model's fields: the instance is never validated, the service writes.
    ordering_prescriber = forms.ModelChoiceField(
        label=_("prescriber"),
        queryset=get_user_model().objects.filter(prescriber_profile__isnull=False, is_active=True),
    )
    ordering_unit = forms.ModelChoiceField(label=_("unit"), queryset=PrescribingUnit.objects.all())
    article_number = forms.CharField(label=_("article number"), max_length=32)
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, initial=1)
    need = forms.CharField(label=_("the need it meets"), required=False, widget=forms.Textarea)
    urgency = forms.ChoiceField(label=_("urgency"), choices=Urgency.choices)

    request: HttpRequest
    created: Prescription | None = None

    class Meta:
        model = Prescription
        fields: list[str] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        article = Article.objects.filter(article_number=data["article_number"]).first()
        if article is None:
            raise forms.ValidationError(_("No such article."))
        try:
            # Inside the admin's transaction: a refusal leaves nothing behind.
            self.created = prescription_phone_order_create(
                ctx=AccessContext.from_request(self.request),
                patient_reference=data["patient_reference"],
                prescriber_id=data["ordering_prescriber"].pk,
                unit_id=data["ordering_unit"].pk,
                lines=[PhoneOrderLine(article_id=article.pk, quantity=data["quantity"])],
                need=data.get("need", ""),
                urgency=data["urgency"],
            )
        except (PrescriptionError, PatientNotFound) as error:
            raise forms.ValidationError(str(error)) from error
        return data


@admin.register(Prescription)
class PrescriptionAdmin(_NoPatientLookups, admin.ModelAdmin[Prescription]):
    list_display = (
        "reference",
        "patient_shown",
        "unit_shown",
        "prescriber_shown",
        "state",
        "phone_order",
        "created_at",
    )
    list_filter = ("state", "phone_order", "urgency")
    list_select_related = ("patient", "unit__unit", "prescriber")
    search_fields = ("reference",)
    fields = (
        "reference",
        "patient_shown",
        "unit",
        "prescriber",
        "state",
        "need",
        "urgency",
        "fitting_note",
        "delivery_kind",
        "delivery_unit",
        "delivery_contact",
        "phone_order",
        "entered_by",
        "risk_assessment_signed_at",
        "fitted_at",
        "journal_note_confirmed",
        "liability_form_signed",
        "created_at",
        "submitted_at",
        "decided_at",
    )
    readonly_fields = fields
    # ACCESS-1: what tells where a masked patient is cared for, or what was written about them.
    MASKED_OUT = frozenset(
        {"unit", "prescriber", "need", "fitting_note", "delivery_unit", "delivery_contact"}
    )
    inlines = (LineInline, TransitionInline, EligibilityInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Prescription]:
        return _annotate_visible(
            super().get_queryset(request), "prescriptions_prescription.patient_id"
        )

    @admin.display(description=_("patient"))
    def patient_shown(self, obj: Prescription) -> str:
        if not _visible(obj):
            return str(PROTECTED_LABEL)
        return obj.patient.reference

    @admin.display(description=_("unit"))
    def unit_shown(self, obj: Prescription) -> str:
        return str(obj.unit) if _visible(obj) else NOT_SHOWN

    @admin.display(description=_("prescriber"))
    def prescriber_shown(self, obj: Prescription) -> str:
        return str(obj.prescriber) if _visible(obj) else NOT_SHOWN

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return holds_role_permission(request.user, "prescriptions.add_phone_order")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)

        class Bound(PhoneOrderForm):
            pass

        Bound.request = request
        return Bound

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [
                "patient_reference",
                "ordering_prescriber",
                "ordering_unit",
                "article_number",
                "quantity",
                "need",
                "urgency",
            ]
        if not _visible(obj):
            return [field for field in self.fields if field not in self.MASKED_OUT]
        return self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj) if obj is not None else ()

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        if obj is None:
            return ()
        # ACCESS-1: the eligibility record names the home region; the history names the prescriber
        # and carries notes. The lines say what, not where.
        return self.inlines if _visible(obj) else (LineInline,)

    def save_model(self, request: HttpRequest, obj: Prescription, form: Any, change: bool) -> None:
        # The service has written the order in the form's clean(); the admin shows that row.
        created = form.created
        obj.pk = created.pk
        obj.reference = created.reference

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None


@admin.register(HomeRegionAgreement)
class HomeRegionAgreementAdmin(_NoPatientLookups, _ReadOnly, admin.ModelAdmin[HomeRegionAgreement]):
    """REGION-2 agreements; the document's content stays out of the admin (it names the
    patient). A masked patient's agreement hides the region and the reference (ACCESS-1)."""

    list_display = (
        "prescription",
        "region_shown",
        "reference_shown",
        "issued_on",
        "supply",
        "document_name",
        "recorded_at",
    )
    list_select_related = ("prescription", "issuing_region")
    fields = (
        "prescription",
        "region_shown",
        "reference_shown",
        "issued_on",
        "supply",
        "document_name",
        "document_size",
        "recorded_by",
        "recorded_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[HomeRegionAgreement]:
        return _annotate_visible(
            super().get_queryset(request),
            "(SELECT p.patient_id FROM prescriptions_prescription p "
            "WHERE p.id = prescriptions_homeregionagreement.prescription_id)",
        )

    @admin.display(description=_("issuing region"))
    def region_shown(self, obj: HomeRegionAgreement) -> str:
        return str(obj.issuing_region) if _visible(obj) else NOT_SHOWN

    @admin.display(description=_("reference"))
    def reference_shown(self, obj: HomeRegionAgreement) -> str:
        return obj.reference if _visible(obj) else NOT_SHOWN


@admin.register(SupplyRegistration)
class SupplyRegistrationAdmin(_NoPatientLookups, _ReadOnly, admin.ModelAdmin[SupplyRegistration]):
    """REGION-3: registrations for customer service to clear. The person's details are shown
    on the page only when the gate opens the patient to this user, step-up included; each
    opening is logged by the gate (LEAK-3, ACCESS-4, AUDIT-1). The list shows none."""

    list_display = ("pk", "episode", "state", "requested_at", "cleared_at")
    list_filter = ("state",)
    actions = ("clear_selected",)
    fields = (
        "state",
        "details",
        "prescriber_name",
        "prescriber_email",
        "requested_by",
        "requested_at",
        "cleared_by",
        "cleared_at",
        "deactivated_at",
    )
    readonly_fields = fields

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        patient_reference = (
            SupplyRegistration.objects.filter(pk=int(object_id))
            .values_list("episode__patient__reference", flat=True)
            .first()
            if object_id.isdigit()
            else None
        )
        decision = Decision.MASKED
        if patient_reference is not None:
            # The gate decides and writes the access entry, allowed or denied (AUDIT-1).
            decision = patient_get_for_user(
                AccessContext.from_request(request), patient_reference
            ).decision
            if decision is Decision.STEP_UP:
                self.message_user(
                    request,
                    _("Confirm your password to see the registration details."),
                    messages.INFO,
                )
        request.registration_details_open = decision is Decision.FULL  # type: ignore[attr-defined]
        return super().change_view(request, object_id, form_url, extra_context)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if getattr(request, "registration_details_open", False):
            return self.fields
        return tuple("details_masked" if field == "details" else field for field in self.fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    @admin.display(description=_("registration details"))
    def details_masked(self, obj: SupplyRegistration) -> str:
        return str(PROTECTED_LABEL)

    @admin.display(description=_("registration details"))
    def details(self, obj: SupplyRegistration) -> str:
        address = obj.address or {}
        parts = [
            obj.identity_number,
            obj.name,
            address.get("care_of", ""),
            address.get("street", ""),
            address.get("postal_code", ""),
            address.get("town", ""),
            obj.phone or "",
            obj.door_code or "",
        ]
        return ", ".join(part for part in parts if part)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return holds_role_permission(request.user, "prescriptions.change_supplyregistration")

    @admin.action(description=_("Clear the selected registrations"))
    def clear_selected(self, request: HttpRequest, queryset: QuerySet[SupplyRegistration]) -> None:
        ctx = AccessContext.from_request(request)
        for registration_id in queryset.values_list("pk", flat=True):
            try:
                supply_registration_clear(ctx=ctx, registration_id=registration_id)
            except PrescriptionError as error:
                self.message_user(request, str(error), messages.ERROR)


@admin.register(ConsultationActivity)
class ConsultationActivityAdmin(
    _NoPatientLookups, _ReadOnly, admin.ModelAdmin[ConsultationActivity]
):
    list_display = ("pk", "unit", "prescriber", "state", "created_at", "booked_for", "closed_at")
    list_filter = ("state",)
    list_select_related = ("unit__unit", "prescriber")
    fields = ("unit", "prescriber", "state", "created_at", "booked_for", "closed_at")
    readonly_fields = fields


@admin.register(InvoiceMark)
class InvoiceMarkAdmin(_NoPatientLookups, _ReadOnly, admin.ModelAdmin[InvoiceMark]):
    """REGION-1/5: what the billing floor will invoice. A masked patient's mark hides the
    region and the paid unit (ACCESS-1)."""

    list_display = (
        "prescription",
        "payer",
        "region_shown",
        "payee_unit_shown",
        "amount_sek",
        "rule",
        "deactivate_after_invoicing",
        "created_at",
        "invoiced_at",
    )
    list_select_related = ("prescription", "region", "payee_unit__unit")
    list_filter = ("payer", "rule", "deactivate_after_invoicing")
    fields = list_display
    readonly_fields = fields
    actions = ("deactivate_selected",)

    def has_deactivate_permission(self, request: HttpRequest) -> bool:
        return holds_role_permission(request.user, CLEAR_PERMISSION)

    @admin.action(
        description=_("Deactivate the patients of the selected invoiced prescriptions (REGION-4)"),
        permissions=["deactivate"],
    )
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[InvoiceMark]) -> None:
        """REGION-4 through the service: each mark on its own, each refusal shown."""
        ctx = AccessContext.from_request(request)
        done = 0
        for mark_id in queryset.values_list("pk", flat=True):
            try:
                out_of_region_deactivate(ctx=ctx, invoice_mark_id=mark_id)
            except PrescriptionError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                _("%(count)d patients deactivated; on return the paying region is checked again.")
                % {"count": done},
                messages.SUCCESS,
            )

    def get_queryset(self, request: HttpRequest) -> QuerySet[InvoiceMark]:
        return _annotate_visible(
            super().get_queryset(request),
            "(SELECT p.patient_id FROM prescriptions_prescription p "
            "WHERE p.id = prescriptions_invoicemark.prescription_id)",
        )

    @admin.display(description=_("region"))
    def region_shown(self, obj: InvoiceMark) -> str:
        return str(obj.region) if _visible(obj) and obj.region_id else NOT_SHOWN

    @admin.display(description=_("paid to unit"))
    def payee_unit_shown(self, obj: InvoiceMark) -> str:
        return str(obj.payee_unit) if _visible(obj) and obj.payee_unit_id else NOT_SHOWN

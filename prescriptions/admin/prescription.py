"""Prescriptions in the admin: read why a prescription went the way it did; phone orders.

No page here shows a protected patient's identity: a patient appears by internal reference, and
not even that where the database says the identity is hidden from this user
(``hjm_identity_visible``, as patients/admin.py). Everything is read-only except the two things
customer service does, and both go through the services: entering a phone order (PRESC-2: the
form offers no address or contact, delivery is computed) and clearing a registration
(REGION-3).

ACCESS-1, LEAK-1: every admin here is a ``patients.admin_masking.MaskedRowsAdmin``. Where the
patient's identity is hidden from this user, a row shows only its ``masked_row_fields``: never
where the patient is cared for (unit, prescriber, region, delivery), who wrote about them, or
free text; the prescription's change page keeps its lines only (the eligibility record names the
home region, the history names the prescriber and carries notes). Filters, search and ordering on
the hidden columns leave masked rows out, and no list is filtered by patient.

LEAK-3: a supply registration's details (personnummer, name, address, phone, door code) are shown
on its admin page only after the gate's decision for this user, with step-up (ACCESS-4), and
every opening of the page writes the gate's access entry (AUDIT-1), allowed or denied.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from patients.admin_masking import MaskedRowsAdmin, row_visible
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
from prescriptions.presenters import CRITERION_LABELS, EFFECT_LABELS
from prescriptions.services.errors import FieldRefused, PrescriptionError
from prescriptions.services.phone_orders import PhoneOrderLine, prescription_phone_order_create
from prescriptions.services.region import (
    CLEAR_PERMISSION,
    out_of_region_deactivate,
    supply_registration_clear,
)
from protection.gate import AccessContext, Decision, patient_get_for_user
from protection.permissions import holds_role_permission
from protection.refusals import PatientNotFound


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
    def why(self, obj: EligibilityRecord) -> SafeString:
        # As the prescription page says it: each criterion's name, its value in words and what
        # it did; the rules' ids in a folded detail of their own, for the auditor who looks
        # them up (a reader of the page is not shown rule ids).
        lines = []
        rules = []
        for c in obj.criteria:
            value = c.get("value")
            shown = (_("Yes") if value else _("No")) if isinstance(value, bool) else value
            label = CRITERION_LABELS.get(c.get("criterion", ""), c.get("criterion", ""))
            effect = EFFECT_LABELS.get(c.get("effect", ""), c.get("effect", ""))
            message = f": {c['message']}" if c.get("message") else ""
            lines.append((f"{label}: {shown}. {effect}{message}",))
            rules.append((f"{label}: {c.get('rule', '')}",))
        return format_html(
            "{}<details><summary>{}</summary>{}</details>",
            format_html_join(mark_safe("<br>"), "{}", lines),
            _("Rules (for auditors)"),
            format_html_join(mark_safe("<br>"), "{}", rules),
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
        except FieldRefused as error:
            # The service names the field it refuses (an empty need): the message goes next to it.
            field = error.field if error.field in self.fields else None
            raise forms.ValidationError({field or NON_FIELD_ERRORS: str(error)}) from error
        except (PrescriptionError, PatientNotFound) as error:
            raise forms.ValidationError(str(error)) from error
        return data


@admin.register(Prescription)
class PrescriptionAdmin(MaskedRowsAdmin):
    patient_path = "patient"
    list_display = (
        "reference",
        "patient_shown",
        "unit",
        "prescriber",
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
        "fitted_at",
        "journal_note_confirmed",
        "liability_form_signed",
        "created_at",
        "submitted_at",
        "decided_at",
    )
    readonly_fields = fields
    # ACCESS-1: not where a masked patient is cared for, who wrote about them, or what.
    masked_row_fields = frozenset(
        {
            "reference",
            "patient_shown",
            "state",
            "urgency",
            "delivery_kind",
            "phone_order",
            "fitted_at",
            "journal_note_confirmed",
            "liability_form_signed",
            "created_at",
            "submitted_at",
            "decided_at",
        }
    )
    inlines = (LineInline, TransitionInline, EligibilityInline)
    # The eligibility record names the home region; the history names the prescriber and
    # carries notes. The lines say what, not where.
    masked_row_inlines = (LineInline,)

    @admin.display(description=_("patient"))
    def patient_shown(self, obj: Prescription) -> str:
        if not row_visible(obj):
            return str(PROTECTED_LABEL)
        return obj.patient.reference

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
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj) if obj is not None else ()

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return () if obj is None else super().get_inlines(request, obj)

    def save_model(self, request: HttpRequest, obj: Prescription, form: Any, change: bool) -> None:
        # The service has written the order in the form's clean(); the admin shows that row.
        created = form.created
        obj.pk = created.pk
        obj.reference = created.reference

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None


@admin.register(HomeRegionAgreement)
class HomeRegionAgreementAdmin(_ReadOnly, MaskedRowsAdmin):
    """REGION-2 agreements; the document's content stays out of the admin (it names the
    patient). A masked patient's agreement hides the region, the other region's reference and
    the file's name, which the other region chose (ACCESS-1)."""

    patient_path = "prescription__patient"
    list_display = (
        "prescription",
        "issuing_region",
        "reference",
        "issued_on",
        "supply",
        "document_name",
        "recorded_at",
    )
    list_select_related = ("prescription", "issuing_region")
    fields = (
        "prescription",
        "issuing_region",
        "reference",
        "issued_on",
        "supply",
        "document_name",
        "document_size",
        "recorded_by",
        "recorded_at",
    )
    readonly_fields = fields
    masked_row_fields = frozenset(
        {"prescription", "issued_on", "supply", "document_size", "recorded_at"}
    )


@admin.register(SupplyRegistration)
class SupplyRegistrationAdmin(_ReadOnly, MaskedRowsAdmin):
    """REGION-3: registrations for customer service to clear. The person's details are shown
    on the page only when the gate opens the patient to this user, step-up included; each
    opening is logged by the gate (LEAK-3, ACCESS-4, AUDIT-1). The list shows none."""

    patient_path = "episode__patient"
    list_display = ("pk", "episode", "state", "requested_at", "cleared_at")
    list_filter = ("state",)
    # The episode names the unit; the prescriber and who asked or cleared tell where.
    masked_row_fields = frozenset(
        {"pk", "state", "details_masked", "requested_at", "cleared_at", "deactivated_at"}
    )
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
        fields: tuple[str, ...] = self.fields
        if not getattr(request, "registration_details_open", False):
            fields = tuple("details_masked" if field == "details" else field for field in fields)
        if obj is not None and not row_visible(obj):
            return [field for field in fields if field in self.masked_row_fields]
        return fields

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
class ConsultationActivityAdmin(_ReadOnly, MaskedRowsAdmin):
    """PRESC-7 activities; a masked patient's activity shows its state and times only."""

    patient_path = "patient"
    list_display = ("pk", "unit", "prescriber", "state", "created_at", "booked_for", "closed_at")
    list_filter = ("state",)
    masked_row_fields = frozenset({"pk", "state", "created_at", "booked_for", "closed_at"})
    list_select_related = ("unit__unit", "prescriber")
    fields = ("unit", "prescriber", "state", "created_at", "booked_for", "closed_at")
    readonly_fields = fields


@admin.register(InvoiceMark)
class InvoiceMarkAdmin(_ReadOnly, MaskedRowsAdmin):
    """REGION-1/5: what the billing floor will invoice. A masked patient's mark hides the
    region and the paid unit (ACCESS-1)."""

    patient_path = "prescription__patient"
    list_display = (
        "prescription",
        "payer",
        "region",
        "payee_unit",
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
    masked_row_fields = frozenset(
        {
            "prescription",
            "payer",
            "amount_sek",
            "rule",
            "deactivate_after_invoicing",
            "created_at",
            "invoiced_at",
        }
    )
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

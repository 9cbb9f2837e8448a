"""Consumables (issue 14, Sesam LMN): the prescriber writes a consumable prescription from the
patient's page; customer service, having found the patient through the gate (the patient
search and page), takes withdrawals against it on the consumable's page. Every page reads the
patient through the gate (logged); a masked or missing patient and another unit's prescription
get the one 404. URLs carry the patient's internal reference or the consumable's number only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from patients.models import Patient
from patients.presenters import prints_only_notice
from prescriptions.forms import (
    ConsumablePrescriptionForm,
    WithdrawalCancelForm,
    WithdrawalForm,
)
from prescriptions.models import PrescriptionState, WithdrawalState
from prescriptions.selectors.consumable import (
    ConsumablePage,
    consumable_get_for_user,
    consumable_prescriptions_of_patient,
    consumables_for_patient,
    may_take_withdrawals,
)
from prescriptions.services.consumables import (
    consumable_prescription_create,
    consumable_withdrawal_cancel,
    consumable_withdrawal_create,
)
from prescriptions.services.errors import FieldRefused, PrescriptionError
from prescriptions.views.draft_form import ErrorList, form_errors
from prescriptions.views.patient import ADD_PRESCRIPTION, VIEW_PRESCRIPTION
from protection.gate import AccessContext
from protection.permissions import holds_role_permission, role_permission_required
from protection.refusals import patient_answer, refusals_answered
from protection.registry import PatientPageSection, PatientPageSectionProvider


def _back_to_page(request: HttpRequest, *args: Any, **kwargs: Any) -> str:
    return request.path


def _consumables_shown_to(ctx: AccessContext) -> bool:
    return holds_role_permission(ctx.user, ADD_PRESCRIPTION) or may_take_withdrawals(ctx.user)


def patient_consumables_section(
    ctx: AccessContext, patient: Patient, has_rows: bool
) -> PatientPageSection:
    """The patient page's "Consumables": each consumable prescription with what remains of the
    period and when the next withdrawal is possible (registered in ``PrescriptionsConfig``;
    shown only on the full card). For prescribers and customer service; two queries, none for
    a patient without consumable prescriptions (``has_rows``)."""
    return PatientPageSection(
        key="prescriptions-consumables",
        title=gettext_lazy("Consumables"),
        template_name="prescriptions/consumables/_patient_section.html",
        context={
            "rows": consumables_for_patient(patient.pk) if has_rows else [],
            "reference": patient.reference,
            "may_prescribe": holds_role_permission(ctx.user, ADD_PRESCRIPTION),
            "may_phone_order": may_take_withdrawals(ctx.user),
        },
    )


CONSUMABLES_SECTION = PatientPageSectionProvider(
    section=patient_consumables_section,
    rows=consumable_prescriptions_of_patient,
    shown_to=_consumables_shown_to,
)


def _apply_refusal(form: Any, exc: PrescriptionError) -> None:
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, str(exc))


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_http_methods(["GET", "POST"])
@refusals_answered(next_url=_back_to_page)
def consumable_new_view(request: HttpRequest, reference: str) -> HttpResponse:
    """The prescriber writes a consumable prescription for the patient."""
    ctx = AccessContext.from_request(request)
    answer = patient_answer(ctx, reference)
    form = ConsumablePrescriptionForm(request.POST or None)
    errors: ErrorList = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = consumable_prescription_create(
                    ctx=ctx,
                    patient_reference=reference,
                    article_id=data["article"].pk,
                    quantity_per_period=data["quantity_per_period"],
                    period_months=data["period_months"],
                    valid_from=data["valid_from"],
                    valid_to=data["valid_to"],
                    need=data["need"],
                )
            except PrescriptionError as exc:
                _apply_refusal(form, exc)
            else:
                messages.success(request, _("The consumable prescription is saved."))
                return redirect("prescriptions:consumable", consumable_number=created.reference)
        errors, status = form_errors(form, "consumable-form"), 400
    return render(
        request,
        "prescriptions/consumables/new.html",
        {
            "reference": reference,
            "card": answer.card,
            "protected": prints_only_notice([answer.card]),
            "form": form,
            "errors": errors,
        },
        status=status,
    )


@never_cache
@login_required
@role_permission_required(VIEW_PRESCRIPTION)
@require_http_methods(["GET", "POST"])
@refusals_answered(next_url=_back_to_page)
def consumable_detail_view(request: HttpRequest, consumable_number: str) -> HttpResponse:
    """A consumable prescription, what remains of the period, its withdrawals and (for
    customer service) the withdrawal form."""
    ctx = AccessContext.from_request(request)
    page = consumable_get_for_user(ctx=ctx, reference=consumable_number)
    form = WithdrawalForm(request.POST or None) if page.may_withdraw else None
    errors: ErrorList = []
    status = 200
    if request.method == "POST":
        if form is None:
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                withdrawal = consumable_withdrawal_create(
                    ctx=ctx, reference=consumable_number, quantity=form.cleaned_data["quantity"]
                )
            except FieldRefused as exc:
                _apply_refusal(form, exc)
            except PrescriptionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("The withdrawal is ordered as order %(number)s.")
                    % {"number": withdrawal.order.reference},
                )
                return redirect("prescriptions:consumable", consumable_number=consumable_number)
        errors, status = form_errors(form, "withdrawal-form"), 400
    return _detail(
        request, page, form=form, cancel_form=_cancel_form(page), errors=errors, status=status
    )


def _cancel_form(page: ConsumablePage, data: Any = None) -> WithdrawalCancelForm | None:
    """Customer service's form to cancel a withdrawal still ordered (the service refuses one
    whose order is being picked, with the reason in words)."""
    if not page.may_withdraw:
        return None
    choices = [
        (w.pk, f"{timezone.localtime(w.withdrawn_at):%Y-%m-%d}, {w.quantity}, {w.order.reference}")
        for w in page.withdrawals
        if w.state == WithdrawalState.ORDERED and w.order.state != PrescriptionState.CANCELLED
    ]
    return WithdrawalCancelForm(data, choices=choices) if choices else None


def _detail(
    request: HttpRequest,
    page: ConsumablePage,
    *,
    form: WithdrawalForm | None,
    cancel_form: WithdrawalCancelForm | None,
    errors: ErrorList,
    status: int,
) -> HttpResponse:
    return render(
        request,
        "prescriptions/consumables/detail.html",
        {
            "page": page,
            "card": page.card,
            "consumable": page.consumable,
            "status": page.status,
            "protected": prints_only_notice([page.card]),
            "form": form,
            "cancel_form": cancel_form,
            "errors": errors,
            "patient_reference": page.consumable.patient.reference,
            "links_patient": holds_role_permission(request.user, "patients.view_patient"),
        },
        status=status,
    )


@never_cache
@login_required
@role_permission_required(VIEW_PRESCRIPTION)
@require_http_methods(["POST"])
@refusals_answered(next_url=_back_to_page)
def withdrawal_cancel_view(request: HttpRequest, consumable_number: str) -> HttpResponse:
    """Customer service cancels a withdrawal before its order is picked, with a reason."""
    ctx = AccessContext.from_request(request)
    page = consumable_get_for_user(ctx=ctx, reference=consumable_number)
    form = _cancel_form(page, request.POST)
    if not page.may_withdraw:
        return HttpResponse(status=403)
    if form is not None and form.is_valid():
        try:
            cancelled = consumable_withdrawal_cancel(
                ctx=ctx,
                withdrawal_id=form.cleaned_data["withdrawal"],
                reason=form.cleaned_data["reason"],
            )
        except FieldRefused as exc:
            _apply_refusal(form, exc)
        except PrescriptionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("The withdrawal of order %(number)s is cancelled.")
                % {"number": cancelled.order.reference},
            )
            return redirect("prescriptions:consumable", consumable_number=consumable_number)
    errors = form_errors(form, "cancel-form") if form is not None else []
    return _detail(
        request,
        page,
        form=WithdrawalForm(),
        cancel_form=form,
        errors=errors,
        status=400,
    )

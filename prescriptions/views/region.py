"""The prescriber's pages for patients from other regions and countries and for the special
delivery agreement: the registration with customer service (REGION-3), residence abroad
(REGION-5) and the one exception to PRESC-2 (LEAK-3).

Reads go through ``prescriptions.selectors.region`` (the gate first: 404 for a masked patient
or another unit's prescription, step-up for a grant holder; every read of a registration or an
agreement is an access entry). Writes are POSTs to the services; a refusal is shown in an error
summary naming the field, a success redirects back (post/redirect/get). URLs carry the internal
patient reference or the prescription number, never an identity number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from patients.presenters import prints_only_notice
from prescriptions.forms import (
    ResidenceAbroadForm,
    SpecialDeliveryAgreementForm,
    SpecialDeliveryChoiceForm,
    SupplyRegistrationForm,
)
from prescriptions.models import DeliveryKind, PrescriptionState, RegistrationState
from prescriptions.selectors.prescription import prescription_get_for_user
from prescriptions.selectors.region import (
    out_of_region,
    residences_abroad_for_patient,
    special_delivery_agreement_get_for_user,
    supply_registration_get_for_user,
)
from prescriptions.services.delivery import prescription_delivery_set
from prescriptions.services.errors import PrescriptionError
from prescriptions.services.region import (
    REGISTRATION_STATES,
    residence_abroad_record_for_patient,
    special_delivery_agreement_record,
    supply_registration_request,
)
from prescriptions.views.draft_form import ErrorList, form_errors
from prescriptions.views.patient import ADD_PRESCRIPTION
from protection.gate import AccessContext
from protection.permissions import role_permission_required
from protection.refusals import refusals_answered


def _back_to_page(request: HttpRequest, *args: Any, **kwargs: Any) -> str:
    """After step-up the user comes back to the page, also after a POST (which is never
    replayed)."""
    return request.path


def _posted(
    request: HttpRequest,
    form: forms.Form,
    section: str,
    write: Callable[[dict[str, Any]], object],
    success: str,
    to: str,
) -> HttpResponse | ErrorList:
    """Post/redirect/get: the service's write and a redirect, or the errors for the summary
    (the form's own, or the service's refusal) to show on the page with status 400."""
    if not form.is_valid():
        return form_errors(form, section)
    try:
        write(form.cleaned_data)
    except PrescriptionError as exc:
        form.add_error(None, str(exc))
        return form_errors(form, section)
    messages.success(request, success)
    return redirect(to)


def _decorated(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The prescriber's role, GET and POST only, never cached; the order of the checks is the
    prescription pages' (login, role, method, then the object). Not found (missing, another
    unit's, masked): 404, the same answer for each (house style 5); a grant holder who has not
    confirmed the password goes to step-up and comes back to the page."""
    return never_cache(
        login_required(
            role_permission_required(ADD_PRESCRIPTION)(
                require_http_methods(["GET", "POST"])(
                    refusals_answered(next_url=_back_to_page)(view)
                )
            )
        )
    )


# --- REGION-3 ---------------------------------------------------------------------------------


@sensitive_post_parameters()
@_decorated
def registration_view(request: HttpRequest, number: str) -> HttpResponse:
    """REGION-3: send the out-of-region patient's registration to customer service and follow
    its state; customer service clears it in the admin and the prescription goes on."""
    ctx = AccessContext.from_request(request)
    page = supply_registration_get_for_user(ctx=ctx, reference=number)
    prescription = page.detail.prescription
    protected = page.protected
    may_send = (
        page.registration is None
        and prescription.state in REGISTRATION_STATES
        and out_of_region(prescription.episode)
    )
    errors: ErrorList = []
    form = SupplyRegistrationForm(protected=protected, initial=page.prefill)
    status = 200
    if request.method == "POST":
        if not may_send:
            raise Http404
        form = SupplyRegistrationForm(request.POST, protected=protected)
        outcome = _posted(
            request,
            form,
            "registration-form",
            lambda data: supply_registration_request(ctx=ctx, reference=number, **data),
            _("The registration is sent to customer service."),
            reverse("prescriptions:registration", args=[number]),
        )
        if isinstance(outcome, HttpResponse):
            return outcome
        errors, status = outcome, 400
    return render(
        request,
        "prescriptions/region/registration.html",
        {
            "prescription": prescription,
            "card": page.detail.card,
            "registration": page.registration,
            "identity_number": page.identity_number,
            "protected": protected,
            "form": form if may_send else None,
            "errors": errors,
            "cleared": page.registration is not None
            and page.registration.state == RegistrationState.CLEARED,
            "waiting": prescription.state == PrescriptionState.AWAITING_REGISTRATION,
        },
        status=status,
    )


# --- REGION-5 ---------------------------------------------------------------------------------


@_decorated
def residence_view(request: HttpRequest, reference: str) -> HttpResponse:
    """REGION-5: record that the patient lives abroad (country group, certificate and its
    validity), on the patient's care episode at the prescriber's unit."""
    ctx = AccessContext.from_request(request)
    found = residences_abroad_for_patient(ctx=ctx, patient_reference=reference)
    errors: ErrorList = []
    form = ResidenceAbroadForm()
    status = 200
    if request.method == "POST":
        form = ResidenceAbroadForm(request.POST)
        outcome = _posted(
            request,
            form,
            "residence-form",
            lambda data: residence_abroad_record_for_patient(
                ctx=ctx,
                patient_reference=reference,
                country=data["country"],
                country_group=data["country_group"],
                certificate=data["certificate"],
                certificate_valid_until=data["certificate_valid_until"],
                swedish_citizen=data["swedish_citizen"],
                last_registered_region_code=(
                    data["last_registered_region"].county_code
                    if data["last_registered_region"]
                    else None
                ),
            ),
            _(
                "The residence abroad is recorded. It is evaluated when a prescription is "
                "submitted."
            ),
            reverse("prescriptions:residence", args=[reference]),
        )
        if isinstance(outcome, HttpResponse):
            return outcome
        errors, status = outcome, 400
    return render(
        request,
        "prescriptions/region/residence.html",
        {
            "reference": reference,
            "card": found.card,
            "protected": prints_only_notice([found.card]),
            "residences": found.residences,
            "form": form,
            "errors": errors,
        },
        status=status,
    )


# --- LEAK-3: the special delivery agreement ---------------------------------------------------


@sensitive_post_parameters()
@_decorated
def special_delivery_view(request: HttpRequest, reference: str) -> HttpResponse:
    """LEAK-3: the grant holder (stepped up) reads and records the special delivery agreement
    with a protected patient. Anyone else gets the same 404 as for a patient that does not
    exist; the content is never on any other page."""
    ctx = AccessContext.from_request(request)
    found = special_delivery_agreement_get_for_user(ctx=ctx, patient_reference=reference)
    errors: ErrorList = []
    form = SpecialDeliveryAgreementForm()
    status = 200
    if request.method == "POST":
        form = SpecialDeliveryAgreementForm(request.POST)
        outcome = _posted(
            request,
            form,
            "agreement-form",
            lambda data: special_delivery_agreement_record(
                ctx=ctx, patient_reference=reference, details=data
            ),
            _("The special delivery agreement is recorded."),
            reverse("prescriptions:special_delivery", args=[reference]),
        )
        if isinstance(outcome, HttpResponse):
            return outcome
        errors, status = outcome, 400
    return render(
        request,
        "prescriptions/region/special_delivery.html",
        {
            "reference": reference,
            "card": found.card,
            "agreement": found.agreement,
            "form": form,
            "errors": errors,
        },
        status=status,
    )


@_decorated
def special_delivery_choose_view(request: HttpRequest, number: str) -> HttpResponse:
    """PRESC-2's exception: a protected patient's draft is delivered to the unit or as in the
    special delivery agreement in force; the service re-checks both."""
    ctx = AccessContext.from_request(request)
    prescription = prescription_get_for_user(ctx=ctx, reference=number).prescription
    # Not found for an unguarded patient: the agreement's read answers that (LEAK-3).
    agreement = special_delivery_agreement_get_for_user(
        ctx=ctx, patient_reference=prescription.patient.reference
    ).agreement
    errors: ErrorList = []
    form = SpecialDeliveryChoiceForm(initial={"kind": prescription.delivery_kind})
    status = 200
    if request.method == "POST":
        form = SpecialDeliveryChoiceForm(request.POST)
        outcome = _posted(
            request,
            form,
            "delivery-form",
            lambda data: prescription_delivery_set(
                ctx=ctx,
                reference=number,
                kind=data["kind"],
                special_agreement_id=agreement.pk
                if agreement and data["kind"] == DeliveryKind.SPECIAL_AGREEMENT
                else None,
            ),
            _("The delivery is saved."),
            reverse("prescriptions:detail", args=[number]),
        )
        if isinstance(outcome, HttpResponse):
            return outcome
        errors, status = outcome, 400
    return render(
        request,
        "prescriptions/region/special_delivery_choice.html",
        {
            "prescription": prescription,
            "agreement": agreement,
            "form": form,
            "errors": errors,
            "draft": prescription.state == PrescriptionState.DRAFT,
        },
        status=status,
    )

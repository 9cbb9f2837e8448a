"""Deviations (*avvikelser*, QUAL-1): anyone logged in reports one; quality staff (customer
service, ``logistics.handle_deviation``) handle it; a user the gate shows the patient to
attaches one reported without the person, from the patient's page.

The report form never attaches a patient the reporter may not see: the number typed is looked
up through the gate, and a masked patient is refused with a message while the deviation is
saved without the person (*ej person*). Lists name a patient only as the gate shows them to the
reader (``{% patient_label %}``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from logistics.models import Deviation, DeviationCategory, DeviationState
from logistics.selectors.quality import (
    deviation_get_for_user,
    deviations_of_patient,
    deviations_to_handle,
)
from logistics.services.errors import LogisticsError
from logistics.services.quality import (
    QualityFieldError,
    deviation_attach_patient,
    deviation_move,
    deviation_report,
)
from patients.models import Patient
from protection.gate import AccessContext
from protection.permissions import holds_role_permission, role_permission_required
from protection.refusals import patient_answer, refusals_answered
from protection.registry import PatientPageSection, PatientPageSectionProvider

HANDLE = "logistics.handle_deviation"
VIEW_PATIENT = "patients.view_patient"


def field_error(form: forms.Form, error: QualityFieldError) -> None:
    """The service's refusal next to its field; the field's label is shown before it there,
    so a message that starts with the label does not say it twice."""
    message = str(error)
    label = str(form.fields[error.field].label) if error.field in form.fields else ""
    if label and message.lower().startswith(label.lower() + ":"):
        message = message[len(label) + 1 :].strip()
    form.add_error(error.field if error.field in form.fields else None, message)


class DeviationForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("Category"),
        choices=[
            ("", gettext_lazy("Choose a category")),
            *((value, capfirst(label)) for value, label in DeviationCategory.choices),
        ],
    )
    description = forms.CharField(
        label=gettext_lazy("What happened"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=4000,
        help_text=gettext_lazy(
            "Describe the deviation. Write no personnummer, name or address of a patient: "
            "refer to the order number."
        ),
    )
    order_number = forms.CharField(
        label=gettext_lazy("Order number"), max_length=32, required=False
    )
    serial_number = forms.CharField(
        label=gettext_lazy("Serial number of the device"), max_length=64, required=False
    )
    patient_number = forms.CharField(
        label=gettext_lazy("The patient's personnummer"),
        max_length=20,
        required=False,
        help_text=gettext_lazy(
            "Optional. If you may not see the patient, the deviation is saved without the "
            "person and a colleague with access attaches it."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


@never_cache
@sensitive_post_parameters("patient_number")
@login_required
@require_http_methods(["GET", "POST"])
def deviation_report_view(request: HttpRequest) -> HttpResponse:
    """QUAL-1: anyone logged in reports a deviation."""
    form = DeviationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reported = deviation_report(
                ctx=AccessContext.from_request(request),
                category=data["category"],
                description=data["description"],
                order_number=data["order_number"],
                serial_number=data["serial_number"],
                patient_number=data["patient_number"],
            )
        except QualityFieldError as error:
            field_error(form, error)
        else:
            number = reported.deviation.number
            messages.success(
                request, _("Deviation %(number)s is reported. Thank you.") % {"number": number}
            )
            if reported.without_person:
                messages.warning(
                    request,
                    _(
                        "You may not see the patient you named, so deviation %(number)s is "
                        "saved without the person. Give the number %(number)s to a colleague "
                        "with access to the patient: they attach it to the patient."
                    )
                    % {"number": number},
                )
            return redirect("logistics:deviation_report")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "logistics/quality/report.html", {"form": form}, status=status)


@never_cache
@login_required
@role_permission_required(HANDLE)
@require_GET
def deviations_view(request: HttpRequest) -> HttpResponse:
    """Avvikelser att hantera: the deviations not yet closed, oldest first."""
    rows = deviations_to_handle(ctx=AccessContext.from_request(request))
    return render(request, "logistics/quality/deviations.html", {"rows": rows})


class CloseForm(forms.Form):
    conclusion = forms.CharField(
        label=gettext_lazy("Conclusion of the handling"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=gettext_lazy("What was found and what was done."),
    )


@never_cache
@login_required
@role_permission_required(HANDLE)
@require_http_methods(["GET", "POST"])
def deviation_view(request: HttpRequest, deviation_id: int) -> HttpResponse:
    """One deviation, its history, and the handling: take it under investigation, close it."""
    ctx = AccessContext.from_request(request)
    try:
        page = deviation_get_for_user(ctx=ctx, deviation_id=deviation_id)
    except Deviation.DoesNotExist:
        raise Http404 from None
    close_form = CloseForm(request.POST if request.POST.get("action") == "close" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "investigate":
                deviation_move(
                    by=request.user,
                    deviation_id=deviation_id,
                    to_state=DeviationState.INVESTIGATING,
                )
            elif action == "close" and close_form.is_valid():
                deviation_move(
                    by=request.user,
                    deviation_id=deviation_id,
                    to_state=DeviationState.CLOSED,
                    conclusion=close_form.cleaned_data["conclusion"],
                )
            elif action != "close":
                raise Http404
        except QualityFieldError as error:
            field_error(close_form, error)
        except LogisticsError as error:
            messages.error(request, str(error))
            return redirect("logistics:deviation", deviation_id=deviation_id)
        if not close_form.errors:
            messages.success(
                request,
                _("Deviation %(number)s is updated.") % {"number": page.row.deviation.number},
            )
            return redirect("logistics:deviation", deviation_id=deviation_id)
    status = 400 if close_form.errors else 200
    return render(
        request,
        "logistics/quality/deviation.html",
        {
            "page": page,
            "deviation": page.row.deviation,
            "close_form": close_form,
            "States": DeviationState,
        },
        status=status,
    )


class AttachForm(forms.Form):
    deviation_number = forms.CharField(
        label=gettext_lazy("Deviation number"),
        max_length=16,
        help_text=gettext_lazy("The number of a deviation reported without the person, AVV-…"),
    )


def _patient_page(reference: str) -> str:
    return reverse("patients:detail", args=[reference]) + "#logistics-deviations-heading"


def _back_to_form(request: HttpRequest, reference: str) -> str:
    return reverse("logistics:deviation_attach", args=[reference])


@never_cache
@login_required
@role_permission_required(VIEW_PATIENT)
@require_http_methods(["GET", "POST"])
@refusals_answered(next_url=_back_to_form)
def deviation_attach_view(request: HttpRequest, reference: str) -> HttpResponse:
    """QUAL-1: attach a deviation reported without the person to this patient. Only for a
    patient the gate shows the user in full (404 for a masked one, step-up for a grant holder
    who has not confirmed the password)."""
    ctx = AccessContext.from_request(request)
    answer = patient_answer(ctx, reference)
    form = AttachForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            deviation = deviation_attach_patient(
                ctx=ctx,
                deviation_number=form.cleaned_data["deviation_number"],
                patient_reference=reference,
            )
        except QualityFieldError as error:
            field_error(form, error)
        else:
            messages.success(
                request,
                _("Deviation %(number)s now concerns the patient.") % {"number": deviation.number},
            )
            return redirect(_patient_page(reference))
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "logistics/quality/attach.html",
        {"form": form, "card": answer.card, "reference": reference},
        status=status,
    )


def patient_deviations_section(
    ctx: AccessContext, patient: Patient, has_rows: bool
) -> PatientPageSection:
    """The patient page's deviations about the patient (full card only), with the way to
    attach one reported without the person. One query, none when there are none
    (``has_rows``)."""
    return PatientPageSection(
        key="logistics-deviations",
        title=gettext_lazy("Deviations"),
        template_name="logistics/quality/_patient_section.html",
        context={
            "deviations": list(deviations_of_patient(patient.pk)) if has_rows else [],
            "reference": patient.reference,
            "links_deviation": holds_role_permission(ctx.user, HANDLE),
        },
    )


DEVIATIONS_SECTION = PatientPageSectionProvider(
    section=patient_deviations_section, rows=deviations_of_patient
)

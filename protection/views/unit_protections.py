"""Pages for the kinds of protection a unit decides (PROT-1, PROT-6).

Unit managers decide, renew and end local protection and decide and end reservnummer
protection for their own unit. Every page shows patients as the gate shows them to the manager
(``patient_labels_for_user``): a manager deciding local protection may hold no grant and then
reads "Skyddade personuppgifter" and the birth year (LEAK-1); the actions are addressed by
internal reference. The services decide and log; the views only route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patients.models import PATIENT_REFERENCE, Patient
from protection.gate import AccessContext
from protection.labels import patient_labels_for_user
from protection.models import LocalProtection, ReserveNumberProtection
from protection.permissions import role_permission_required
from protection.services import ProtectionError, local, reserve_number


class PatientChoiceForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Patient reference"),
        max_length=12,
        help_text=gettext_lazy("The internal reference, for example P-2345ABCDEF."),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of protection"),
        choices=[
            ("local", gettext_lazy("Local protection")),
            ("reserve", gettext_lazy("Reservnummer protection")),
        ],
        widget=forms.RadioSelect,
        initial="local",
    )

    def clean_reference(self) -> str:
        reference = str(self.cleaned_data["reference"]).strip().upper()
        if (
            not PATIENT_REFERENCE.fullmatch(reference)
            or not Patient.objects.filter(reference=reference).exists()
        ):
            raise forms.ValidationError(gettext_lazy("No patient has that reference."))
        return reference


class LocalProtectionForm(forms.Form):
    ends_on = forms.DateField(
        label=gettext_lazy("Until"),
        help_text=gettext_lazy("At most three months from today."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReserveNumberProtectionForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy("The threat from inside health care, in a few words."),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RenewForm(forms.Form):
    ends_on = forms.DateField(label=gettext_lazy("New end date"))


class EndForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why"), max_length=200, required=False)


def _unit_id_or_404(ctx: AccessContext) -> int:
    # A manager without a unit has nothing to decide for.
    if ctx.actor.unit_id is None:
        raise Http404
    return ctx.actor.unit_id


@never_cache
@login_required
@role_permission_required("protection.view_localprotection")
@require_GET
def unit_protections_view(request: HttpRequest) -> HttpResponse:
    """PROT-6: the unit's local protections with their ends, to renew or end; and its
    reservnummer protections."""
    ctx = AccessContext.from_request(request)
    unit_id = _unit_id_or_404(ctx)
    choice = PatientChoiceForm(request.GET if "reference" in request.GET else None)
    if choice.is_bound and choice.is_valid():
        target = "local_decide" if choice.cleaned_data["kind"] == "local" else "reserve_decide"
        return redirect(f"protection:{target}", reference=choice.cleaned_data["reference"])
    local = list(
        LocalProtection.objects.filter(
            unit_id=unit_id, ended_at__isnull=True, ends_on__gte=timezone.localdate()
        )
        .select_related("patient", "decided_by")
        .order_by("ends_on", "pk")
    )
    reserve = list(
        ReserveNumberProtection.objects.filter(unit_id=unit_id, ended_at__isnull=True)
        .select_related("patient", "decided_by")
        .order_by("decided_at", "pk")
    )
    # The patients as the gate shows them to the manager, each row logged (AUDIT-1).
    cards = patient_labels_for_user(
        ctx=ctx,
        rows=[
            *((p.patient_id, f"local:{p.pk}") for p in local),
            *((p.patient_id, f"reserve:{p.pk}") for p in reserve),
        ],
        object_type="unit_protection",
    )
    return render(
        request,
        "protection/unit_protections/unit_protections.html",
        {
            "choice": choice,
            "local": [(p, cards.get(p.patient_id)) for p in local],
            "reserve": [(p, cards.get(p.patient_id)) for p in reserve],
        },
    )


def _decide_page(
    request: HttpRequest,
    reference: str,
    *,
    form_class: type[forms.Form],
    decide: Callable[[AccessContext, Patient, int, dict[str, Any]], object],
    template: str,
    success: str,
) -> HttpResponse:
    """The page where a unit manager decides a protection for a patient of their unit: the
    form, the service's refusal on it, or back to the unit's protections."""
    patient = get_object_or_404(Patient, reference=reference)
    ctx = AccessContext.from_request(request)
    unit_id = _unit_id_or_404(ctx)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decide(ctx, patient, unit_id, form.cleaned_data)
        except ProtectionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, success)
            return redirect("protection:unit_protections")
    card = patient_labels_for_user(
        ctx=ctx, rows=[(patient.pk, patient.reference)], object_type="unit_protection"
    ).get(patient.pk)
    return render(request, template, {"patient": patient, "card": card, "form": form})


def _act(request: HttpRequest, action: Callable[[], object], success: str) -> HttpResponse:
    """A button on the unit's protections page: the service's answer as a message, and back."""
    try:
        action()
    except ProtectionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("protection:unit_protections")


@never_cache
@login_required
@role_permission_required("protection.add_localprotection")
@require_http_methods(["GET", "POST"])
def local_protection_decide_view(request: HttpRequest, reference: str) -> HttpResponse:
    return _decide_page(
        request,
        reference,
        form_class=LocalProtectionForm,
        decide=lambda ctx, patient, unit_id, data: local.local_protection_decide(
            ctx=ctx,
            patient=patient,
            unit_id=unit_id,
            reason=data["reason"],
            ends_on=data["ends_on"],
        ),
        template="protection/unit_protections/local_decide.html",
        success=_("Local protection has been decided."),
    )


def _unit_local_protection_or_404(ctx: AccessContext, protection_id: int) -> LocalProtection:
    unit_id = _unit_id_or_404(ctx)
    protection = LocalProtection.objects.filter(pk=protection_id, unit_id=unit_id).first()
    if protection is None:
        raise Http404
    return protection


@never_cache
@login_required
@role_permission_required("protection.change_localprotection")
@require_POST
def local_protection_renew_view(request: HttpRequest, protection_id: int) -> HttpResponse:
    ctx = AccessContext.from_request(request)
    protection = _unit_local_protection_or_404(ctx, protection_id)
    form = RenewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("New end date: give a date."))
        return redirect("protection:unit_protections")
    return _act(
        request,
        lambda: local.local_protection_renew(
            ctx=ctx, protection_id=protection.pk, ends_on=form.cleaned_data["ends_on"]
        ),
        _("Local protection has been renewed."),
    )


@never_cache
@login_required
@role_permission_required("protection.change_localprotection")
@require_POST
def local_protection_end_view(request: HttpRequest, protection_id: int) -> HttpResponse:
    ctx = AccessContext.from_request(request)
    protection = _unit_local_protection_or_404(ctx, protection_id)
    form = EndForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        lambda: local.local_protection_end(ctx=ctx, protection_id=protection.pk, reason=reason),
        _("Local protection has ended."),
    )


@never_cache
@login_required
@role_permission_required("protection.add_reservenumberprotection")
@require_http_methods(["GET", "POST"])
def reserve_number_protection_decide_view(request: HttpRequest, reference: str) -> HttpResponse:
    return _decide_page(
        request,
        reference,
        form_class=ReserveNumberProtectionForm,
        decide=lambda ctx, patient, unit_id, data: reserve_number.reserve_number_protection_decide(
            ctx=ctx, patient=patient, unit_id=unit_id, reason=data["reason"]
        ),
        template="protection/unit_protections/reserve_decide.html",
        success=_("Reservnummer protection has been decided."),
    )


@never_cache
@login_required
@role_permission_required("protection.change_reservenumberprotection")
@require_POST
def reserve_number_protection_end_view(request: HttpRequest, protection_id: int) -> HttpResponse:
    ctx = AccessContext.from_request(request)
    unit_id = _unit_id_or_404(ctx)
    if not ReserveNumberProtection.objects.filter(pk=protection_id, unit_id=unit_id).exists():
        raise Http404
    return _act(
        request,
        lambda: reserve_number.reserve_number_protection_end(ctx=ctx, protection_id=protection_id),
        _("Reservnummer protection has ended."),
    )

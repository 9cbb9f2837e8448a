"""Held protections (PROT-3, PROT-4): protections the register no longer reports, held until a
protection administrator records the decision that releases them. Patients are shown as the
gate shows them to the administrator (``patient_labels_for_user``): masked without a grant, as
releasing a hold needs no identity (LEAK-1); the release is addressed by internal reference.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from patients.models import Patient, RegisterEvent, RegisterEventKind
from protection.gate import AccessContext
from protection.labels import patient_labels_for_user
from protection.models import ProtectionReview
from protection.permissions import role_permission_required
from protection.services import ProtectionError, holds


class HoldReleaseForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Decision note"),
        help_text=gettext_lazy("Why the protection may be lifted."),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _holds_page(
    request: HttpRequest,
    *,
    failed_reference: str | None = None,
    failed_form: HoldReleaseForm | None = None,
) -> HttpResponse:
    cause = RegisterEvent.objects.filter(
        patient_id=OuterRef("pk"), kind__in=holds.HOLD_CAUSES
    ).order_by("-created_at", "-pk")
    held = (
        Patient.objects.filter(protection_held=True)
        .annotate(
            cause_kind=Subquery(cause.values("kind")[:1]),
            cause_at=Subquery(cause.values("created_at")[:1]),
        )
        .order_by("cause_at", "pk")
        .values(
            "pk",
            "reference",
            "birth_year",
            "confidentiality_marking",
            "protected_registration",
            "cause_kind",
            "cause_at",
        )
    )
    decided = list(
        ProtectionReview.objects.select_related("patient", "decided_by").order_by(
            "-decided_at", "-pk"
        )[:20]
    )
    # The patients as the gate shows them to the administrator, each row logged (AUDIT-1).
    cards = patient_labels_for_user(
        ctx=AccessContext.from_request(request),
        rows=[
            *((patient["pk"], f"hold:{patient['reference']}") for patient in held),
            *((review.patient_id, f"review:{review.pk}") for review in decided),
        ],
        object_type="protection_hold",
    )
    rows: list[dict[str, Any]] = []
    for patient in held:
        reference = patient["reference"]
        kind = patient["cause_kind"]
        rows.append(
            {
                "reference": reference,
                "card": cards.get(patient["pk"]),
                "cause": RegisterEventKind(kind).label if kind else "",
                "cause_at": patient["cause_at"],
                # While the register still reports protection the hold cannot be released.
                "register_flag": patient["confidentiality_marking"]
                or patient["protected_registration"],
                "form": failed_form
                if failed_form is not None and reference == failed_reference
                else HoldReleaseForm(prefix=reference),
            }
        )
    # A release refused for a patient no longer listed (released meanwhile) still says why.
    listed = any(row["reference"] == failed_reference for row in rows)
    errors = failed_form.non_field_errors() if failed_form is not None and not listed else []
    return render(
        request,
        "protection/holds.html",
        {
            "rows": rows,
            "decided": [(review, cards.get(review.patient_id)) for review in decided],
            "errors": errors,
        },
    )


@never_cache
@login_required
@role_permission_required("protection.view_protectionreview")
@require_GET
def holds_view(request: HttpRequest) -> HttpResponse:
    """PROT-3/PROT-4: protections the register no longer reports, held until a decision."""
    return _holds_page(request)


@never_cache
@login_required
@role_permission_required("protection.add_protectionreview")
@require_POST
def hold_release_view(request: HttpRequest, reference: str) -> HttpResponse:
    patient = get_object_or_404(Patient, reference=reference)
    form = HoldReleaseForm(request.POST, prefix=patient.reference)
    if form.is_valid():
        try:
            holds.protection_hold_release(
                ctx=AccessContext.from_request(request),
                patient=patient,
                note=form.cleaned_data["note"],
            )
        except ProtectionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("The hold on patient %(reference)s has been released.")
                % {"reference": patient.reference},
            )
            return redirect("protection:holds")
    return _holds_page(request, failed_reference=patient.reference, failed_form=form)

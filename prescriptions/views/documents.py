"""Printing from the prescriber's pages: the order confirmation of a prescription, and of several
prescriptions as one batch from "My prescriptions".

Both ask the document pipeline (``prescriptions.services.documents``), which decides the
printing ban: a protected patient's order confirmation is refused with the pipeline's message
and audited (PRINT-1), unless it is printed to be forwarded to another principal with a reason
(PRINT-2). The documents are made by a worker and appear under "My documents".
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from prescriptions.forms import OrderConfirmationBatchForm
from prescriptions.services.documents import (
    order_confirmation_request,
    order_confirmations_batch_request,
)
from prescriptions.services.errors import PrescriptionError
from prescriptions.views.patient import VIEW_PRESCRIPTION
from prescriptions.views.prescription import answered_on_detail
from protection.documents.forms import SummaryRequestForm
from protection.documents.services import DocumentError
from protection.gate import AccessContext
from protection.permissions import role_permission_required
from protection.refusals import PatientNotFound, StepUpRequired, refusal_audit_keep


@never_cache
@login_required
@role_permission_required(VIEW_PRESCRIPTION)
@require_POST
@answered_on_detail
def order_confirmation_view(request: HttpRequest, number: str) -> HttpResponse:
    back = reverse("prescriptions:detail", args=[number]) + "#documents"
    # The receiver and reason of PRINT-2 are the same fields as the patient summary's.
    form = SummaryRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Forwarding: give the receiving principal and the reason."))
        return redirect(back)
    try:
        job = order_confirmation_request(
            ctx=AccessContext.from_request(request),
            reference=number,
            forward_to=form.cleaned_data["forward_to"],
            forward_reason=form.cleaned_data["forward_reason"],
        )
    except (PrescriptionError, DocumentError) as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(
        request,
        _("Order confirmation %(number)s is being made (document %(id)s).")
        % {"number": number, "id": job.pk},
    )
    return redirect("protection:documents")


@never_cache
@login_required
@role_permission_required(VIEW_PRESCRIPTION)
@require_POST
def order_confirmations_batch_view(request: HttpRequest) -> HttpResponse:
    form = OrderConfirmationBatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the prescriptions whose order confirmations to print."))
        return redirect("prescriptions:mine")
    try:
        outcome = order_confirmations_batch_request(
            ctx=AccessContext.from_request(request),
            references=form.cleaned_data["prescription"],
        )
    except (PatientNotFound, StepUpRequired) as refusal:
        # Not the user's, or gone: the same answer for every case (house style 5), the refusal
        # audited all the same (AUDIT-1).
        refusal_audit_keep(refusal)
        messages.error(request, _("No such patient or prescription."))
        return redirect("prescriptions:mine")
    except (PrescriptionError, DocumentError) as exc:
        messages.error(request, str(exc))
        return redirect("prescriptions:mine")
    if outcome.queued:
        messages.success(
            request,
            _("Batch %(id)s: %(count)s order confirmations are being made: %(numbers)s.")
            % {
                "id": outcome.batch.pk,
                "count": len(outcome.queued),
                "numbers": ", ".join(outcome.queued),
            },
        )
    for reference, reason in outcome.refused:
        messages.error(request, f"{reference}: {reason}")
    return redirect("protection:documents")

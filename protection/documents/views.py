"""The document pages: the user's documents and downloads, a patient summary, a letter.

Patients are shown as the gate lets the user see them, name first (ACCESS-1), never in a URL
(LEAK-1); every read of a patient goes through the gate, every document through
``services.document_request``. A patient or document the user may not have, and a password to
confirm first, take the one refusal path
(``protection.refusals.refusals_answered``): 404, the same for missing and forbidden (house
rule 5), or the step-up page coming back to the page (ACCESS-4). A document refused by the
printing ban is shown as a message the user can act on; the services have audited it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from protection.documents import letters, selectors, services
from protection.documents.forms import LetterForm, SummaryRequestForm
from protection.documents.summary import SUMMARY_KIND
from protection.gate import AccessContext
from protection.models import DocumentJob
from protection.permissions import role_permission_required
from protection.refusals import not_found, patient_answer, refusals_answered


@never_cache
@login_required
@require_GET
def document_list_view(request: HttpRequest) -> HttpResponse:
    jobs = selectors.document_jobs_list_for_user(user=request.user)
    rows = selectors.document_rows(ctx=AccessContext.from_request(request), jobs=jobs)
    return render(
        request,
        "protection/documents/list.html",
        {
            "rows": rows,
            "batches": selectors.batch_progress(jobs),
            "waiting": any(job.state in ("queued", "rendering") for job in jobs),
            "protected": any(row.protected for row in rows),
        },
    )


@never_cache
@login_required
@require_GET
@refusals_answered
def document_download_view(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job, content = selectors.document_content_for_user(
            ctx=AccessContext.from_request(request), job_id=job_id
        )
    except DocumentJob.DoesNotExist:
        raise not_found() from None
    response = HttpResponse(content, content_type="application/pdf")
    # The file name carries the job number only (LEAK-1).
    response["Content-Disposition"] = f'attachment; filename="document-{job.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


def _back_to_patient(request: HttpRequest, reference: str) -> str:
    """After the step-up, a summary asked for by POST comes back to the patient's page."""
    return reverse("patients:detail", args=[reference])


@never_cache
@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_POST
@refusals_answered(next_url=_back_to_patient)
def summary_request_view(request: HttpRequest, reference: str) -> HttpResponse:
    ctx = AccessContext.from_request(request)
    answer = patient_answer(ctx, reference)
    form = SummaryRequestForm(request.POST)
    if not form.is_valid():
        # Every field is optional and the page caps their length: only a hand-made request
        # gets here, and it is not a refusal of the patient to audit.
        raise Http404
    try:
        job = services.document_request(
            ctx=ctx,
            kind=SUMMARY_KIND,
            patients=[answer.patient],
            forward_to=form.cleaned_data["forward_to"],
            forward_reason=form.cleaned_data["forward_reason"],
        )
    except services.DocumentError as exc:
        messages.error(request, str(exc))
        return redirect("patients:detail", reference=reference)
    messages.success(
        request, _("Document %(id)s is being made; it appears below when ready.") % {"id": job.pk}
    )
    return redirect("protection:documents")


def _back_to_letter(request: HttpRequest, reference: str) -> str:
    """After the step-up, the letter form, also when the refused request was its POST."""
    return reverse("protection:letter_compose", args=[reference])


@never_cache
@login_required
@role_permission_required(letters.LETTER_PERMISSION)
@require_http_methods(["GET", "POST"])
@refusals_answered(next_url=_back_to_letter)
def letter_compose_view(request: HttpRequest, reference: str) -> HttpResponse:
    ctx = AccessContext.from_request(request)
    answer = patient_answer(ctx, reference)
    form = LetterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = letters.letters_issue(ctx=ctx, patients=[answer.patient], **form.cleaned_data)
        except services.DocumentError as exc:
            form.add_error(None, str(exc))
        else:
            channel = job.letters.get().get_channel_display()
            messages.success(
                request,
                _("Letter issued (document %(id)s), to be sent by: %(channel)s.")
                % {"id": job.pk, "channel": channel},
            )
            return redirect("protection:documents")
    return render(
        request,
        "protection/documents/letter_form.html",
        {"form": form, "card": answer.card, "forwarding_address": letters.FORWARDING_ADDRESS},
    )

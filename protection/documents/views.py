"""The document pages: the user's documents and downloads, a patient summary, a letter.

Patients are shown by internal reference (LEAK-1); every read of a patient goes through the
gate, every document through ``services.document_request``. A refusal is shown as a message the
user can act on; the services have audited it.
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

from patients.models import Patient
from protection.documents import letters, selectors, services
from protection.documents.forms import LetterForm, SummaryRequestForm
from protection.documents.summary import SUMMARY_KIND
from protection.gate import AccessContext, Decision, patient_get_for_user
from protection.models import DocumentJob, DocumentRoute
from protection.permissions import role_permission_required
from protection.refusals import StepUpRequired


@never_cache
@login_required
@require_GET
def document_list_view(request: HttpRequest) -> HttpResponse:
    jobs = selectors.document_jobs_list_for_user(user=request.user)
    rows = []
    for job in jobs:
        subjects = list(job.subjects.all())
        rows.append(
            {
                "job": job,
                "kind": selectors.kind_label(job.kind),
                "subjects": subjects,
                # ACCESS-1: a document about a patient the user may not see now offers nothing
                # about them, not even its download (which would refuse anyway), unless it was
                # made without identity (PRINT-1). The annotation of the selector; absent
                # means not shown (fail closed).
                "downloadable": all(
                    getattr(s, "patient_visible", False) or s.route == DocumentRoute.IDENTITY_FREE
                    for s in subjects
                ),
            }
        )
    return render(
        request,
        "protection/documents/list.html",
        {
            "rows": rows,
            "batches": selectors.batch_progress(jobs),
            "waiting": any(job.state in ("queued", "rendering") for job in jobs),
            "protected": any(
                subject.patient.is_protected for job in jobs for subject in job.subjects.all()
            ),
        },
    )


@never_cache
@login_required
@require_GET
def document_download_view(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job, content = selectors.document_content_for_user(
            ctx=AccessContext.from_request(request), job_id=job_id
        )
    except StepUpRequired:
        return redirect(f"{reverse('protection:step_up')}?next={request.path}")
    except DocumentJob.DoesNotExist as exc:
        raise Http404 from exc
    response = HttpResponse(content, content_type="application/pdf")
    # The file name carries the job number only (LEAK-1).
    response["Content-Disposition"] = f'attachment; filename="document-{job.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_POST
def summary_request_view(request: HttpRequest, reference: str) -> HttpResponse:
    ctx = AccessContext.from_request(request)
    try:
        answer = patient_get_for_user(ctx, reference)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc
    if answer.decision is Decision.MASKED:
        raise Http404  # the same as a patient that does not exist (house rule 5)
    if answer.decision is Decision.STEP_UP:
        patient_page = reverse("patients:detail", args=[reference])
        return redirect(f"{reverse('protection:step_up')}?next={patient_page}")
    form = SummaryRequestForm(request.POST)
    if not form.is_valid():
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


@never_cache
@login_required
@role_permission_required(letters.LETTER_PERMISSION)
@require_http_methods(["GET", "POST"])
def letter_compose_view(request: HttpRequest, reference: str) -> HttpResponse:
    ctx = AccessContext.from_request(request)
    try:
        answer = patient_get_for_user(ctx, reference)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc
    if answer.decision is Decision.STEP_UP:
        return redirect(f"{reverse('protection:step_up')}?next={request.path}")
    if answer.decision is not Decision.FULL:
        raise Http404  # the same as a patient that does not exist (house rule 5)
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

"""PRESC-6 pages (seed 004, digital signing): the prescriber's "Att signera" list and the
signing page (sign with the risk assessment after confirming the password, or decline with a
reason); the technician's page of a special-adaptation work order (attach the document and send
the request, read a decline, record a paper signature); the documents, never handed out as a
file for a guarded patient (PRINT-1).

Patients appear only through the gate (``patient_labels_for_user``, ``{% patient_label %}``),
never with an address; the work order number is what everyone shares (LEAK-5).
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from logistics.models import (
    AdaptationRecord,
    AdaptationRisk,
    AdaptationSigningRequest,
    RiskConclusion,
    SigningState,
    WorkOrder,
)
from logistics.selectors.adaptations import (
    WORK_ON_WORK_ORDERS,
    adaptation_record_get_for_user,
    adaptation_records_of_device,
    adaptation_work_order_get,
    signing_request_get_for_user,
    signing_requests_of_work_order,
    signing_requests_to_sign,
)
from logistics.services.adaptations import (
    DEFAULT_VALIDITY,
    adaptation_document_read,
    adaptation_paper_record,
    signing_request_decline,
    signing_request_send,
    signing_request_sign,
)
from logistics.services.errors import LogisticsError
from patients.presenters import PatientCard
from protection.documents.services.ban import DocumentRefused
from protection.gate import AccessContext
from protection.labels import patient_labels_for_user
from protection.permissions import role_permission_required
from protection.refusals import StepUpRequired, refusals_answered, step_up_url

PRESCRIBE = "prescriptions.add_prescription"
# The typed risk assessment, kept across the password confirmation (never in a URL).
TYPED_KEY = "presc6_typed"


class SignForm(forms.Form):
    risks = forms.MultipleChoiceField(
        label=gettext_lazy("Risks considered"),
        choices=AdaptationRisk.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose the risks you have assessed.")},
    )
    conclusion = forms.ChoiceField(
        label=gettext_lazy("Conclusion"),
        choices=RiskConclusion.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose the conclusion of the risk assessment.")},
    )
    measures = forms.CharField(
        label=gettext_lazy("Measures"),
        help_text=gettext_lazy("Needed when the safe use depends on measures."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        required=False,
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for declining"),
        help_text=gettext_lazy("The technician reads it on the work order."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        error_messages={"required": gettext_lazy("Write why you decline, for the technician.")},
    )


class SendForm(forms.Form):
    document = forms.FileField(
        label=gettext_lazy("Special-adaptation document (PDF)"),
        error_messages={"required": gettext_lazy("Choose the document to upload.")},
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"), widget=forms.DateInput(attrs={"type": "date"})
    )


class PaperForm(forms.Form):
    signed_on = forms.DateField(
        label=gettext_lazy("Signed on paper on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    scan = forms.FileField(
        label=gettext_lazy("Scan of the signed document (PDF, JPEG or PNG)"),
        error_messages={"required": gettext_lazy("Choose the scan to upload.")},
    )


def _cards(
    request: HttpRequest, requests: list[AdaptationSigningRequest]
) -> dict[int, PatientCard]:
    """The patients as this user may see them, each row logged (AUDIT-1)."""
    return patient_labels_for_user(
        ctx=AccessContext.from_request(request),
        rows=[
            (r.work_order.patient_id, str(r.work_order_id))
            for r in requests
            if r.work_order.patient_id is not None
        ],
        object_type="logistics.workorder",
    )


@never_cache
@login_required
@role_permission_required(PRESCRIBE)
@require_GET
def to_sign_view(request: HttpRequest) -> HttpResponse:
    """Att signera: the prescriber's signing requests awaiting signature."""
    requests = list(signing_requests_to_sign(user=request.user))
    cards = _cards(request, requests)
    return render(
        request,
        "logistics/adaptations/to_sign.html",
        {
            "rows": [(r, cards.get(r.work_order.patient_id or 0)) for r in requests],
            "today": timezone.localdate(),
        },
    )


def _request_or_404(request: HttpRequest, signing_id: int) -> AdaptationSigningRequest:
    try:
        return signing_request_get_for_user(user=request.user, request_id=signing_id)
    except AdaptationSigningRequest.DoesNotExist:
        raise Http404 from None


def _signing_page(
    request: HttpRequest,
    signing: AdaptationSigningRequest,
    *,
    sign_form: SignForm | None = None,
    decline_form: DeclineForm | None = None,
    status: int = 200,
) -> HttpResponse:
    own = signing.prescriber_id == request.user.pk and signing.state == SigningState.SENT
    restored = False
    cards = _cards(request, [signing])
    if own and sign_form is None:
        typed = request.session.pop(TYPED_KEY, None)
        kept = typed if isinstance(typed, dict) and typed.get("id") == signing.pk else {}
        restored = bool(kept)
        sign_form = SignForm(initial={k: v for k, v in kept.items() if k != "id"})
    return render(
        request,
        "logistics/adaptations/sign.html",
        {
            "signing": signing,
            "work_order": signing.work_order,
            "device": signing.device,
            "card": cards.get(signing.work_order.patient_id or 0),
            "sign_form": sign_form if own else None,
            "decline_form": (decline_form or DeclineForm()) if own else None,
            "expired": signing.valid_until < timezone.localdate(),
            "restored": restored,
        },
        status=status,
    )


@never_cache
@login_required
@role_permission_required(PRESCRIBE)
@refusals_answered
def sign_view(request: HttpRequest, signing_id: int) -> HttpResponse:
    """The signing page; a POST signs (the password is confirmed first, ACCESS-4)."""
    signing = _request_or_404(request, signing_id)
    if signing.prescriber_id != request.user.pk:
        raise Http404
    if request.method != "POST":
        return _signing_page(request, signing)
    form = SignForm(request.POST)
    if not form.is_valid():
        return _signing_page(request, signing, sign_form=form, status=400)
    data = form.cleaned_data
    try:
        signing_request_sign(
            ctx=AccessContext.from_request(request),
            request_id=signing.pk,
            risks=list(data["risks"]),
            conclusion=data["conclusion"],
            measures=data["measures"],
        )
    except StepUpRequired:
        # Nothing typed is lost: kept in the session while the password is confirmed.
        request.session[TYPED_KEY] = {
            "id": signing.pk,
            "risks": list(data["risks"]),
            "conclusion": data["conclusion"],
            "measures": data["measures"],
        }
        return redirect(step_up_url(request.path))
    except LogisticsError as error:
        form.add_error(None, str(error))
        return _signing_page(request, signing, sign_form=form, status=400)
    messages.success(
        request,
        _("The adaptation on work order %(number)s is signed. The device may now be delivered.")
        % {"number": signing.work_order.number},
    )
    return redirect("logistics:adaptations_to_sign")


@never_cache
@login_required
@role_permission_required(PRESCRIBE)
@require_POST
@refusals_answered
def decline_view(request: HttpRequest, signing_id: int) -> HttpResponse:
    signing = _request_or_404(request, signing_id)
    if signing.prescriber_id != request.user.pk:
        raise Http404
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            signing_request_decline(
                ctx=AccessContext.from_request(request),
                request_id=signing.pk,
                reason=form.cleaned_data["reason"],
            )
        except LogisticsError as error:
            form.add_error("reason", str(error))
        else:
            messages.success(
                request,
                _("You declined the signing request for work order %(number)s.")
                % {"number": signing.work_order.number},
            )
            return redirect("logistics:adaptations_to_sign")
    return _signing_page(request, signing, decline_form=form, status=400)


def _document_response(
    request: HttpRequest, document: AdaptationSigningRequest | AdaptationRecord
) -> HttpResponse:
    try:
        content = adaptation_document_read(
            ctx=AccessContext.from_request(request), document=document
        )
    except DocumentRefused as refused:
        return render(
            request, "logistics/adaptations/refused.html", {"message": str(refused)}, status=403
        )
    response = HttpResponse(content, content_type=document.document_content_type)
    response["Content-Disposition"] = f'inline; filename="{document.document_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@login_required
@require_GET
def request_document_view(request: HttpRequest, signing_id: int) -> HttpResponse:
    """The document to sign, for its prescriber or a technician (PRINT-1 decides)."""
    return _document_response(request, _request_or_404(request, signing_id))


@never_cache
@login_required
@require_GET
def record_document_view(request: HttpRequest, record_id: int) -> HttpResponse:
    """A signed adaptation's document, for a technician or its signer (PRINT-1 decides)."""
    try:
        record = adaptation_record_get_for_user(user=request.user, record_id=record_id)
    except AdaptationRecord.DoesNotExist:
        raise Http404 from None
    return _document_response(request, record)


def _work_order_or_404(work_order_id: int) -> WorkOrder:
    try:
        return adaptation_work_order_get(work_order_id=work_order_id)
    except WorkOrder.DoesNotExist:
        raise Http404 from None


def _work_order_page(
    request: HttpRequest,
    work_order: WorkOrder,
    *,
    send_form: SendForm | None = None,
    paper_form: PaperForm | None = None,
    status: int = 200,
) -> HttpResponse:
    requests = signing_requests_of_work_order(work_order_id=work_order.pk)
    records = (
        [r for r in adaptation_records_of_device(device_id=work_order.device_id)
         if r.work_order_id == work_order.pk]
        if work_order.device_id is not None
        else []
    )  # fmt: skip
    today = timezone.localdate()
    return render(
        request,
        "logistics/adaptations/work_order.html",
        {
            "work_order": work_order,
            "requests": requests,
            "records": records,
            "open_request": next((r for r in requests if r.state == SigningState.SENT), None),
            "send_form": send_form or SendForm(initial={"valid_until": today + DEFAULT_VALIDITY}),
            "paper_form": paper_form or PaperForm(initial={"signed_on": today}),
        },
        status=status,
    )


@never_cache
@login_required
@role_permission_required(WORK_ON_WORK_ORDERS)
@require_GET
def work_order_view(request: HttpRequest, work_order_id: int) -> HttpResponse:
    """The technician's side of a special adaptation's signature."""
    return _work_order_page(request, _work_order_or_404(work_order_id))


def _upload(form: forms.Form, field: str) -> bytes:
    upload: Any = form.cleaned_data[field]
    content: bytes = upload.read()
    return content


@never_cache
@login_required
@role_permission_required(WORK_ON_WORK_ORDERS)
@require_POST
def send_view(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = _work_order_or_404(work_order_id)
    form = SendForm(request.POST, request.FILES)
    if form.is_valid():
        valid_until: datetime.date = form.cleaned_data["valid_until"]
        try:
            signing_request_send(
                work_order_id=work_order.pk,
                document=_upload(form, "document"),
                valid_until=valid_until,
                by=request.user,
            )
        except LogisticsError as error:
            form.add_error("document", str(error))
        else:
            messages.success(
                request,
                _("The signing request for work order %(number)s is sent to the prescriber.")
                % {"number": work_order.number},
            )
            return redirect("logistics:adaptation_work_order", work_order_id=work_order.pk)
    return _work_order_page(request, work_order, send_form=form, status=400)


@never_cache
@login_required
@role_permission_required(WORK_ON_WORK_ORDERS)
@require_POST
def paper_view(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = _work_order_or_404(work_order_id)
    form = PaperForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            adaptation_paper_record(
                work_order_id=work_order.pk,
                signed_on=form.cleaned_data["signed_on"],
                scan=_upload(form, "scan"),
                by=request.user,
            )
        except LogisticsError as error:
            form.add_error("scan", str(error))
        else:
            messages.success(
                request,
                _("The paper signature for work order %(number)s is recorded.")
                % {"number": work_order.number},
            )
            return redirect("logistics:adaptation_work_order", work_order_id=work_order.pk)
    return _work_order_page(request, work_order, paper_form=form, status=400)

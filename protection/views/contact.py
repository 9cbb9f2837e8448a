"""The contact agreement's page (LEAK-5, PRESC-10): a grant holder who has confirmed the password
reads and records how a protected person wants to be contacted. Anyone else gets the same 404 as
for a patient that does not exist (or the step-up page, holding a grant); the content is shown
on no other page but the work order's, to grant holders."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from protection.gate import AccessContext
from protection.refusals import refusals_answered
from protection.services import ProtectionError
from protection.services.contact import contact_agreement_get_for_user, contact_agreement_record


class ContactAgreementForm(forms.Form):
    via_prescriber = forms.BooleanField(
        label=gettext_lazy("Contact through the prescriber only"),
        help_text=gettext_lazy(
            "Technicians and logistics staff contact you, the prescriber, never the patient."
        ),
        required=False,
        initial=True,
    )
    phone = forms.CharField(label=gettext_lazy("Phone number"), max_length=40, required=False)
    times = forms.CharField(
        label=gettext_lazy("When to call"),
        help_text=gettext_lazy("For example weekdays 9-11."),
        max_length=200,
        required=False,
    )


@never_cache
# LEAK-3: the phone number and the calling times are encrypted at rest; an error report of the
# request that records them must not show them in clear.
@sensitive_post_parameters("phone", "times")
@login_required
@require_http_methods(["GET", "POST"])
@refusals_answered(next_url=lambda request, reference: request.path)
def contact_agreement_view(request: HttpRequest, reference: str) -> HttpResponse:
    ctx = AccessContext.from_request(request)
    page = contact_agreement_get_for_user(ctx=ctx, patient_reference=reference)
    form = ContactAgreementForm(
        initial={
            "via_prescriber": page.agreement.via_prescriber if page.agreement else True,
            "phone": page.agreement.phone if page.agreement else "",
            "times": page.agreement.times if page.agreement else "",
        }
    )
    status = 200
    if request.method == "POST":
        form = ContactAgreementForm(request.POST)
        if form.is_valid():
            try:
                contact_agreement_record(
                    ctx=ctx,
                    patient_reference=reference,
                    via_prescriber=form.cleaned_data["via_prescriber"],
                    phone=form.cleaned_data["phone"],
                    times=form.cleaned_data["times"],
                )
            except ProtectionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The contact agreement is recorded."))
                return redirect("protection:contact_agreement", reference=reference)
        status = 400
    return render(
        request,
        "protection/contact_agreement.html",
        {"reference": reference, "card": page.card, "agreement": page.agreement, "form": form},
        status=status,
    )

"""Pages for patients the register does not give (REG-1..3).

Identity numbers travel in POST bodies only (LEAK-1). A refused form is shown again with
everything that was typed, the errors beside their fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from patients.identity import IdentityNumber, IdentityNumberError, parse_identity_number
from patients.models import Region
from patients.registration import HandRegistration, RegistrationError
from protection.gate import AccessContext
from protection.permissions import role_permission_required
from protection.refusals import patient_answer, refusals_answered
from protection.services import ProtectionError
from protection.services.registration import (
    REFRESH_PERMISSION,
    REGISTER_PERMISSION,
    RESERVE_NUMBER_PERMISSION,
    SEARCH_PERMISSION,
    patient_hand_register,
    patient_refresh_from_register,
    reserve_number_record,
)
from protection.views.patient import _card_context


def _identity_number(text: str) -> IdentityNumber:
    try:
        return parse_identity_number(text, reserve_formats=settings.RESERVE_NUMBER_FORMATS)
    except IdentityNumberError as exc:
        raise forms.ValidationError(exc.message, code=exc.code) from exc


class HandRegistrationForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Personnummer, samordningsnummer or reservnummer"),
        help_text=gettext_lazy("Leave empty for a person without a number."),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    no_number = forms.BooleanField(
        label=gettext_lazy("The person has no number: issue a reservnummer"), required=False
    )
    given_names = forms.CharField(label=gettext_lazy("Given names"), max_length=100)
    surname = forms.CharField(label=gettext_lazy("Surname"), max_length=100)
    birth_date = forms.DateField(
        label=gettext_lazy("Birth date"),
        help_text=gettext_lazy("YYYY-MM-DD. Needed when the person has no number."),
        required=False,
    )
    care_of = forms.CharField(label=gettext_lazy("Care of"), max_length=100, required=False)
    street = forms.CharField(label=gettext_lazy("Street address"), max_length=100, required=False)
    postal_code = forms.RegexField(
        label=gettext_lazy("Postal code"),
        regex=r"^[0-9]{3} ?[0-9]{2}$",
        error_messages={"invalid": gettext_lazy("Enter five digits, e.g. 211 42.")},
        max_length=6,
        required=False,
    )
    city = forms.CharField(label=gettext_lazy("Post town"), max_length=60, required=False)
    foreign_street = forms.CharField(
        label=gettext_lazy("Address abroad"), max_length=100, required=False
    )
    foreign_city = forms.CharField(
        label=gettext_lazy("Town abroad"), max_length=100, required=False
    )
    country = forms.CharField(label=gettext_lazy("Country"), max_length=60, required=False)
    municipality_code = forms.RegexField(
        label=gettext_lazy("Municipality code"),
        regex=r"^[0-9]{2}$",
        error_messages={"invalid": gettext_lazy("Enter the two digits of the municipality.")},
        max_length=2,
        required=False,
    )
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    home_region = forms.ModelChoiceField(
        label=gettext_lazy("Home region"),
        queryset=Region.objects.all(),
        required=False,
        help_text=gettext_lazy("Leave empty for a person resident abroad."),
    )

    def clean_number(self) -> IdentityNumber | None:
        text = self.cleaned_data["number"].strip()
        return _identity_number(text) if text else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("number") is None and not data.get("no_number") and "number" not in self.errors:
            self.add_error("number", _("Enter the number, or tick that the person has no number."))
        if data.get("number") is not None and data.get("no_number"):
            self.add_error("no_number", _("Either enter a number or tick this box, not both."))
        if data.get("no_number") and data.get("birth_date") is None:
            self.add_error("birth_date", _("Enter the birth date of a person without a number."))
        return data

    def registration(self) -> HandRegistration:
        data = self.cleaned_data
        return HandRegistration(
            number=data["number"],
            given_names=data["given_names"],
            surname=data["surname"],
            birth_date=data["birth_date"],
            care_of=data["care_of"],
            street=data["street"],
            postal_code=data["postal_code"].replace(" ", ""),
            city=data["city"],
            foreign_street=data["foreign_street"],
            foreign_city=data["foreign_city"],
            country=data["country"],
            municipality_code=data["municipality_code"],
            phone=data["phone"],
            home_region=data["home_region"],
        )


@never_cache
# LEAK-1: every field of the form names or places the person (an address abroad, a care-of, a
# birth date as much as the name), so an error report shows none of them.
@sensitive_post_parameters()
@login_required
@role_permission_required(REGISTER_PERMISSION)
@role_permission_required(SEARCH_PERMISSION)
@require_http_methods(["GET", "POST"])
def hand_registration_view(request: HttpRequest) -> HttpResponse:
    """REG-1: the search for the number comes first, inside the same request."""
    form = HandRegistrationForm(request.POST or None)
    context: dict[str, Any] = {"card": None}
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                outcome = patient_hand_register(
                    ctx=AccessContext.from_request(request), data=form.registration()
                )
            except (RegistrationError, ProtectionError) as error:
                form.add_error(getattr(error, "field", None), str(error))
            else:
                if outcome.patient is not None:
                    messages.success(request, _("The patient is registered."))
                    return redirect("patients:detail", reference=outcome.patient.reference)
                # Someone has the number already: shown as the search shows them, nothing new.
                status = 200
                context = {"already": True, **_card_context(request, outcome.existing)}
                if outcome.existing is not None and outcome.existing.card.masked:
                    # LEAK-1: a page about a patient hidden from the user holds no number or
                    # name, not even as typed: the search page does not echo the number either.
                    form = HandRegistrationForm()
    return render(request, "protection/register.html", {"form": form, **context}, status=status)


class ReserveNumberForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("What to do"),
        choices=[
            ("issue", gettext_lazy("Issue a new reservnummer in the region's format")),
            ("reserve", gettext_lazy("Record a reservnummer the patient already has")),
            ("personal", gettext_lazy("Record the personnummer of a patient with a reservnummer")),
        ],
        widget=forms.RadioSelect,
        initial="issue",
    )
    number = forms.CharField(
        label=gettext_lazy("Number"),
        help_text=gettext_lazy("Not needed when a new reservnummer is issued."),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action, text = data.get("action"), (data.get("number") or "").strip()
        data["parsed"] = None
        if action in ("reserve", "personal"):
            if not text:
                self.add_error("number", _("Enter the number."))
            else:
                try:
                    data["parsed"] = _identity_number(text)
                except forms.ValidationError as error:
                    self.add_error("number", error)
        return data


@never_cache
@sensitive_post_parameters("number")
@login_required
@role_permission_required(RESERVE_NUMBER_PERMISSION)
@role_permission_required(SEARCH_PERMISSION)
@require_http_methods(["GET", "POST"])
@refusals_answered(next_url=lambda request, reference: request.path)
def reserve_number_view(request: HttpRequest, reference: str) -> HttpResponse:
    """REG-2: issue or record a reservnummer, or link the personnummer, on one patient."""
    form = ReserveNumberForm(request.POST or None)
    status = 200
    card = None
    if request.method == "GET":
        # The page names the patient, so it asks the gate (404 for a masked or missing one).
        card = patient_answer(AccessContext.from_request(request), reference).card
    if request.method == "POST":
        status = 400
        if form.is_valid():
            action, parsed = form.cleaned_data["action"], form.cleaned_data["parsed"]
            try:
                reserve_number_record(
                    ctx=AccessContext.from_request(request),
                    patient_reference=reference,
                    issue=action == "issue",
                    reserve_number=parsed if action == "reserve" else None,
                    personal_number=parsed if action == "personal" else None,
                )
            except (RegistrationError, ProtectionError) as error:
                form.add_error("number", str(error))
            else:
                messages.success(
                    request, _("The number is recorded and the administration unit is told.")
                )
                return redirect("patients:detail", reference=reference)
    return render(
        request,
        "protection/reserve_number_record.html",
        {"form": form, "reference": reference, "card": card},
        status=status,
    )


@never_cache
@login_required
@role_permission_required(REFRESH_PERMISSION)
@require_POST
@refusals_answered(next_url=lambda request, reference: f"/patients/{reference}/")
def register_refresh_view(request: HttpRequest, reference: str) -> HttpResponse:
    """REG-3: customer service's button on the patient page."""
    try:
        found = patient_refresh_from_register(
            ctx=AccessContext.from_request(request), patient_reference=reference
        )
    except ProtectionError as error:
        messages.error(request, str(error))
    else:
        if found:
            messages.success(request, _("The patient is refreshed from the register."))
        else:
            messages.warning(
                request, _("The register's latest extract does not hold this patient.")
            )
    return redirect("patients:detail", reference=reference)

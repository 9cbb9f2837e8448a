"""Forms of the prescriber's pages. They check shape only (required, type, length); every rule
is the services' (prescriptions.services), which the views call with the cleaned data."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.models import Region
from prescriptions.models import (
    AGREEMENT_DOCUMENT_MAX_BYTES,
    Article,
    Authorisation,
    Certificate,
    CompetenceArea,
    CompetenceLevel,
    ConsumablePeriod,
    CountryGroup,
    PickupPoint,
    PrescriberProfile,
    PrescribingUnit,
    PrescriptionState,
    Supply,
    Urgency,
)
from prescriptions.models.catalogue import published_on
from prescriptions.services.region import DOCUMENT_UNREADABLE, document_type_read

PRESCRIPTION_NUMBER = re.compile(r"F-[0-9A-Z]{8}")
CONSUMABLE_NUMBER = re.compile(r"L-[0-9A-Z]{8}")


class LineAddForm(forms.Form):
    """One catalogue row's "Add" button; an accessory names the line of its main article."""

    article = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    main_line = forms.IntegerField(
        label=_("Accessory to line"), required=False, min_value=1, widget=forms.Select
    )


class LineChangeForm(forms.Form):
    """Quantity, rent or buy and special adaptation of one draft line; prefixed per line so that
    every line's fields have their own ids and labels."""

    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=999)
    supply = forms.ChoiceField(label=_("Rent or buy"), choices=Supply.choices)
    special_adaptation = forms.BooleanField(
        label=_("Specially adapted (needs a signed risk assessment)"), required=False
    )


class DetailsForm(forms.Form):
    need = forms.CharField(
        label=_("The need it meets"),
        help_text=_("Never the patient's name or personnummer."),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=Urgency.choices, widget=forms.RadioSelect
    )
    fitting_note = forms.CharField(
        label=_("Fitting note"),
        help_text=_("For the fitting: what to adjust, who attends. Never a personnummer."),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DeliveryForm(forms.Form):
    """Where an ordinary patient's delivery goes; nothing is typed (PRESC-2). A protected
    patient's page shows the computed destination and no form."""

    kind = forms.ChoiceField(
        label=_("Delivery to"),
        choices=[
            ("patient_address", _("The patient's registered address")),
            ("unit", _("Your unit")),
            ("pickup_point", _("A pickup point")),
        ],
        widget=forms.RadioSelect,
    )
    # LOG-4: the active pickup points; chosen with "A pickup point".
    pickup_point = forms.ModelChoiceField(
        label=_("Pickup point"),
        queryset=PickupPoint.objects.filter(active=True).order_by("town", "name"),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "pickup_point" and not data.get("pickup_point"):
            self.add_error("pickup_point", _("Choose the pickup point."))
        return data


class RegionChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class HomeRegionAgreementForm(forms.Form):
    """REGION-2: the home region's payment commitment and its document."""

    issuing_region = RegionChoiceField(
        label=_("Issuing region"),
        queryset=Region.objects.order_by("name"),
        to_field_name="county_code",
        empty_label=None,
    )
    agreement_reference = forms.CharField(
        label=_("The home region's reference"),
        help_text=_("As on the document. Never a personnummer."),
        max_length=64,
    )
    issued_on = forms.DateField(
        label=_("Date of the agreement"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    supply = forms.ChoiceField(
        label=_("Rent or buy"), choices=Supply.choices, widget=forms.RadioSelect
    )
    document = forms.FileField(
        label=_("The agreement document"),
        help_text=_("PDF, JPEG or PNG, at most %(mb)s MB.")
        % {"mb": AGREEMENT_DOCUMENT_MAX_BYTES // (1024 * 1024)},
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def clean_document(self) -> Any:
        # By its content, not its name: the service refuses the same, here it is said at the field.
        document = self.cleaned_data["document"]
        # The size first: a large upload is refused before a byte of it is read or parsed.
        if document.size is None or document.size > AGREEMENT_DOCUMENT_MAX_BYTES:
            raise forms.ValidationError(
                _(
                    "The file is larger than %(mb)s MB. Scan the agreement at a lower resolution "
                    "or save it as a PDF and upload it again."
                ),
                code="too_large",
                params={"mb": AGREEMENT_DOCUMENT_MAX_BYTES // (1024 * 1024)},
            )
        position = document.tell()
        content_type = document_type_read(document.read(AGREEMENT_DOCUMENT_MAX_BYTES + 1))
        document.seek(position)
        if content_type is None:
            raise forms.ValidationError(_(DOCUMENT_UNREADABLE), code="unreadable")
        return document


class FittingForm(forms.Form):
    """PRESC-4: an ordinary patient signs the liability form; for a protected patient the
    prescriber confirms the journal note instead, and no liability form is offered."""

    confirm = forms.BooleanField()

    def __init__(self, *args: Any, protected: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.protected = protected
        self.fields["confirm"].label = (
            _("The journal notes that the patient was given the information about the device.")
            if protected
            else _("The patient has signed the liability form.")
        )


class CancelForm(forms.Form):
    """Cancelling cannot be undone: the prescriber ticks that they mean it and writes why (the
    history keeps the reason)."""

    reason = forms.CharField(
        label=_("Reason for cancelling"),
        help_text=_("Never a personnummer."),
        max_length=300,
        error_messages={"required": _("Write why the prescription is cancelled.")},
    )
    confirm = forms.BooleanField(
        label=_("Yes, cancel the prescription. This cannot be undone."),
        error_messages={"required": _("Tick the box to confirm that you want to cancel.")},
    )


class ReplacementForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("decline", _("Decline"))], widget=forms.HiddenInput
    )


class StateFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        state = self.fields["state"]
        assert isinstance(state, forms.ChoiceField)
        state.choices = [("", _("All states")), *PrescriptionState.choices]


class PrescriptionNumbersField(forms.Field):
    """Several prescription numbers from checkboxes of the same name; their shape only."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        return [str(item).strip() for item in value]

    def validate(self, value: Any) -> None:
        super().validate(value)
        if any(not PRESCRIPTION_NUMBER.fullmatch(item) for item in value):
            raise forms.ValidationError(_("Not a prescription number."), code="invalid")


class OrderConfirmationBatchForm(forms.Form):
    """The prescriptions chosen on "My prescriptions" for a batch of order confirmations."""

    prescription = PrescriptionNumbersField(label=_("Prescriptions"))


# --- patients from other regions and countries; special delivery (REGION-3/5, LEAK-3) ---------


class SupplyRegistrationForm(forms.Form):
    """REGION-3: what customer service needs to register the patient. The personnummer is not a
    field: it is the patient's own, from the register. For a protected patient the form has no
    address, phone or door code at all (LEAK-3, PRESC-2): deliveries go to the unit."""

    name = forms.CharField(label=_("Name"), max_length=200)
    care_of = forms.CharField(label=_("c/o"), max_length=100, required=False)
    street = forms.CharField(label=_("Street address"), max_length=200)
    postal_code = forms.RegexField(
        label=_("Postal code"),
        regex=r"^[0-9]{3} ?[0-9]{2}$",
        error_messages={"invalid": _("Five digits, for example 211 20.")},
    )
    town = forms.CharField(label=_("Town"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    door_code = forms.CharField(label=_("Door code or entry phone"), max_length=100, required=False)

    LOCATING = ("care_of", "street", "postal_code", "town", "phone", "door_code")

    def __init__(self, *args: Any, protected: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if protected:
            for name in self.LOCATING:
                del self.fields[name]


class ResidenceAbroadForm(forms.Form):
    """REGION-5: where the patient lives and which certificate they hold."""

    country = forms.RegexField(
        label=_("Country"),
        regex=r"^[A-Za-z]{2}$",
        help_text=_("The two-letter country code, for example DE or NO."),
        error_messages={"invalid": _("Two letters, for example DE.")},
        max_length=2,
    )
    country_group = forms.ChoiceField(
        label=_("Country group"), choices=CountryGroup.choices, widget=forms.RadioSelect
    )
    certificate = forms.ChoiceField(label=_("Certificate"), choices=Certificate.choices)
    certificate_valid_until = forms.DateField(
        label=_("Certificate valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    swedish_citizen = forms.BooleanField(label=_("Swede living abroad"), required=False)
    last_registered_region = RegionChoiceField(
        label=_("Last registered in (Swede abroad outside the EU/EEA)"),
        queryset=Region.objects.order_by("name"),
        to_field_name="county_code",
        required=False,
    )


class SpecialDeliveryAgreementForm(forms.Form):
    """LEAK-3: the agreed delivery, stored encrypted and shown to grant holders only."""

    address = forms.CharField(
        label=_("Delivery address"), max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    door_code = forms.CharField(label=_("Door code or entry phone"), max_length=100, required=False)
    instructions = forms.CharField(
        label=_("Instructions for the delivery"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SpecialDeliveryChoiceForm(forms.Form):
    """PRESC-2: a protected patient's delivery goes to the unit or follows the agreement."""

    kind = forms.ChoiceField(
        label=_("Delivery to"),
        choices=[
            ("unit", _("Your unit, with you as contact person")),
            ("special_agreement", _("As in the special delivery agreement")),
        ],
        widget=forms.RadioSelect,
    )


class ConsultationBookingForm(forms.Form):
    """PRESC-7: the booking of a consultation activity: the time (the service refuses a time
    that has passed), the place, the service it concerns, the work order number, a phone number
    where the prescriber can be reached (kept encrypted) and, optionally, the consultant. The
    same form rebooks a booked activity."""

    booked_for = forms.DateTimeField(
        label=_("Booked time"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(label=_("Place"), max_length=200)
    service = forms.CharField(label=_("Service it concerns"), max_length=200)
    work_order_number = forms.CharField(label=_("Work order number"), max_length=32)
    phone = forms.RegexField(
        label=_("Phone number where you can be reached"),
        regex=r"^\+?[0-9][0-9 \-]{5,19}$",
        max_length=20,
        error_messages={
            "invalid": _("Write a phone number, digits only, for example 010-123 45 67.")
        },
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    consultant = forms.CharField(label=_("Consultant (optional)"), max_length=200, required=False)


class ConsumablePrescriptionForm(forms.Form):
    """Consumables (issue 14): the article, a quantity per period and the validity."""

    article = forms.ModelChoiceField(
        label=_("Article"),
        queryset=Article.objects.none(),
        empty_label=_("Choose an article"),
    )
    quantity_per_period = forms.IntegerField(label=_("Quantity per period"), min_value=1)
    period_months = forms.TypedChoiceField(
        label=_("Period"), choices=ConsumablePeriod.choices, coerce=int
    )
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(label=_("Valid to"), widget=forms.DateInput(attrs={"type": "date"}))
    need = forms.CharField(
        label=_("The need it meets"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Consumables: the medicine-related product areas (incontinence, diabetes, nutrition).
        self.fields["article"].queryset = Article.objects.filter(  # type: ignore[attr-defined]
            published_on(timezone.localdate()), product_area__medicine_related=True
        ).order_by("name")
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("valid_from", today)
            self.initial.setdefault("valid_to", today.replace(year=today.year + 1) - timedelta(1))


class WithdrawalForm(forms.Form):
    """A withdrawal (*uttag*) against a consumable prescription, taken by customer service."""

    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)


class StaffApplicationForm(forms.Form):
    """STAFF-1: the application for ordering rights (webSesam's behörighetsansökan)."""

    authorisation = forms.ChoiceField(
        label=_("Type of ordering right"),
        choices=Authorisation.choices,
        widget=forms.RadioSelect,
        help_text=_("Choose one. Personal devices include ordering for the unit."),
    )
    unit = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=PrescribingUnit.objects.select_related("unit").order_by("unit__name"),
        help_text=_("The unit you will order for. Its manager confirms the application."),
    )
    hsa_id = forms.CharField(label=_("HSA-id"), max_length=64)
    title = forms.CharField(label=_("Job title"), max_length=100)
    einvoice_access = forms.BooleanField(label=_("I need access to e-invoices"), required=False)
    # STAFF-1: only for a unit's manager, who may apply on behalf of a person at the unit.
    applicant = forms.ModelChoiceField(
        label=_("Apply for"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Myself"),
        help_text=_("As the unit's manager you may apply on behalf of a person at the unit."),
    )

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if people is None:
            del self.fields["applicant"]
            return
        field = self.fields["applicant"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = people
        field.label_from_instance = _user_name  # type: ignore[method-assign,assignment]


class StaffDecisionForm(forms.Form):
    """STAFF-1: the reason, needed for a refusal."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when you refuse. The applicant sees it."),
    )


def _user_name(user: Any) -> str:
    # Managers choose people by name, never by an account key.
    return str(user.get_full_name() or user.get_username())


def _person_name(profile: PrescriberProfile) -> str:
    return _user_name(profile.user)


class CompetenceDecisionForm(forms.Form):
    """STAFF-3: a prescriber's level in a competence area, dated."""

    prescriber = forms.ModelChoiceField(
        label=_("Prescriber"), queryset=PrescriberProfile.objects.none()
    )
    competence_area = forms.ModelChoiceField(
        label=_("Competence area"), queryset=CompetenceArea.objects.order_by("name")
    )
    level = forms.ChoiceField(label=_("Competence level"), choices=CompetenceLevel.choices)
    decided_on = forms.DateField(label=_("Decided on"), help_text=_("For example 2026-01-31."))
    trained_on = forms.DateField(
        label=_("Training completed"),
        required=False,
        help_text=_("Needed the first time a level is decided for the area."),
    )

    def __init__(self, *args: Any, prescribers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["prescriber"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = prescribers
        field.label_from_instance = _person_name  # type: ignore[method-assign,assignment]


class ConsumableNumberForm(forms.Form):
    """Customer service opens a consumable prescription by the number the caller gives (LEAK-5:
    staff work by the case number, so a protected patient is served without being named)."""

    consumable_number = forms.CharField(
        label=_("Consumable prescription number"),
        help_text=_("Starts with L-, as on the prescriber's papers."),
        max_length=20,
    )

    def clean_consumable_number(self) -> str:
        # Read out on the phone: case and spaces as the caller's papers have them.
        number = "".join(str(self.cleaned_data["consumable_number"]).split()).upper()
        if not CONSUMABLE_NUMBER.fullmatch(number):
            raise forms.ValidationError(_("Write the number as L- and eight letters or digits."))
        return number


class WithdrawalCancelForm(forms.Form):
    """Cancel one of the prescription's withdrawals whose order is not yet picked."""

    withdrawal = forms.TypedChoiceField(label=_("Withdrawal"), coerce=int, choices=[])
    reason = forms.CharField(
        label=_("Reason"),
        help_text=_("Never the patient's name or personnummer."),
        max_length=300,
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["withdrawal"].choices = choices  # type: ignore[attr-defined]


class PhoneOrderPageForm(forms.Form):
    """A prescriber phones in an order: who orders, from which unit, what and why. Delivery is
    never asked (PRESC-2: the service computes it)."""

    prescriber = forms.ModelChoiceField(
        label=_("Prescriber"),
        queryset=get_user_model()
        .objects.filter(prescriber_profile__isnull=False, is_active=True)
        .order_by("last_name", "first_name", "username"),
    )
    unit = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=PrescribingUnit.objects.select_related("unit").order_by("unit__name"),
    )
    article_number = forms.CharField(label=_("Article number"), max_length=32)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=999, initial=1)
    need = forms.CharField(
        label=_("The need it meets"),
        help_text=_("As the prescriber says it. Never the patient's name or personnummer."),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), choices=Urgency.choices, widget=forms.RadioSelect, initial="normal"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # People by name, units by name: never a raw key in the choices.
        self.fields["prescriber"].label_from_instance = (  # type: ignore[attr-defined]
            lambda user: user.get_full_name() or user.username
        )
        self.fields["unit"].label_from_instance = lambda u: u.unit.name  # type: ignore[attr-defined]

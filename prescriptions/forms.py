"""Forms of the prescriber's pages. They check shape only (required, type, length); every rule
is the services' (prescriptions.services), which the views call with the cleaned data."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.models import Region
from prescriptions.models import (
    AGREEMENT_DOCUMENT_MAX_BYTES,
    PrescriptionState,
    Supply,
    Urgency,
)

PRESCRIPTION_NUMBER = re.compile(r"F-[0-9A-Z]{8}")


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
        ],
        widget=forms.RadioSelect,
    )


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


class RiskAssessmentSignForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have reviewed the risk assessment of the specially adapted device and sign it.")
    )


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
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        help_text=_("Never a personnummer."),
        max_length=300,
        required=False,
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

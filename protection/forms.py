from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StepUpForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class EmergencyAccessForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for emergency access"),
        help_text=_(
            "For example: ambulance call-out, police request. Do not write the patient's name "
            "or number. The access is logged and reviewed."
        ),
        min_length=10,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class StaffChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class GrantRequestForm(forms.Form):
    staff = StaffChoiceField(
        label=_("Staff who need access"),
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    case_reference = forms.CharField(
        label=_("Case or order number"),
        max_length=40,
        help_text=_("Never a personnummer."),
    )
    starts_on = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, staff_queryset: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff_field = self.fields["staff"]
        assert isinstance(staff_field, StaffChoiceField)
        staff_field.queryset = staff_queryset


class GrantDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("grant", _("Grant")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm_excess = forms.BooleanField(
        label=_("I confirm that every person needs access, even beyond the usual number."),
        required=False,
    )


class GrantEndForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=200, initial=_("No longer needed"))

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from patients.identity import IdentityNumber, IdentityNumberError, parse_identity_number


class PatientSearchForm(forms.Form):
    number = forms.CharField(
        label=_("Personnummer, samordningsnummer or reservnummer"),
        max_length=20,
        help_text=_("For example YYYYMMDD-NNNN or YYMMDD-NNNN, or a reservnummer."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_number(self) -> IdentityNumber:
        try:
            return parse_identity_number(
                self.cleaned_data["number"], reserve_formats=settings.RESERVE_NUMBER_FORMATS
            )
        except IdentityNumberError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc

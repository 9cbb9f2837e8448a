"""Forms of the document pages. Free text is checked by the services (identity numbers)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from protection.documents.letters import LETTER_TEMPLATES


class SummaryRequestForm(forms.Form):
    """PRINT-2: the receiver and reason are given only for forwarding to another principal."""

    forward_to = forms.CharField(
        label=_("Forward to (another principal)"),
        max_length=200,
        required=False,
        help_text=_("Only for a document to be forwarded, for example at överköp at age 20."),
    )
    forward_reason = forms.CharField(
        label=_("Reason for printing"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LetterForm(forms.Form):
    template = forms.ChoiceField(
        label=_("Template"),
        choices=[(code, template.label) for code, template in LETTER_TEMPLATES.items()],
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=120,
        help_text=_("No name or personnummer: the subject may be seen by others."),
    )
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 8}))
    registered = forms.BooleanField(label=_("Registered letter"), required=False)
    wants_email = forms.BooleanField(
        label=_("Send by e-mail (only if the person has asked for it)"), required=False
    )

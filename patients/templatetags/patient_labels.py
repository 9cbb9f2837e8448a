"""``{% patient_label card %}``: a patient named on a page, from the card the view was given.

The tag decides nothing: the card is the gate's (``protection.labels.patient_labels_for_user``
for lists, the gate's answer for one patient). A full card reads "name, personnummer
(reference)": the person first, the internal reference second. A masked card reads "Skyddade
personuppgifter, born 1942" and names no reference (ACCESS-1). Page titles keep to the
reference: a title lands in the browser's history and window list.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from patients.presenters import PROTECTED_LABEL, PatientCard

register = template.Library()


def _born(card: PatientCard) -> str:
    if card.birth_year is None:
        return ""
    return _("born %(year)s") % {"year": card.birth_year}


@register.simple_tag
def patient_label(card: PatientCard | None) -> str:
    if card is None:
        return ""
    if card.masked:
        born = _born(card)
        if not born:
            return format_html('<strong class="protection-label">{}</strong>', PROTECTED_LABEL)
        return format_html(
            '<strong class="protection-label">{}</strong>, {}', PROTECTED_LABEL, born
        )
    label: SafeString = format_html(
        '<span class="patient-label"><span class="patient-label__name">{}</span>, '
        '<span class="patient-label__number">{}</span> '
        '<span class="patient-label__reference">({})</span></span>',
        card.name,
        card.identity_number,
        card.reference,
    )
    return label

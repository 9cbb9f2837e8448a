"""How a prescription's outcome reads to people: the eligibility record's criteria with a human
label each, their effect in words, and the outcome's first sentence by state. The page and the
admin both show the record through here, so neither shows a raw key, True/False or a rule id in
the text (rule ids stay in the auditors' detail).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patients.models import Region
from prescriptions.models import CountryGroup, PrescriptionState
from prescriptions.selectors.prescription import PrescriptionDetail

S = PrescriptionState

# How the page names each criterion of the eligibility record (the "why"); the record itself
# keeps the services' stable keys. Every key the eligibility service writes has its label here
# (tests/prescriptions/test_views.py walks them): the page never shows a raw key.
CRITERION_LABELS: dict[str, Any] = {
    "lines": gettext_lazy("Articles on the prescription"),
    "protected_patient": gettext_lazy("Protected identity"),
    "parcel_through_forwarding": gettext_lazy(
        "Parcel within the limits of Skatteverket's forwarding service"
    ),
    "special_dietary_food_for_protected": gettext_lazy(
        "Special dietary food for a protected patient"
    ),
    "authorised_for_personal_devices": gettext_lazy("Ordering right for personal devices"),
    "competence": gettext_lazy("Registered training in the product areas"),
    "agreement_in_force": gettext_lazy("Agreement in force, article in the assortment"),
    "replacement_applied": gettext_lazy("Replacements decided"),
    "resident_abroad": gettext_lazy("Resident abroad"),
    "country_group": gettext_lazy("Country group"),
    "certificate_valid": gettext_lazy("Valid certificate"),
    "last_registered_region": gettext_lazy("Last registered in region"),
    "patient_pays_prescribing_unit": gettext_lazy("The patient pays the prescribing unit"),
    "home_region": gettext_lazy("Home region (county code) when the care episode started"),
    "out_of_region": gettext_lazy("Out-of-region patient"),
    "total_cost_sek": gettext_lazy("Total cost with accessories (SEK)"),
    "largest_device_cost_sek": gettext_lazy("Most expensive device with accessories (SEK)"),
    "over_limit": gettext_lazy("10 000 SEK or more"),
    "advanced_service": gettext_lazy("Advanced adaptation or service"),
    "hearing": gettext_lazy("Hearing device"),
    "home_region_agreement_needed": gettext_lazy("Home-region agreement needed"),
    "home_region_agreement_present": gettext_lazy("Home-region agreement recorded"),
    "registration_needed": gettext_lazy("Registration with the supply organisation needed"),
    "registration_cleared": gettext_lazy("Registration cleared by customer service"),
    "special_adaptation": gettext_lazy("Specially adapted device"),
    "special_adaptation_signed": gettext_lazy("Risk assessment signed"),
}
EFFECT_LABELS: dict[str, Any] = {
    "ok": gettext_lazy("Fulfilled"),
    "block": gettext_lazy("Stops the submit"),
    "wait": gettext_lazy("Waiting for it"),
    "route": gettext_lazy("Decides delivery or payer"),
}
# The outcome's first sentence, by the state the prescription is in: what happened, and what
# the prescriber can do about it. Rule ids stay in the "rules" detail, out of the text.
OUTCOME_SENTENCES: dict[str, Any] = {
    S.SUBMITTED: gettext_lazy("The prescription is submitted and is being checked."),
    S.AWAITING_AGREEMENT: gettext_lazy(
        "The prescription waits for the home region's agreement (betalningsförbindelse): "
        "record it below."
    ),
    S.AWAITING_REGISTRATION: gettext_lazy(
        "The prescription waits for customer service to register the patient with the supply "
        "organisation."
    ),
    S.APPROVED: gettext_lazy("The prescription is approved: every condition is met."),
    S.CANCELLED: gettext_lazy("The prescription is cancelled."),
}


def criteria_rows(detail: PrescriptionDetail) -> list[dict[str, Any]]:
    if detail.eligibility is None:
        return []
    region_names = _region_names(detail)
    rows = []
    for item in detail.eligibility.criteria:
        key = item.get("criterion", "")
        value = item.get("value")
        shown: Any
        if isinstance(value, bool):
            shown = _("Yes") if value else _("No")
        elif key in ("home_region", "last_registered_region") and value:
            shown = region_names.get(str(value), value)
        elif key == "country_group" and value in CountryGroup.values:
            shown = CountryGroup(value).label
        else:
            shown = value if value not in (None, "") else "-"
        rows.append(
            {
                "label": CRITERION_LABELS.get(key, key),
                "value": shown,
                "rule": item.get("rule", ""),
                "effect": item.get("effect", ""),
                "effect_label": EFFECT_LABELS.get(item.get("effect", ""), item.get("effect")),
                "message": item.get("message", ""),
            }
        )
    return rows


def _region_names(detail: PrescriptionDetail) -> dict[str, str]:
    """The regions the record names by county code, by name: the episode's home region is
    already loaded; a region a Swede abroad was last registered in is read (rare)."""
    home = detail.prescription.episode.home_region
    names = {home.county_code: str(home.name)} if home is not None else {}
    assert detail.eligibility is not None
    others = {
        str(item.get("value"))
        for item in detail.eligibility.criteria
        if item.get("criterion") == "last_registered_region" and item.get("value")
    } - set(names)
    if others:
        names.update(
            Region.objects.filter(county_code__in=others).values_list("county_code", "name")
        )
    return names


def outcome_sentence(detail: PrescriptionDetail, cancel_reason: str) -> str:
    state = detail.prescription.state
    sentence = str(OUTCOME_SENTENCES.get(state, ""))
    if state == S.CANCELLED and cancel_reason:
        sentence = _("The prescription is cancelled. Reason: %(reason)s") % {
            "reason": cancel_reason
        }
    return sentence

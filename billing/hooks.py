"""What the billing floor adds to the floors below, registered in ``BillingConfig.ready``
(nothing below imports billing)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from patients.models import Patient
from protection.permissions import holds_role_permission
from protection.registry import PatientPageSection, patient_page_sections

PRESCRIBE = "prescriptions.add_prescription"


def home_region_cost_section(ctx: Any, patient: Patient) -> PatientPageSection | None:
    """BILL-6: the prescriber sees the full cost charged to an out-of-region patient's home
    region (on the full card only, like every patient page section)."""
    from billing.selectors import home_region_cost_for_patient

    if not holds_role_permission(ctx.user, PRESCRIBE):
        return None
    costs = home_region_cost_for_patient(patient.pk)
    if not costs:
        return None
    return PatientPageSection(
        key="billing-home-region-cost",
        title=gettext_lazy("Cost charged to the home region"),
        template_name="billing/_home_region_cost.html",
        context={"costs": costs},
    )


def register_all() -> None:
    if home_region_cost_section not in patient_page_sections:
        patient_page_sections.append(home_region_cost_section)

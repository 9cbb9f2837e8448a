"""What the billing floor adds to the floors below, registered in ``BillingConfig.ready``
(nothing below imports billing)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from patients.models import Patient
from protection.permissions import holds_role_permission
from protection.registry import (
    PatientPageSection,
    PatientPageSectionProvider,
    patient_page_sections,
)

PRESCRIBE = "prescriptions.add_prescription"


def home_region_cost_section(
    ctx: Any, patient: Patient, has_rows: bool
) -> PatientPageSection | None:
    """BILL-6: the prescriber sees the full cost charged to an out-of-region patient's home
    region (on the full card only, like every patient page section); nothing, and no query,
    for a patient with no such charge (``has_rows``)."""
    from billing.selectors import home_region_cost_for_patient

    if not has_rows:
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


def _home_region_charges(patient_id: int) -> QuerySet[Any]:
    from billing.selectors import home_region_charges_of_patient

    return home_region_charges_of_patient(patient_id)


HOME_REGION_COST_SECTION = PatientPageSectionProvider(
    section=home_region_cost_section,
    rows=_home_region_charges,
    shown_to=lambda ctx: holds_role_permission(ctx.user, PRESCRIBE),
)


def register_all() -> None:
    if HOME_REGION_COST_SECTION not in patient_page_sections:
        patient_page_sections.append(HOME_REGION_COST_SECTION)

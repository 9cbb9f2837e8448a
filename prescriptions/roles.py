"""What the roles need on the prescriptions floor (gathered by patients.services.role_permissions).

Holding a permission here never opens a protected patient: that takes a personal grant, checked
by protection.gate on every access (ACCESS-1).
"""

from __future__ import annotations

from typing import Final

from patients import roles

# CAT-1: product search is a role of its own ("search_catalogue" opens the catalogue pages),
# held by prescribers, customer service and technicians.
CATALOGUE_SEARCH: Final = ("prescriptions.search_catalogue",)

# The catalogue and the people who prescribe, managed by customer service in the admin (CAT-1).
CATALOGUE_ADMIN: Final = tuple(
    f"prescriptions.{action}_{model}"
    for model in (
        "article",
        "agreement",
        "supplier",
        "replacementgroup",
        "productarea",
        "competencearea",
        "prescribingunit",
        "prescriberprofile",
        "competenceregistration",
        # LOG-4: customer service keeps the pickup points.
        "pickuppoint",
    )
    for action in ("view", "add", "change")
)

ROLE_PERMISSIONS: Final[dict[str, tuple[str, ...]]] = {
    # PRESC-1: prescribers build and submit prescriptions for the patients they may see.
    "prescriber": (
        "prescriptions.add_prescription",
        "prescriptions.view_prescription",
        "prescriptions.add_consultationactivity",
        *CATALOGUE_SEARCH,
    ),
    # PRESC-2: phone orders; REGION-3: clear out-of-region registrations; reads the "why".
    "customer_service": (
        "prescriptions.add_phone_order",
        "prescriptions.view_prescription",
        "prescriptions.view_eligibilityrecord",
        "prescriptions.view_prescriptiontransition",
        "prescriptions.view_supplyregistration",
        "prescriptions.change_supplyregistration",
        "prescriptions.view_homeregionagreement",
        "prescriptions.view_consultationactivity",
        "prescriptions.view_invoicemark",
        *CATALOGUE_SEARCH,
        *CATALOGUE_ADMIN,
        # STAFF-1: customer service is the account administration that decides applications.
        "prescriptions.decide_staffapplication",
    ),
    # STAFF-1: the unit's manager confirms its staff's applications; STAFF-3: and decides each
    # prescriber's competence level per competence area.
    "unit_manager": (
        "prescriptions.confirm_staffapplication",
        "prescriptions.add_competencedecision",
    ),
    # STAFF-3: the orderer for a unit searches the catalogue to order for the unit, never
    # prescribes (no add_prescription).
    "orderer": CATALOGUE_SEARCH,
    "technician": CATALOGUE_SEARCH,
    # KPI-5: the assortment owner (CAT-1) follows up prescribing against the assortment.
    roles.ASSORTMENT_OWNER: (
        "prescriptions.follow_up_assortment",
        "prescriptions.publish_assortment",
        *CATALOGUE_SEARCH,
    ),
    # CAT-1: agreement headers and the decision on their rows.
    roles.AGREEMENT_OWNER: ("prescriptions.own_agreements", *CATALOGUE_SEARCH),
    # CAT-1: registers rows under the agreements of the supplier the user is tied to.
    roles.SUPPLIER_USER: ("prescriptions.register_agreement_rows",),
    roles.CATALOGUE_ROLE_ASSIGNER: ("prescriptions.assign_catalogue_roles",),
    # CAT-1: product and agreement search as a role of its own.
    roles.CATALOGUE_SEARCH: CATALOGUE_SEARCH,
}

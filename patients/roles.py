"""The roles of the product as Django groups, each with only the permissions it needs.

Later floors add their own permissions to these roles in their own migrations or role modules;
``roles_sync`` makes the groups match this table exactly (permissions not listed are removed).
"""

from __future__ import annotations

from typing import Final

PRESCRIBER: Final = "prescriber"
CUSTOMER_SERVICE: Final = "customer_service"
LOGISTICS: Final = "logistics"
TECHNICIAN: Final = "technician"
UNIT_MANAGER: Final = "unit_manager"
PROTECTION_ADMIN: Final = "protection_admin"
BILLING: Final = "billing"
# STAFF-3: the orderer for a unit (beställare av hjälpmedel) orders for the unit (its buffer
# store's replenishment, basic equipment) and never prescribes personal devices.
ORDERER: Final = "orderer"
# CAT-1, KPI-5: owns the region's assortment and follows up prescribing (prescriptions floor).
ASSORTMENT_OWNER: Final = "assortment_owner"
# CAT-1: the catalogue's other owners and the role of its own for product and agreement search.
AGREEMENT_OWNER: Final = "agreement_owner"
SUPPLIER_USER: Final = "supplier_user"
CATALOGUE_ROLE_ASSIGNER: Final = "catalogue_role_assigner"
CATALOGUE_SEARCH: Final = "catalogue_search"
# CAT-1: the roles the catalogue's role assigner gives and takes, and no others.
CATALOGUE_ROLES: Final = (AGREEMENT_OWNER, SUPPLIER_USER, ASSORTMENT_OWNER, CATALOGUE_SEARCH)

# ACCESS-1: the admin's patient list holds protected patients (masked) for this role only.
LIST_PROTECTED_PERMISSION: Final = "patients.list_protected"

# app_label.codename. "view_patient" opens patient search and the patient page; access to a
# protected patient needs a personal grant on top (ACCESS-1), never a role.
ROLE_PERMISSIONS: Final[dict[str, tuple[str, ...]]] = {
    # REG-2: the prescribing unit issues or records a reservnummer.
    PRESCRIBER: ("patients.view_patient", "patients.record_reserve_number"),
    # REG-1..3: customer service also does the administration unit's work on the register:
    # registers patients by hand, is told of reservnummer issued, refreshes a person.
    CUSTOMER_SERVICE: (
        "patients.view_patient",
        "patients.register_by_hand",
        "patients.receive_reserve_number_notice",
        "patients.refresh_from_register",
        "patients.view_region",
        "patients.view_unit",
        "patients.view_registerfile",
        "patients.view_quarantinedrecord",
    ),
    LOGISTICS: ("patients.view_unit",),
    TECHNICIAN: ("patients.view_unit",),
    # Searches patients to request grants for the unit's staff (ACCESS-3). The access log is read
    # through the log review, scoped to the unit, never through the admin.
    UNIT_MANAGER: (
        "patients.view_patient",
        "patients.view_unit",
        "patients.record_reserve_number",
    ),
    # They decide grants (ACCESS-3), so their admin patient list holds protected patients.
    PROTECTION_ADMIN: (
        "patients.view_accessentry",
        "patients.view_patient",
        LIST_PROTECTED_PERMISSION,
    ),
    BILLING: ("patients.view_region", "patients.view_unit"),
    ORDERER: ("patients.view_unit",),
    # Its permissions are the prescriptions floor's (prescriptions/roles.py).
    ASSORTMENT_OWNER: (),
    AGREEMENT_OWNER: (),
    SUPPLIER_USER: (),
    CATALOGUE_ROLE_ASSIGNER: (),
    CATALOGUE_SEARCH: (),
}

# Roles that work in the Django admin (is_staff) rather than only in the product's pages.
ADMIN_ROLES: Final = frozenset({CUSTOMER_SERVICE, PROTECTION_ADMIN})

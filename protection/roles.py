"""What the roles need on the protection floor (gathered by patients.services.role_permissions)."""

from __future__ import annotations

from typing import Final

ROLE_PERMISSIONS: Final[dict[str, tuple[str, ...]]] = {
    # ACCESS-7: break the glass is for care staff in an acute situation, not for administrators.
    "prescriber": (
        "protection.add_emergencyaccess",
        # LETTER-1..3: letters to patients, made through the document pipeline.
        "protection.add_letter",
    ),
    # ACCESS-3/5: unit managers request grants for their staff and review and end them.
    "unit_manager": (
        "protection.add_letter",
        "protection.add_grantrequest",
        "protection.view_grantrequest",
        "protection.view_grant",
        "protection.change_grant",
        # PROT-1/PROT-6: decide, renew and end local protection for their own unit.
        "protection.add_localprotection",
        "protection.view_localprotection",
        "protection.change_localprotection",
        # PROT-1: decide and end reservnummer protection for their own unit.
        "protection.add_reservenumberprotection",
        "protection.view_reservenumberprotection",
        "protection.change_reservenumberprotection",
    ),
    # ACCESS-3: protection administrators decide requests and review emergency accesses.
    "protection_admin": (
        "protection.view_grantrequest",
        "protection.change_grantrequest",
        "protection.view_grant",
        "protection.change_grant",
        "protection.view_emergencyaccess",
        "protection.change_emergencyaccess",
        # PROT-3/PROT-4: see held protections and record the decision that releases one.
        "protection.view_protectionreview",
        "protection.add_protectionreview",
    ),
}

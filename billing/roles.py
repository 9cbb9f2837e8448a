"""What the billing role needs on the billing floor (patients.services.role_permissions).

Billing staff hold no grants to protected patients (ACCESS-9, B3): their pages show secret
customer numbers and order numbers only. REGION-4: the run deactivates out-of-region patients
after invoicing through the prescriptions floor's service, which asks for customer service's
permission to deactivate; the billing role holds it for that purpose.
"""

from __future__ import annotations

from typing import Final

ROLE_PERMISSIONS: Final[dict[str, tuple[str, ...]]] = {
    "billing": (
        "billing.run_billing",
        "billing.view_invoice",
        "billing.view_invoiceline",
        "billing.view_chargeevent",
        "billing.view_billingrun",
        "billing.view_lapsedclaim",
        "billing.view_tariff",
        "billing.add_tariff",
        "billing.change_tariff",
        "billing.view_billingaccount",
        "prescriptions.change_supplyregistration",
    ),
}

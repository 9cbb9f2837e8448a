from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrescriptionsConfig(AppConfig):
    """Catalogue and prescriptions (built on protection)."""

    name = "prescriptions"
    verbose_name = _("Prescriptions")

    def ready(self) -> None:
        # ACCESS-3: the grant decision page lists the patient's open prescriptions elsewhere.
        from prescriptions.documents import ORDER_CONFIRMATION
        from prescriptions.selectors.prescription import prescriptions_open_elsewhere
        from protection.documents import kinds
        from protection.registry import open_case_providers

        if prescriptions_open_elsewhere not in open_case_providers:
            open_case_providers.append(prescriptions_open_elsewhere)
        # ACCESS-8: a prescription not yet decided keeps the unit's grants for the patient.
        from prescriptions.selectors.prescription import unit_has_open_prescription
        from protection.registry import unit_case_open_checks

        if unit_has_open_prescription not in unit_case_open_checks:
            unit_case_open_checks.append(unit_has_open_prescription)
        # The order confirmation, under the printing ban (PRINT-1..3) like every document.
        kinds.register(ORDER_CONFIRMATION)
        # PRESC-2: a patient who becomes protected gets their orders moved to the unit.
        from prescriptions.tasks import protection_added
        from protection.registry import protection_added_handlers

        if protection_added not in protection_added_handlers:
            protection_added_handlers.append(protection_added)
        # The start page's sections: the prescriber's open prescriptions, the catalogue.
        from prescriptions import start_sections

        start_sections.register()
        # Consumables (issue 14): the patient page lists them for prescribers and customer
        # service, who take withdrawals from there.
        from prescriptions.views.consumable import CONSUMABLES_SECTION
        from protection.registry import patient_page_sections

        if CONSUMABLES_SECTION not in patient_page_sections:
            patient_page_sections.append(CONSUMABLES_SECTION)

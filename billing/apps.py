from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Invoices to other regions and the finance export (the top floor)."""

    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from billing import hooks, start_sections, tasks
        from billing.documents import INVOICE_PDF, PATIENT_INVOICE_PDF
        from protection.documents import kinds
        from protection.registry import protection_added_handlers

        # BILL-6: the home region's cost on the patient page (protection.registry).
        hooks.register_all()
        # The billing role's work on the start page (patients.startpage).
        start_sections.register_all()
        # BILL-2, LEAK-4: a person who becomes protected is moved to a secret customer number.
        if tasks.protection_added not in protection_added_handlers:
            protection_added_handlers.append(tasks.protection_added)
        # The invoice's PDF, an immutable record of the document pipeline.
        kinds.register(INVOICE_PDF)
        # BILL-5: the patient invoice, a letter to an ordinary patient's address.
        kinds.register(PATIENT_INVOICE_PDF)

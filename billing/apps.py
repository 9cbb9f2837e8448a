from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Invoices to other regions and the finance export (the top floor)."""

    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        # BILL-6: the home region's cost on the patient page (protection.registry).
        from billing import hooks
        from billing.documents import INVOICE_PDF
        from protection.documents import kinds

        hooks.register_all()
        # BILL-2, LEAK-4: a person who becomes protected is moved to a secret customer number.
        from billing import tasks
        from protection.registry import protection_added_handlers

        if tasks.protection_added not in protection_added_handlers:
            protection_added_handlers.append(tasks.protection_added)
        kinds.register(INVOICE_PDF)

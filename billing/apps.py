from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Invoices to other regions and the finance export (the top floor)."""

    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        # BILL-6: the home region's cost on the patient page (protection.registry).
        from billing import hooks, start_sections

        hooks.register_all()
        # The billing role's work on the start page (patients.startpage).
        start_sections.register_all()

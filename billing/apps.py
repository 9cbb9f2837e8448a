from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Invoices to other regions and the finance export (the top floor)."""

    name = "billing"
    verbose_name = _("Billing")

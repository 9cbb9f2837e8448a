from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrescriptionsConfig(AppConfig):
    """Catalogue and prescriptions (built on protection)."""

    name = "prescriptions"
    verbose_name = _("Prescriptions")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    """Deliveries, pickups, repairs and reconditioning (built on prescriptions)."""

    name = "logistics"
    verbose_name = _("Logistics")

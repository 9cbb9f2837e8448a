from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtectionConfig(AppConfig):
    """Protected identity: the gate, grants, step-up and log review (built on patients)."""

    name = "protection"
    verbose_name = _("Protected identity")

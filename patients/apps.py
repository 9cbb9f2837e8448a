from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    """The lowest floor: patients, their identities, regions, units and the access log."""

    name = "patients"
    verbose_name = _("Patients")

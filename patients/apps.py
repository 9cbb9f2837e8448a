from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    """The lowest floor: patients, their identities, regions, units and the access log."""

    name = "patients"
    verbose_name = _("Patients")

    def ready(self) -> None:
        # The start page's sections of this floor: messages, the register's quarantine, admin.
        from patients import start_sections

        start_sections.register()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    """Stock, customer orders, picking and delivery, and the device register (built on
    prescriptions). It tells nothing below it anything; the floors below tell it through
    events and the registries it fills here."""

    name = "logistics"
    verbose_name = _("Logistics")

    def ready(self) -> None:
        # Each part of the floor registers its handlers, document kinds and page sections in
        # ``logistics/hooks.py``, one function per part, so that they can be read in one place.
        from logistics import hooks

        hooks.register_all()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtectionConfig(AppConfig):
    """Protected identity: the gate, grants, step-up, log review and the document pipeline
    with the printing ban (built on patients)."""

    name = "protection"
    verbose_name = _("Protected identity")

    def ready(self) -> None:
        # This floor's own documents; higher floors register theirs the same way.
        from protection.documents import kinds
        from protection.documents.letters import LETTER_DOCUMENT
        from protection.documents.summary import SUMMARY_DOCUMENT

        kinds.register(SUMMARY_DOCUMENT)
        kinds.register(LETTER_DOCUMENT)
        # PRINT-3: a patient who becomes protected has their documents withdrawn. Registered
        # here, before the higher floors' ready (INSTALLED_APPS order), so it is sent first.
        from protection.documents.services import withdraw_send
        from protection.registry import protection_added_handlers

        if withdraw_send not in protection_added_handlers:
            protection_added_handlers.append(withdraw_send)
        # ACCESS-10: every change to an account is recorded, wherever it is made.
        from protection import account_watch, login_lockout

        account_watch.connect()
        login_lockout.connect()
        # The start page's sections: patients, requests, grants, protections, documents.
        from protection import start_sections

        start_sections.register()

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

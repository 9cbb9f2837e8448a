"""How a protected person wants to be contacted (LEAK-5, PRESC-10): the contact agreement the
prescriber records with the patient: through the prescriber, or a phone number and the times it
may be called. Encrypted at rest and shown to grant holders only, through the gate
(``protection.services.contact``); a technician reads "Kontakt via förskrivaren" instead."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from patients.fields import EncryptedTextField
from patients.models import Patient


class ContactAgreement(models.Model):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("patient")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # The default and the safest: every contact goes through the prescriber.
    via_prescriber = models.BooleanField(_("contact through the prescriber only"), default=True)
    phone = EncryptedTextField(_("phone number"), blank=True, default="")
    times = EncryptedTextField(_("when to call"), blank=True, default="")
    recorded_at = models.DateTimeField(_("recorded"), db_default=Now())
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = _("contact agreement")
        verbose_name_plural = _("contact agreements")
        constraints = [
            # One agreement in force per patient: recording a new one ends the old.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(ended_at__isnull=True),
                name="contact_agreement_one_in_force",
            )
        ]

    def __str__(self) -> str:
        return f"contact-agreement:{self.pk}"

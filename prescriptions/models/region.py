"""Patients from other regions and countries (REGION-1..5): who pays, and what must be in place
before anything is handed out."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from patients.fields import EncryptedJSONField, EncryptedTextField
from patients.models import Region
from patients.transitions import TransitionRecord
from prescriptions.models.catalogue import Supply
from prescriptions.models.people import PrescribingUnit
from prescriptions.models.prescription import CareEpisode, Prescription

# What an uploaded agreement document may weigh: a scanned page or two.
AGREEMENT_DOCUMENT_MAX_BYTES = 5 * 1024 * 1024


class HomeRegionAgreement(models.Model):
    """REGION-2: the home region's payment commitment (betalningsförbindelse) for one
    prescription, with the document it issued. The document is stored in the database,
    encrypted (it names the patient)."""

    prescription = models.ForeignKey(
        Prescription,
        on_delete=models.PROTECT,
        related_name="home_region_agreements",
        verbose_name=_("prescription"),
    )
    issuing_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("issuing region")
    )
    reference = models.CharField(_("the home region's reference"), max_length=64)
    issued_on = models.DateField(_("date"))
    supply = models.CharField(_("rent or buy"), max_length=8, choices=Supply.choices)
    document_name = models.CharField(_("document"), max_length=200)
    document_content_type = models.CharField(max_length=100)
    document_size = models.PositiveIntegerField(_("size (bytes)"))
    # Base64 of the file, encrypted at rest.
    document = EncryptedTextField(_("document content"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), db_default=Now())

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = _("home-region agreement")
        verbose_name_plural = _("home-region agreements")

    def __str__(self) -> str:
        return f"agreement:{self.pk}"


class RegistrationState(models.TextChoices):
    REQUESTED = "requested", _("waiting for customer service")
    CLEARED = "cleared", _("cleared")
    DEACTIVATED = "deactivated", _("deactivated after invoicing")


class SupplyRegistration(models.Model):
    """REGION-3: an out-of-region patient registered for medicine-related products, cleared by
    customer service before anything is handed out. Everything that identifies or locates the
    person is encrypted at rest (LEAK-3); a protected patient's registration carries no address,
    phone or door code (PRESC-2: deliveries go to the unit).

    REGION-4: ``out_of_region_deactivate`` deactivates it (``deactivated_at``) once the episode's
    invoicing is done and closes the care episode; a returning patient gets a new episode (the
    home region read again from the register) and a new registration, cleared again.
    """

    episode = models.ForeignKey(
        CareEpisode,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("care episode"),
    )
    identity_number = EncryptedTextField(_("personnummer"))
    name = EncryptedTextField(_("name"))
    # {"care_of", "street", "postal_code", "town"}
    address = EncryptedJSONField(_("street address"), null=True, blank=True)
    phone = EncryptedTextField(_("phone"), null=True, blank=True)
    door_code = EncryptedTextField(_("door code or entry phone"), null=True, blank=True)
    prescriber_name = models.CharField(_("prescriber's name"), max_length=200)
    prescriber_email = models.EmailField(_("prescriber's e-mail"))
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=RegistrationState.choices,
        default=RegistrationState.REQUESTED,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), db_default=Now())
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("cleared by"),
    )
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("supply registration")
        verbose_name_plural = _("supply registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["episode"],
                condition=~Q(state="deactivated"),
                name="one_live_registration_per_episode",
            ),
            models.CheckConstraint(
                condition=~Q(state="cleared")
                | Q(cleared_at__isnull=False, cleared_by__isnull=False),
                name="region3_cleared_has_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return f"registration:{self.pk}"


class SupplyRegistrationTransition(TransitionRecord):
    """One recorded state change of a supply registration: who, when, from, to (house style 4):
    requested (REGION-3), cleared by customer service, deactivated after invoicing (REGION-4).
    Holds no detail of the person. Written only through ``patients.transitions`` with
    ``prescriptions.services.state.REGISTRATION_MACHINE``."""

    registration = models.ForeignKey(
        SupplyRegistration, on_delete=models.CASCADE, related_name="transitions"
    )

    class Meta(TransitionRecord.Meta):
        verbose_name = _("supply registration transition")
        verbose_name_plural = _("supply registration transitions")


class CountryGroup(models.TextChoices):
    EU_EEA_CH = "eu_eea_ch", _("EU/EEA or Switzerland")
    NORDIC = "nordic", _("Nordic country")
    OTHER = "other", _("other country")


class Certificate(models.TextChoices):
    EHIC = "ehic", _("European health insurance card")
    S1 = "s1", _("S1 certificate")
    NORDIC_ID = "nordic_id", _("proof of residence in a Nordic country")
    NONE = "none", _("no certificate")


class ResidenceAbroad(models.Model):
    """REGION-5: a patient resident abroad, for one care episode. What they may get and pay
    depends on the country group and certificate; Swedes abroad outside the EU/EEA are tied to
    the region where they were last registered."""

    episode = models.OneToOneField(
        CareEpisode,
        on_delete=models.CASCADE,
        related_name="residence_abroad",
        verbose_name=_("care episode"),
    )
    country = models.CharField(_("country (ISO code)"), max_length=2)
    country_group = models.CharField(
        _("country group"), max_length=16, choices=CountryGroup.choices
    )
    certificate = models.CharField(_("certificate"), max_length=16, choices=Certificate.choices)
    # REGION-5: an expired certificate counts as none (the patient pays the prescribing unit).
    certificate_valid_until = models.DateField(_("certificate valid until"), null=True, blank=True)
    swedish_citizen = models.BooleanField(_("Swede abroad"), default=False)
    last_registered_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last registered in"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), db_default=Now())

    class Meta:
        verbose_name = _("residence abroad")
        verbose_name_plural = _("residences abroad")

    def __str__(self) -> str:
        return f"abroad:{self.episode_id}"


class Payer(models.TextChoices):
    HOME_REGION = "home_region", _("home region (invoiced)")
    PATIENT_AT_UNIT = "patient_at_unit", _("patient, paying the prescribing unit")


class InvoiceMark(models.Model):
    """REGION-1/5: an approved prescription marked for the billing floor: the home region to
    invoice, or the patient's own payment to the prescriber's unit. Billing sets
    ``invoiced_at``; ``deactivate_after_invoicing`` carries REGION-4 to it."""

    prescription = models.OneToOneField(
        Prescription, on_delete=models.PROTECT, related_name="invoice_mark"
    )
    payer = models.CharField(_("payer"), max_length=16, choices=Payer.choices)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region to invoice"),
    )
    payee_unit = models.ForeignKey(
        PrescribingUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paid to unit"),
    )
    amount_sek = models.DecimalField(_("amount (SEK)"), max_digits=12, decimal_places=2)
    rule = models.CharField(_("rule"), max_length=16)
    deactivate_after_invoicing = models.BooleanField(_("deactivate after invoicing"))
    created_at = models.DateTimeField(_("marked"), db_default=Now())
    invoiced_at = models.DateTimeField(_("invoiced"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice mark")
        verbose_name_plural = _("invoice marks")
        indexes = [
            models.Index(
                fields=["region"], condition=Q(invoiced_at__isnull=True), name="invoice_open_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(payer="home_region", region__isnull=False)
                | Q(payer="patient_at_unit", payee_unit__isnull=False),
                name="region_invoice_mark_has_payer",
            )
        ]

    def __str__(self) -> str:
        return f"invoice-mark:{self.pk}"

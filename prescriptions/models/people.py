"""Who prescribes: prescribing units with their delivery address, prescribers and their training."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patients.models import Unit
from prescriptions.models.catalogue import CompetenceArea


class AgreementType(models.TextChoices):
    """Under which agreement the unit is served by the region's assistive-device centre; KPI-1
    reports delivery reliability per type, as the seed's tables do."""

    COOPERATION = "cooperation", _("cooperation agreement (samarbetsavtal)")
    UNDERSTANDING = "understanding", _("the understanding (överenskommelsen)")


class PrescribingUnit(models.Model):
    """A unit that prescribes, with the address its deliveries go to.

    The unit's own address is not personal data; for a protected patient it is the only address
    an order may carry (PRESC-2).
    """

    unit = models.OneToOneField(
        Unit,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="prescribing",
        verbose_name=_("unit"),
    )
    delivery_street = models.CharField(_("delivery street address"), max_length=200)
    delivery_postal_code = models.CharField(_("postal code"), max_length=6)
    delivery_town = models.CharField(_("town"), max_length=100)
    delivery_note = models.CharField(
        _("delivery instructions"), max_length=200, blank=True, default=""
    )
    phone = models.CharField(_("unit phone"), max_length=40, blank=True, default="")
    agreement_type = models.CharField(
        _("agreement type"),
        max_length=16,
        choices=AgreementType.choices,
        default=AgreementType.COOPERATION,
    )

    class Meta:
        verbose_name = _("prescribing unit")
        verbose_name_plural = _("prescribing units")

    def __str__(self) -> str:
        return str(self.unit)


class PickupPoint(models.Model):
    """A pickup point (utlämningsställe) where a patient collects a delivery instead of at home
    (LOG-4); never for a protected patient, whose deliveries go to the unit (PRESC-2)."""

    name = models.CharField(_("name"), max_length=200)
    street = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=6)
    town = models.CharField(_("town"), max_length=100)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True, default="")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["town", "name"]
        verbose_name = _("pickup point")
        verbose_name_plural = _("pickup points")

    def __str__(self) -> str:
        return f"{self.name}, {self.town}"


class Authorisation(models.TextChoices):
    """The ordering right a person applied for and was given (STAFF-1)."""

    UNIT_ORDERER = "unit_orderer", _("orderer for a unit")
    PERSONAL_HEALTH = "personal_health", _("personal devices in health care")
    PERSONAL_SOCIAL = "personal_social", _("personal devices in social services")


class PrescriberProfile(models.Model):
    """A person's ordering right: HSA-id on the staff profile, units here (PRESC-5)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="prescriber_profile",
        verbose_name=_("user"),
    )
    authorisation = models.CharField(
        _("ordering right"), max_length=32, choices=Authorisation.choices
    )
    units = models.ManyToManyField(
        PrescribingUnit, related_name="prescribers", verbose_name=_("units")
    )
    email = models.EmailField(_("work e-mail"), blank=True, default="")

    class Meta:
        verbose_name = _("prescriber")
        verbose_name_plural = _("prescribers")

    def __str__(self) -> str:
        return f"prescriber:{self.user_id}"

    @property
    def prescribes_personal_devices(self) -> bool:
        # PRESC-5: a unit orderer orders basic equipment for the unit, never personal devices.
        return self.authorisation != Authorisation.UNIT_ORDERER


class CompetenceRegistration(models.Model):
    """Registered training in a competence area, with its date (PRESC-5)."""

    prescriber = models.ForeignKey(
        PrescriberProfile,
        on_delete=models.CASCADE,
        related_name="competences",
        verbose_name=_("prescriber"),
    )
    competence_area = models.ForeignKey(
        CompetenceArea, on_delete=models.PROTECT, verbose_name=_("competence area")
    )
    trained_on = models.DateField(_("training completed"))
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )

    class Meta:
        verbose_name = _("competence registration")
        verbose_name_plural = _("competence registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["prescriber", "competence_area"], name="competence_once_per_area"
            )
        ]

    def __str__(self) -> str:
        # The admin's inline row: the area by its name (its code is a key, not a word).
        return str(self.competence_area)

"""Who prescribes: prescribing units with their delivery address, prescribers and their training."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patients.models import Unit, random_reference
from patients.transitions import TransitionRecord
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


class CompetenceLevel(models.TextChoices):
    """The level of competence the manager (or the person medically responsible) decided a
    prescriber has in a competence area (STAFF-3, seed 004: "Chef eller medicinskt
    ledningsansvarig beslutar vilken nivå förskrivarna i en verksamhet har behov av")."""

    NONE = "none", _("does not prescribe in this area")
    BASIC = "basic", _("basic level")
    REGIONAL = "regional", _("regional prescriber training")

    @classmethod
    def prescribing(cls) -> frozenset[str]:
        # The levels that let a prescriber prescribe in the area (PRESC-5).
        return frozenset({cls.BASIC, cls.REGIONAL})


class CompetenceRegistration(models.Model):
    """Registered training in a competence area, with its date (PRESC-5), and the level decided
    for it (STAFF-3): the current decision; every decision is kept as a CompetenceDecision."""

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
    level = models.CharField(_("competence level"), max_length=16, choices=CompetenceLevel.choices)

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


class CompetenceDecision(models.Model):
    """One decision of a prescriber's competence level in a competence area (STAFF-3): dated,
    with its decider. A newer decision supersedes the older ones, which stay as the history;
    the current level is copied to the prescriber's CompetenceRegistration, which PRESC-5 reads."""

    # PROTECT: the decisions are append-only for the application role (prescriptions 0023), so
    # a profile with decisions cannot be deleted; it is ended instead, and its history stays.
    prescriber = models.ForeignKey(
        PrescriberProfile,
        on_delete=models.PROTECT,
        related_name="competence_decisions",
        verbose_name=_("prescriber"),
    )
    competence_area = models.ForeignKey(
        CompetenceArea, on_delete=models.PROTECT, verbose_name=_("competence area")
    )
    level = models.CharField(_("competence level"), max_length=16, choices=CompetenceLevel.choices)
    decided_on = models.DateField(_("decided on"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["-decided_on", "-pk"]
        verbose_name = _("competence decision")
        verbose_name_plural = _("competence decisions")

    def __str__(self) -> str:
        return f"{self.competence_area}: {self.get_level_display()}"


class StaffApplicationState(models.TextChoices):
    """STAFF-1: applied, confirmed by the unit's manager, then decided by an administrator."""

    SUBMITTED = "submitted", _("waiting for the manager")
    CONFIRMED = "confirmed", _("waiting for the account administration")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")


def new_application_reference() -> str:
    return random_reference("B-", 8)


class StaffApplication(models.Model):
    """An application for ordering rights (webSesam's behörighetsansökan, seed 004): a person
    applies for themselves, or their manager applies on their behalf, for one unit and one type
    of right; the unit's manager confirms and the account administration (customer service)
    approves or refuses (STAFF-1)."""

    reference = models.CharField(
        _("case number"), max_length=16, unique=True, default=new_application_reference
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="staff_applications",
        verbose_name=_("applicant"),
    )
    # STAFF-1: who sent the application: the applicant, or their manager on their behalf.
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("applied by"),
    )
    unit = models.ForeignKey(
        PrescribingUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    authorisation = models.CharField(
        _("type of ordering right"), max_length=32, choices=Authorisation.choices
    )
    einvoice_access = models.BooleanField(_("access to e-invoices"), default=False)
    hsa_id = models.CharField(_("HSA-id"), max_length=64)
    title = models.CharField(_("job title"), max_length=100)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=StaffApplicationState.choices,
        default=StaffApplicationState.SUBMITTED,
    )
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True, default="")

    class Meta:
        ordering = ["submitted_at", "pk"]
        verbose_name = _("staff application")
        verbose_name_plural = _("staff applications")
        permissions = [
            ("confirm_staffapplication", _("Can confirm staff applications for the unit")),
            ("decide_staffapplication", _("Can approve or refuse staff applications")),
        ]
        constraints = [
            # One open application per person at a time: a second would race the first.
            models.UniqueConstraint(
                fields=["applicant"],
                condition=models.Q(state__in=["submitted", "confirmed"]),
                name="staff_application_one_open",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="refused") | ~models.Q(reason=""),
                name="staff_application_refusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def on_behalf(self) -> bool:
        return self.applied_by_id != self.applicant_id


class StaffApplicationTransition(TransitionRecord):
    """One move of a staff application: who, when, from, to (house style 4)."""

    application = models.ForeignKey(
        StaffApplication, on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField(
        _("from"), max_length=32, choices=StaffApplicationState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=32, choices=StaffApplicationState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("staff application transition")
        verbose_name_plural = _("staff application transitions")

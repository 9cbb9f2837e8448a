"""Prescriptions: the lines a prescriber orders for a patient, their states and why they went
the way they did."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from patients.fields import EncryptedJSONField
from patients.models import Patient, Region, random_reference
from patients.transitions import TransitionRecord
from prescriptions.models.catalogue import Article, Supply
from prescriptions.models.people import PickupPoint, PrescribingUnit


def new_prescription_reference() -> str:
    """An order number, eight random characters. LEAK-2 messages about protected patients carry
    this number and nothing else."""
    return random_reference("F-", 8)


class CareEpisode(models.Model):
    """A patient's care episode at a prescribing unit.

    REGION-1: the home region is read from the register when the episode starts and kept for the
    episode; a later move does not change who pays for it.
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="care_episodes", verbose_name=_("patient")
    )
    unit = models.ForeignKey(
        PrescribingUnit, on_delete=models.PROTECT, related_name="episodes", verbose_name=_("unit")
    )
    home_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("home region")
    )
    started_at = models.DateTimeField(_("started"), db_default=Now())
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("care episode")
        verbose_name_plural = _("care episodes")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "unit"],
                condition=Q(closed_at__isnull=True),
                name="one_open_episode_per_unit",
            )
        ]

    def __str__(self) -> str:
        return f"episode:{self.pk}"


class PrescriptionState(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    AWAITING_AGREEMENT = "awaiting_agreement", _("awaiting home-region agreement")
    AWAITING_REGISTRATION = "awaiting_registration", _("awaiting registration")
    APPROVED = "approved", _("approved")
    CANCELLED = "cancelled", _("cancelled")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")


class DeliveryKind(models.TextChoices):
    UNIT = "unit", _("the prescriber's unit")
    PATIENT_ADDRESS = "patient_address", _("the patient's registered address")
    SPECIAL_AGREEMENT = "special_agreement", _("special delivery agreement")
    # LOG-4: a pickup point instead of an address; never for a protected patient (PRESC-2).
    PICKUP_POINT = "pickup_point", _("a pickup point")


class Prescription(models.Model):
    reference = models.CharField(
        _("prescription number"), max_length=12, unique=True, default=new_prescription_reference
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="prescriptions", verbose_name=_("patient")
    )
    episode = models.ForeignKey(CareEpisode, on_delete=models.PROTECT, related_name="prescriptions")
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="prescriptions",
        verbose_name=_("prescriber"),
    )
    unit = models.ForeignKey(
        PrescribingUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    state = models.CharField(
        _("state"),
        max_length=32,
        choices=PrescriptionState.choices,
        default=PrescriptionState.DRAFT,
    )
    need = models.TextField(_("the need it meets"), blank=True, default="")
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    fitting_note = models.TextField(_("fitting note"), blank=True, default="")
    # PRESC-2: computed by the service, never typed. The snapshot of the patient's protection lets
    # the database itself refuse a protected patient's order that carries any other destination.
    patient_protected = models.BooleanField(_("protected patient"), default=False)
    delivery_kind = models.CharField(
        _("delivery to"), max_length=24, choices=DeliveryKind.choices, default=DeliveryKind.UNIT
    )
    delivery_unit = models.ForeignKey(
        PrescribingUnit,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("delivery unit"),
    )
    delivery_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("delivery contact"),
    )
    special_agreement = models.ForeignKey(
        "SpecialDeliveryAgreement",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("special delivery agreement"),
    )
    pickup_point = models.ForeignKey(
        PickupPoint,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("pickup point"),
    )
    # Customer service took the order by phone for the prescriber (PRESC-2 holds all the same).
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("entered by"),
    )
    phone_order = models.BooleanField(_("phone order"), default=False)
    # PRESC-4: fitting a protected patient records a journal note, never a liability form.
    fitted_at = models.DateTimeField(_("fitted"), null=True, blank=True)
    fitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("fitted by"),
    )
    liability_form_signed = models.BooleanField(_("liability form signed"), default=False)
    journal_note_confirmed = models.BooleanField(
        _("journal note that the information was given"), default=False
    )
    created_at = models.DateTimeField(_("created"), db_default=Now())
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("approved or cancelled"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("prescription")
        verbose_name_plural = _("prescriptions")
        permissions = [
            # PRESC-2: customer service enters orders a prescriber phones in.
            ("add_phone_order", _("Can enter a phone order for a prescriber")),
        ]
        indexes = [
            models.Index(fields=["prescriber", "state"], name="prescription_prescriber_idx"),
            models.Index(fields=["patient", "state"], name="prescription_patient_idx"),
        ]
        constraints = [
            # PRESC-2: a protected patient's order goes to the prescriber's unit with the
            # prescriber as contact, or follows a recorded special agreement; nothing else.
            models.CheckConstraint(
                condition=Q(patient_protected=False)
                | Q(
                    delivery_kind=DeliveryKind.UNIT,
                    delivery_unit=F("unit"),
                    delivery_contact=F("prescriber"),
                )
                | Q(delivery_kind=DeliveryKind.SPECIAL_AGREEMENT),
                name="presc2_protected_delivery_to_unit",
            ),
            # PRESC-4: no liability form for a protected patient.
            models.CheckConstraint(
                condition=Q(patient_protected=False) | Q(liability_form_signed=False),
                name="presc4_no_liability_form_when_protected",
            ),
            models.CheckConstraint(
                condition=~Q(delivery_kind=DeliveryKind.SPECIAL_AGREEMENT)
                | Q(special_agreement__isnull=False),
                name="presc2_special_delivery_has_agreement",
            ),
            # LOG-4: a pickup point delivery names the point, and only such a delivery does.
            models.CheckConstraint(
                condition=Q(delivery_kind=DeliveryKind.PICKUP_POINT, pickup_point__isnull=False)
                | (~Q(delivery_kind=DeliveryKind.PICKUP_POINT) & Q(pickup_point__isnull=True)),
                name="log4_pickup_point_named",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class PrescriptionLine(models.Model):
    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="lines", verbose_name=_("prescription")
    )
    position = models.PositiveSmallIntegerField(_("line"))
    article = models.ForeignKey(Article, on_delete=models.PROTECT, verbose_name=_("article"))
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    supply = models.CharField(_("rent or buy"), max_length=8, choices=Supply.choices)
    # An accessory line belongs to the line of its main article.
    main_line = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="accessory_lines",
        verbose_name=_("accessory to"),
    )
    unit_price_sek = models.DecimalField(_("unit price (SEK)"), max_digits=12, decimal_places=2)
    special_adaptation = models.BooleanField(_("specially adapted"), default=False)
    # PRESC-8: the article the prescriber asked for when a replacement was proposed.
    requested_article = models.ForeignKey(
        Article,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested article"),
    )

    class Meta:
        ordering = ["prescription", "position"]
        verbose_name = _("prescription line")
        verbose_name_plural = _("prescription lines")
        constraints = [
            models.UniqueConstraint(
                fields=["prescription", "position"], name="prescription_line_position_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.prescription_id}:{self.position}"


class PrescriptionTransition(TransitionRecord):
    """One recorded state change: who, when, from, to (house style 4). Written only through
    ``patients.transitions`` with ``prescriptions.services.state.PRESCRIPTION_MACHINE``."""

    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="transitions"
    )
    # With the state's choices, so that the page and the admin show each state's name.
    from_state = models.CharField(
        _("from"), max_length=32, choices=PrescriptionState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=32, choices=PrescriptionState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("prescription transition")
        verbose_name_plural = _("prescription transitions")


class EligibilityRecord(models.Model):
    """Why a prescription went the way it did: each criterion, its value and the rule behind it.

    ``criteria`` is a list of {"criterion", "value", "rule", "effect"}; written on submit and
    never changed (a new submit writes a new record).
    """

    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="eligibility_records"
    )
    evaluated_at = models.DateTimeField(_("evaluated"), db_default=Now())
    criteria = models.JSONField(_("criteria"))
    outcome = models.CharField(_("outcome"), max_length=32, choices=PrescriptionState.choices)
    total_cost_sek = models.DecimalField(
        _("total cost with accessories (SEK)"), max_digits=12, decimal_places=2
    )

    class Meta:
        ordering = ["-evaluated_at", "-pk"]
        verbose_name = _("eligibility record")
        verbose_name_plural = _("eligibility records")

    def __str__(self) -> str:
        return f"eligibility:{self.prescription_id}"


class SpecialDeliveryAgreement(models.Model):
    """LEAK-3: the one exception to PRESC-2, a recorded agreement between prescriber and a
    protected patient on where and how a delivery reaches them. Encrypted at rest and shown to
    grant holders only (selectors.region.special_delivery_agreement_get_for_user)."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("patient")
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("prescriber"),
    )
    # {"address", "phone", "door_code", "instructions"}: all of it locates the person.
    details = EncryptedJSONField(_("agreed delivery"))
    recorded_at = models.DateTimeField(_("recorded"), db_default=Now())
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("special delivery agreement")
        verbose_name_plural = _("special delivery agreements")

    def __str__(self) -> str:
        return f"special-delivery:{self.pk}"


class ReplacementOutcome(models.TextChoices):
    PENDING = "pending", _("waiting for the prescriber")
    AUTOMATIC = "automatic", _("substituted (fixed group)")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")


class ReplacementDecision(models.Model):
    """PRESC-8: a replacement proposed for a line, and what became of it (KPI-2)."""

    line = models.ForeignKey(
        PrescriptionLine, on_delete=models.CASCADE, related_name="replacement_decisions"
    )
    requested_article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested article")
    )
    proposed_article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed article")
    )
    reason = models.CharField(_("reason"), max_length=16)  # "out_of_stock" | "not_orderable"
    group_kind = models.CharField(_("group kind"), max_length=16)
    outcome = models.CharField(
        _("outcome"),
        max_length=16,
        choices=ReplacementOutcome.choices,
        default=ReplacementOutcome.PENDING,
    )
    proposed_at = models.DateTimeField(_("proposed"), db_default=Now())
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("decided by"),
    )

    class Meta:
        ordering = ["proposed_at", "pk"]
        verbose_name = _("replacement decision")
        verbose_name_plural = _("replacement decisions")
        constraints = [
            models.UniqueConstraint(
                fields=["line"],
                condition=Q(outcome="pending"),
                name="one_pending_replacement_per_line",
            )
        ]

    def __str__(self) -> str:
        return f"replacement:{self.pk}"


class OrderRelease(models.Model):
    """The event that tells the logistics floor an approved prescription is to be supplied
    (house style 1: this floor never imports logistics). Written in the approving transaction;
    the logistics floor claims it (``taken_at``, a conditional UPDATE) and makes the customer
    order; a release not yet taken is found again by its sweep."""

    prescription = models.OneToOneField(
        Prescription, on_delete=models.PROTECT, related_name="release"
    )
    released_at = models.DateTimeField(_("released"), db_default=Now())
    taken_at = models.DateTimeField(_("taken by logistics"), null=True, blank=True)

    class Meta:
        verbose_name = _("order release")
        verbose_name_plural = _("order releases")
        indexes = [
            models.Index(
                fields=["released_at"],
                condition=Q(taken_at__isnull=True),
                name="order_release_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"release:{self.prescription_id}"

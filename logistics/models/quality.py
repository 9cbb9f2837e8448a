"""Deviations (*avvikelser*, QUAL-1) and medical-device incidents (QUAL-2).

A deviation is reported by anyone; it may concern an order, a device and a patient. A reporter
who may not see a protected patient reports it without the person (*ej person*): the row then
has no patient, and a grant holder attaches it later. Quality staff handle it: reported, under
investigation, closed with a conclusion, each move a history row.

An incident keeps its device as evidence while it is open: the device's status may not move to
reissue, reconditioning or scrapping (the service refuses it, and a trigger in migration 0010
refuses it in the database too). Its report to the manufacturer and Läkemedelsverket names the
device and what happened, never a patient.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from logistics.models.devices import Device
from logistics.models.workorders import WorkOrder
from patients.models import Patient
from patients.transitions import TransitionRecord


class DeviationCategory(models.TextChoices):
    # The region's categories (issue 11, seed 002 §4.2 names no list of its own).
    LATE_DELIVERY = "late_delivery", _("late delivery")
    INCOMPLETE_DELIVERY = "incomplete_delivery", _("incomplete delivery")
    DAMAGED_DELIVERY = "damaged_delivery", _("damaged delivery")
    DIRTY_DELIVERY = "dirty_delivery", _("dirty delivery")
    MISSED_PICKUP = "missed_pickup", _("missed pickup")
    BUFFER_SHORTAGE = "buffer_shortage", _("buffer store shortage")
    PRODUCT_FAULT = "product_fault", _("product fault")
    OTHER = "other", _("other")


class DeviationState(models.TextChoices):
    REPORTED = "reported", _("reported, not yet handled")
    INVESTIGATING = "investigating", _("under investigation")
    CLOSED = "closed", _("closed")


class Deviation(models.Model):
    category = models.CharField(_("category"), max_length=24, choices=DeviationCategory.choices)
    description = models.TextField(_("what happened"))
    # What it concerns: an order number and a device's serial number as typed, the device and
    # the patient when known. No patient: "ej person" (QUAL-1), or it concerns no one.
    order_number = models.CharField(_("order number"), max_length=32, blank=True, default="")
    serial_number = models.CharField(_("serial number"), max_length=64, blank=True, default="")
    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("device"),
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    # The reporter named a patient they may not see: reported without the person, to be
    # attached by a grant holder (QUAL-1). Which patient is not recorded.
    without_person = models.BooleanField(_("reported without the person"), default=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reported_at = models.DateTimeField(_("reported at"), db_default=Now())
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=DeviationState.choices,
        default=DeviationState.REPORTED,
    )
    conclusion = models.TextField(_("conclusion of the handling"), blank=True, default="")

    class Meta:
        ordering = ["-reported_at", "-pk"]
        verbose_name = _("deviation")
        verbose_name_plural = _("deviations")
        permissions = [("handle_deviation", _("Can handle reported deviations"))]
        indexes = [models.Index(fields=["state", "reported_at"], name="deviation_state_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="closed") | ~Q(conclusion=""),
                name="qual1_closed_has_conclusion",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """The deviation's number, which people use instead of a patient's name (LEAK-5)."""
        return f"AVV-{self.pk:06d}" if self.pk else "AVV-"


class DeviationTransition(TransitionRecord):
    deviation = models.ForeignKey(Deviation, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(
        _("from"), max_length=32, choices=DeviationState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=32, choices=DeviationState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("deviation transition")
        verbose_name_plural = _("deviation transitions")


class IncidentState(models.TextChoices):
    OPEN = "open", _("open, the device is kept as evidence")
    CLOSED = "closed", _("closed")


class IncidentRecipient(models.TextChoices):
    MANUFACTURER = "manufacturer", _("the manufacturer")
    AGENCY = "agency", _("Läkemedelsverket")


class Incident(models.Model):
    """A medical-device incident (*tillbud* or *negativ händelse*, QUAL-2)."""

    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("device")
    )
    # The work order it was raised from, when raised from one (a work order of this device).
    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("raised from work order"),
    )
    occurred_on = models.DateField(_("date of the event"))
    description = models.TextField(_("what happened"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("raised by"),
    )
    raised_at = models.DateTimeField(_("raised"), db_default=Now())
    state = models.CharField(
        _("state"), max_length=8, choices=IncidentState.choices, default=IncidentState.OPEN
    )
    conclusion = models.TextField(_("conclusion of the handling"), blank=True, default="")
    sent_to_manufacturer_at = models.DateTimeField(
        _("report sent to the manufacturer"), null=True, blank=True
    )
    sent_to_agency_at = models.DateTimeField(
        _("report sent to Läkemedelsverket"), null=True, blank=True
    )

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("medical-device incident")
        verbose_name_plural = _("medical-device incidents")
        indexes = [
            models.Index(fields=["device"], condition=Q(state="open"), name="incident_open_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="closed") | ~Q(conclusion=""),
                name="qual2_closed_has_conclusion",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"INC-{self.pk:06d}" if self.pk else "INC-"


class IncidentTransition(TransitionRecord):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(
        _("from"), max_length=32, choices=IncidentState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=32, choices=IncidentState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("incident transition")
        verbose_name_plural = _("incident transitions")

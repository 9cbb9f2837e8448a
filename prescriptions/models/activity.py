"""Consultation activities (PRESC-7): a booking request that closes by itself when no time is
booked within three days."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from patients.fields import EncryptedTextField
from patients.models import Patient
from prescriptions.models.people import PrescribingUnit


class ActivityState(models.TextChoices):
    OPEN = "open", _("waiting for a booked time")
    BOOKED = "booked", _("booked")
    CLOSED = "closed", _("closed")


class ConsultationActivity(models.Model):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("patient")
    )
    unit = models.ForeignKey(
        PrescribingUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("prescriber"),
    )
    created_at = models.DateTimeField(_("created"), db_default=Now())
    booked_for = models.DateTimeField(_("booked time"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=ActivityState.choices, default=ActivityState.OPEN
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Null when the scheduled task closed it (PRESC-7).
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("closed by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("consultation activity")
        verbose_name_plural = _("consultation activities")
        indexes = [
            models.Index(fields=["created_at"], condition=Q(state="open"), name="activity_open_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="booked") | Q(booked_for__isnull=False),
                name="presc7_booked_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | Q(closed_at__isnull=False),
                name="presc7_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"activity:{self.pk}"


class BookingState(models.TextChoices):
    BOOKED = "booked", _("booked")
    CANCELLED = "cancelled", _("cancelled")


class ConsultationBooking(models.Model):
    """One booked time of an activity (PRESC-7). Rebooking cancels the booking in force and
    books anew, so the activity's bookings are its history."""

    activity = models.ForeignKey(
        ConsultationActivity,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("consultation activity"),
    )
    booked_for = models.DateTimeField(_("booked time"))
    place = models.CharField(_("place"), max_length=200)
    service = models.CharField(_("service it concerns"), max_length=200)
    work_order_number = models.CharField(_("work order number of the booking"), max_length=32)
    # Where the prescriber can be reached; a phone number is kept encrypted (LEAK-3).
    phone = EncryptedTextField(_("phone number where the prescriber can be reached"))
    consultant = models.CharField(_("consultant"), max_length=200, blank=True, default="")
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("booked by"),
    )
    booked_at = models.DateTimeField(_("booked"), db_default=Now())
    state = models.CharField(
        _("state"), max_length=9, choices=BookingState.choices, default=BookingState.BOOKED
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        ordering = ["booked_at", "pk"]
        verbose_name = _("consultation booking")
        verbose_name_plural = _("consultation bookings")
        constraints = [
            # One booking in force per activity: rebooking cancels it first.
            models.UniqueConstraint(
                fields=["activity"],
                condition=Q(state="booked"),
                name="presc7_one_booking_in_force",
            ),
        ]

    def __str__(self) -> str:
        return f"booking:{self.pk}"

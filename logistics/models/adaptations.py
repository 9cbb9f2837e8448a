"""PRESC-6 as the routine describes it (seed 004, digital signing): the technician makes the
special adaptation on a work order, attaches the adaptation document and sends the prescriber a
signing request; the prescriber makes the functional risk assessment and signs in the product,
or declines with a reason; signing on paper stays possible and is recorded.

The device waits meanwhile: ``Device.adaptation_unsigned_since`` is set when a device is
adapted for a patient, and a CHECK constraint keeps such a device out of every status where it
travels to or is used by someone (out for delivery, at the unit, lent, in use). Only an
adaptation record of the device written since then lets the mark be cleared (migration 0012's
trigger), and the record itself is history: append-only for the application's role.

The documents are stored in the database, encrypted (they describe the person's body and
needs). They are never named after the person (LEAK-1): their names come from the work order
number.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from logistics.models.devices import Device
from patients.fields import EncryptedTextField
from patients.transitions import TransitionRecord

# A signed adaptation document: a few pages, scanned or saved as PDF.
ADAPTATION_DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
DOCUMENT_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


class SigningState(models.TextChoices):
    SENT = "sent", _("awaiting signature")
    DECLINED = "declined", _("declined")
    SIGNED = "signed", _("signed")
    SIGNED_ON_PAPER = "signed_on_paper", _("signed on paper")


class AdaptationRisk(models.TextChoices):
    """The risks the prescriber considers in the functional risk assessment."""

    STABILITY = "stability", _("stability and tipping")
    PRESSURE = "pressure", _("pressure, skin and posture")
    PINCHING = "pinching", _("pinching and entrapment")
    STRENGTH = "strength", _("strength and durability of the adaptation")
    COMBINATION = "combination", _("use together with other devices")
    ENVIRONMENT = "environment", _("the environment where it is used")


class RiskConclusion(models.TextChoices):
    SAFE = "safe", _("The adapted device can be used safely.")
    SAFE_WITH_MEASURES = (
        "safe_with_measures",
        _("The adapted device can be used safely with the measures described."),
    )


class SigningMethod(models.TextChoices):
    DIGITAL = "digital", _("signed in the product")
    PAPER = "paper", _("signed on paper")


class AdaptationDocumentFields(models.Model):
    """A stored document: its kind read from its content, its size, and the file itself in
    base64, encrypted at rest."""

    document_content_type = models.CharField(max_length=100)
    document_size = models.PositiveIntegerField(_("size (bytes)"))
    document = EncryptedTextField(_("document content"))

    # The subclasses' work order, named here so that the document's name can use it.
    work_order_id: int

    class Meta:
        abstract = True

    @property
    def document_name(self) -> str:
        """Named after the work order, never the upload (LEAK-1)."""
        extension = DOCUMENT_EXTENSIONS.get(self.document_content_type, "pdf")
        return f"specialanpassning-{self.work_order_id}.{extension}"


class AdaptationSigningRequest(AdaptationDocumentFields):
    """A signing request (*signeringsuppdrag*) for one special-adaptation work order, sent to
    its prescriber, valid until a date, reminded about until signed or declined."""

    work_order = models.ForeignKey(
        "logistics.WorkOrder",
        on_delete=models.PROTECT,
        related_name="signing_requests",
        verbose_name=_("work order"),
    )
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="signing_requests", verbose_name=_("device")
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("prescriber"),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=SigningState.choices, default=SigningState.SENT
    )
    valid_until = models.DateField(_("valid until"))
    # The reason the prescriber gave, back to the technician; may describe the person.
    declined_reason = EncryptedTextField(_("reason for declining"), blank=True, default="")
    # The reminder task claims a request by moving this forward (conditional UPDATE).
    reminded_at = models.DateTimeField(_("last reminder"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sent by"),
    )
    sent_at = models.DateTimeField(_("sent"), db_default=Now())
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name = _("signing request")
        verbose_name_plural = _("signing requests")
        indexes = [
            models.Index(fields=["prescriber", "state"], name="signing_prescriber_idx"),
            models.Index(fields=["work_order", "state"], name="signing_work_order_idx"),
        ]
        constraints = [
            # One open request per work order: a new one is sent after a decline.
            models.UniqueConstraint(
                fields=["work_order"],
                condition=Q(state="sent"),
                name="signing_one_open_per_work_order",
            ),
        ]

    def __str__(self) -> str:
        return f"signing:{self.pk}"


class AdaptationSigningTransition(TransitionRecord):
    """The signing request's history (house style 4)."""

    request = models.ForeignKey(
        AdaptationSigningRequest, on_delete=models.PROTECT, related_name="transitions"
    )
    from_state = models.CharField(
        _("from"), max_length=32, choices=SigningState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=32, choices=SigningState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("signing request transition")
        verbose_name_plural = _("signing request transitions")


class AdaptationRecord(AdaptationDocumentFields):
    """The signed adaptation filed with the device: the document as signed and the functional
    risk assessment, or, signed on paper, the scan with the day and the signer. History: never
    changed or removed (a trigger, as delivery attempts have; the key rotation passes it)."""

    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        related_name="adaptation_records",
        verbose_name=_("device"),
    )
    work_order = models.ForeignKey(
        "logistics.WorkOrder",
        on_delete=models.PROTECT,
        related_name="adaptation_records",
        verbose_name=_("work order"),
    )
    request = models.OneToOneField(
        AdaptationSigningRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="record",
        verbose_name=_("signing request"),
    )
    method = models.CharField(_("signed"), max_length=8, choices=SigningMethod.choices)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed by"),
    )
    signed_on = models.DateField(_("signed on"))
    # The functional risk assessment: the risks considered (keys of AdaptationRisk), the
    # conclusion, and the measures (encrypted: they may describe the person's body and home).
    risks_considered = ArrayField(
        models.CharField(max_length=16, choices=AdaptationRisk.choices),
        verbose_name=_("risks considered"),
        default=list,
        blank=True,
    )
    conclusion = models.CharField(
        _("conclusion"), max_length=24, choices=RiskConclusion.choices, blank=True, default=""
    )
    measures = EncryptedTextField(_("measures"), blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), db_default=Now())

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = _("signed adaptation")
        verbose_name_plural = _("signed adaptations")
        triggers = [
            pgtrigger.Protect(
                name="adaptation_record_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]
        constraints = [
            # Signed in the product: with the prescriber's risk assessment.
            models.CheckConstraint(
                condition=Q(method="paper") | ~Q(conclusion=""),
                name="adaptation_record_digital_has_assessment",
            )
        ]

    def __str__(self) -> str:
        return f"adaptation:{self.pk}"

"""Safety notices and recalls (DEVICE-2, DEVICE-5): a manufacturer's safety notice
(*säkerhetsmeddelande*) on articles, optionally limited to serial ranges, with the action it asks
for, and its campaign: one outreach row per device the register held under it when it was
published, with where the device was, whom to reach (for a patient's device the prescriber of
the order it went out on, LEAK-5: named by order number only) and how far the outreach has come.

The notice's state moves through ``NOTICE_MACHINE`` (``logistics.services.recalls``) with
history; an outreach row's steps are dated (contacted, done), so the campaign page counts the
reach per week from the dates, set-based.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from logistics.models.devices import Device, HolderKind
from logistics.models.stock import StockLocation
from logistics.models.workorders import WorkOrder
from patients.models import Patient, Unit
from patients.transitions import TransitionRecord
from prescriptions.models import Article


class NoticeAction(models.TextChoices):
    INSPECT = "inspect", _("inspect")
    RETROFIT = "retrofit", _("retrofit")
    REPLACE = "replace", _("replace")
    WITHDRAW = "withdraw", _("withdraw")


class NoticeState(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published, campaign running")
    CLOSED = "closed", _("closed")


class SafetyNotice(models.Model):
    number = models.CharField(_("notice number"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    manufacturer_reference = models.CharField(
        _("manufacturer's reference"), max_length=100, blank=True, default=""
    )
    description = models.TextField(_("what the notice says"))
    action = models.CharField(_("action"), max_length=16, choices=NoticeAction.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=NoticeState.choices, default=NoticeState.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), db_default=Now())
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The campaign's reach, kept as it moves so that its page reads one row, not 20 000: what
    # publishing found (set once), and how many were contacted and done (the database's
    # trigger on the outreach rows counts them, with the week in ``NoticeWeek``).
    found = models.PositiveIntegerField(_("devices found"), default=0)
    patients = models.PositiveIntegerField(_("held by patients"), default=0)
    protected_holders = models.PositiveIntegerField(_("protected holders"), default=0)
    units = models.PositiveIntegerField(_("held by units"), default=0)
    stores = models.PositiveIntegerField(_("in stores"), default=0)
    contacted = models.PositiveIntegerField(_("contacted"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("safety notice")
        verbose_name_plural = _("safety notices")
        permissions = [
            ("manage_safetynotice", _("Can publish safety notices and follow their campaigns")),
        ]
        indexes = [models.Index(fields=["state", "published_at"], name="notice_state_idx")]

    def __str__(self) -> str:
        return self.number


class SafetyNoticeArticle(models.Model):
    """An article the notice names; with a serial range, only the devices whose serial number
    lies in it, and with a lot range only those whose lot number lies in it (byte order, both
    ends included; a device without a lot number is outside any lot range)."""

    notice = models.ForeignKey(SafetyNotice, on_delete=models.CASCADE, related_name="articles")
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="+", verbose_name=_("article")
    )
    serial_from = models.CharField(_("serial numbers from"), max_length=64, blank=True, default="")
    serial_to = models.CharField(_("serial numbers to"), max_length=64, blank=True, default="")
    lot_from = models.CharField(_("lot numbers from"), max_length=64, blank=True, default="")
    lot_to = models.CharField(_("lot numbers to"), max_length=64, blank=True, default="")

    class Meta:
        ordering = ["pk"]
        verbose_name = _("article in a safety notice")
        verbose_name_plural = _("articles in safety notices")
        constraints = [
            models.CheckConstraint(
                condition=Q(serial_from="", serial_to="") | (~Q(serial_from="") & ~Q(serial_to="")),
                name="notice_serial_range_both_ends",
            ),
            models.CheckConstraint(
                condition=Q(lot_from="", lot_to="") | (~Q(lot_from="") & ~Q(lot_to="")),
                name="notice_lot_range_both_ends",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.article_id}"


class OutreachState(models.TextChoices):
    FOUND = "found", _("found")
    CONTACTED = "contacted", _("contacted")
    DONE = "done", _("done")


class NoticeDevice(models.Model):
    """One device under a published notice: where it was when the notice was published, whom
    the outreach goes to, and how far it has come. A patient is reached through the prescriber
    of the order the device went out on (``order_number``, ``prescriber``, ``contact_unit``);
    a protected patient always so (DEVICE-2, LEAK-5), by the region's own technicians (LOG-3).
    A device in a store under an open notice is ``blocked``: it is not delivered."""

    notice = models.ForeignKey(SafetyNotice, on_delete=models.PROTECT, related_name="devices")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="+")
    holder_kind = models.CharField(_("held by"), max_length=8, choices=HolderKind.choices)
    holder_patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    holder_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order_number = models.CharField(_("order number"), max_length=32, blank=True, default="")
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("prescriber"),
    )
    contact_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The gate's guard set was not empty when published: outreach through the prescriber only.
    protected = models.BooleanField(_("protected identity"), default=False)
    blocked = models.BooleanField(_("blocked from delivery"), default=False)
    state = models.CharField(
        _("state"), max_length=16, choices=OutreachState.choices, default=OutreachState.FOUND
    )
    # The technicians' work on a device a patient or a unit holds (LOG-3: the region's own).
    work_order = models.OneToOneField(
        WorkOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notice_device",
        verbose_name=_("work order"),
    )
    found_at = models.DateTimeField(_("found"), db_default=Now())
    contacted_at = models.DateTimeField(_("contacted"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        ordering = ["notice", "pk"]
        verbose_name = _("device under a safety notice")
        verbose_name_plural = _("devices under safety notices")
        constraints = [
            models.UniqueConstraint(fields=["notice", "device"], name="notice_device_once"),
        ]
        indexes = [
            models.Index(fields=["notice", "state"], name="notice_device_state_idx"),
            models.Index(
                fields=["prescriber", "notice"],
                condition=Q(prescriber__isnull=False),
                name="notice_device_prescriber_idx",
            ),
            models.Index(
                fields=["device"], condition=Q(blocked=True), name="notice_device_blocked_idx"
            ),
            models.Index(fields=["notice"], condition=Q(blocked=True), name="notice_blocked_idx"),
            # The patient page's devices read the notices naming each device (issue 11).
            models.Index(fields=["device", "notice"], name="notice_device_device_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.device_id}"


class NoticeWeek(models.Model):
    """How many of a notice's devices were contacted and done in a week (its Monday), counted
    by the database's trigger as the outreach rows move."""

    notice = models.ForeignKey(SafetyNotice, on_delete=models.CASCADE, related_name="weeks")
    week = models.DateField(_("week starting"))
    contacted = models.PositiveIntegerField(_("contacted"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)

    class Meta:
        ordering = ["notice", "week"]
        verbose_name = _("week of a safety notice's campaign")
        verbose_name_plural = _("weeks of safety notice campaigns")
        constraints = [models.UniqueConstraint(fields=["notice", "week"], name="notice_week_once")]

    def __str__(self) -> str:
        return f"{self.notice_id}:{self.week}"


class SafetyNoticeTransition(TransitionRecord):
    notice = models.ForeignKey(SafetyNotice, on_delete=models.PROTECT, related_name="history")

    class Meta(TransitionRecord.Meta):
        verbose_name = _("safety notice history")
        verbose_name_plural = _("safety notice history")

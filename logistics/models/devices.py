"""The register of individual devices (DEVICE-1): each serial-numbered device the region owns,
who holds it, where it is, and its history (the device card, *individkort*)."""

from __future__ import annotations

import pgtrigger
from django.db import models
from django.db.models import Q
from django.db.models.functions import Collate, Now
from django.utils.translation import gettext_lazy as _

from logistics.models.stock import StockLocation
from patients.models import Patient, Region, Unit
from patients.transitions import TransitionRecord
from prescriptions.models import Article


class DeviceStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("in stock")
    ALLOCATED = "allocated", _("picked for an order")
    IN_TRANSIT = "in_transit", _("out for delivery")
    AT_UNIT = "at_unit", _("at the unit, to be handed over")
    ON_LOAN = "on_loan", _("lent to the patient")
    IN_USE_AT_UNIT = "in_use_at_unit", _("in use at the unit")
    IN_WORKSHOP = "in_workshop", _("in the workshop")
    LOST = "lost", _("reported lost")
    SCRAPPED = "scrapped", _("scrapped")


# pgtrigger's UpdateOf is untyped.
UNSIGNED_MARK_CHANGED = pgtrigger.UpdateOf("adaptation_unsigned_since")  # type: ignore[no-untyped-call]

# PRESC-6: where a device goes to, or is used by, the patient; an unsigned adaptation stays out.
ADAPTATION_BLOCKED_STATUSES = (
    DeviceStatus.IN_TRANSIT,
    DeviceStatus.AT_UNIT,
    DeviceStatus.ON_LOAN,
    DeviceStatus.IN_USE_AT_UNIT,
)


class HolderKind(models.TextChoices):
    STORE = "store", _("a store")
    PATIENT = "patient", _("a patient")
    UNIT = "unit", _("a unit")


class Device(models.Model):
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="+", verbose_name=_("article")
    )
    serial_number = models.CharField(_("serial number"), max_length=64)
    gtin = models.CharField(_("GTIN"), max_length=14, blank=True, default="")
    # The supplier's lot (batch) where it gives one, so a safety notice can name a lot range
    # (DEVICE-2). The database default keeps raw bulk inserts that do not name it working.
    lot_number = models.CharField(
        _("lot number"), max_length=64, blank=True, default="", db_default=""
    )
    owner_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner region")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.IN_STOCK
    )
    holder_kind = models.CharField(
        _("held by"), max_length=8, choices=HolderKind.choices, default=HolderKind.STORE
    )
    holder_patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    holder_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit"),
    )
    # Where it physically is when in a store; empty while out.
    location = models.ForeignKey(
        StockLocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name=_("store"),
    )
    times_reissued = models.PositiveIntegerField(_("times reissued"), default=0)
    # DEVICE-3: reconditioned after a return; the next hand-over to a patient or unit counts
    # as a reissue (``times_reissued``) and clears it.
    awaiting_reissue = models.BooleanField(_("reconditioned, awaiting reissue"), default=False)
    received_on = models.DateField(_("received"))
    lifespan_until = models.DateField(_("end of lifespan"), null=True, blank=True)
    warranty_until = models.DateField(_("warranty ends"), null=True, blank=True)
    next_service_on = models.DateField(_("next service"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered"), db_default=Now())
    # PRESC-6: set when the device is adapted for a patient; until the prescriber's signed
    # adaptation is recorded it neither travels nor is used (the CHECK below, and migration
    # 0012's trigger lets it be cleared only by a record written since).
    adaptation_unsigned_since = models.DateTimeField(
        _("adaptation awaiting signature since"), null=True, blank=True
    )

    class Meta:
        ordering = ["article", "serial_number"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "serial_number"], name="device_serial_per_article"
            ),
            models.CheckConstraint(
                condition=Q(
                    holder_kind=HolderKind.STORE,
                    holder_patient__isnull=True,
                    holder_unit__isnull=True,
                )
                | Q(holder_kind=HolderKind.PATIENT, holder_patient__isnull=False)
                | Q(
                    holder_kind=HolderKind.UNIT,
                    holder_patient__isnull=True,
                    holder_unit__isnull=False,
                ),
                name="device_holder_named",
            ),
            models.CheckConstraint(
                condition=~Q(status=DeviceStatus.IN_STOCK)
                | Q(holder_kind=HolderKind.STORE, location__isnull=False),
                name="device_in_stock_in_a_store",
            ),
            models.CheckConstraint(
                condition=Q(adaptation_unsigned_since__isnull=True)
                | ~Q(status__in=ADAPTATION_BLOCKED_STATUSES),
                name="device_adaptation_signed_before_use",
            ),
        ]
        triggers = [
            # PRESC-6: the mark of an unsigned adaptation is cleared only by a signed adaptation
            # of the device recorded since it was set (not by the application's role at will).
            pgtrigger.Trigger(
                name="device_adaptation_cleared_by_record",
                when=pgtrigger.Before,
                operation=UNSIGNED_MARK_CHANGED,
                condition=pgtrigger.Q(
                    old__adaptation_unsigned_since__isnull=False,
                    new__adaptation_unsigned_since__isnull=True,
                ),
                func=(
                    "IF NOT EXISTS (SELECT 1 FROM logistics_adaptationrecord r "
                    "WHERE r.device_id = NEW.id "
                    "AND r.recorded_at >= OLD.adaptation_unsigned_since) THEN "
                    "RAISE EXCEPTION 'PRESC-6: device % has no signed adaptation', NEW.id "
                    "USING ERRCODE = 'check_violation'; END IF; RETURN NEW;"
                ),
            )
        ]
        indexes = [
            models.Index(fields=["holder_patient", "status"], name="device_patient_idx"),
            models.Index(fields=["serial_number"], name="device_serial_idx"),
            # The register's search by serial number, exact or by its beginning, in byte order
            # whatever the database's collation (logistics.selectors.devices).
            models.Index(Collate("serial_number", "C"), name="device_serial_c_idx"),
            models.Index(fields=["article", "status"], name="device_article_status_idx"),
            # The technicians' service falling due: a region's devices by next service date,
            # only those that have one, so the queue never reads the whole register.
            models.Index(
                fields=["owner_region", "next_service_on"],
                condition=Q(next_service_on__isnull=False),
                name="device_service_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.serial_number}"


class DeviceEvent(TransitionRecord):
    """The device card's history: each change of status, and each change of holder or place
    (from and to the same status, with a note). Notes name order numbers, never a person."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(
        _("from"), max_length=32, choices=DeviceStatus.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=32, choices=DeviceStatus.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("device event")
        verbose_name_plural = _("device events")

"""Picking, packing and delivery: delivery areas with their fixed days (the route of a day is
an area's stops that day), pick waves per store and delivery day with the order lines on them,
packages (kolli) per order, and each delivery attempt (confirmed with who received it, or
failed with a reason and a new attempt on the area's next day).

Nothing here holds identity: orders are referred to by number, patients by internal id through
the order, and the destination is read when a page or a paper is made. Who received a delivery
is a name typed by the driver: encrypted at rest (patients.fields)."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from logistics.models.orders import CustomerOrder, CustomerOrderLine
from logistics.models.stock import StockLocation
from patients.fields import EncryptedTextField
from patients.models import random_reference
from patients.transitions import TransitionRecord


def new_wave_number() -> str:
    return random_reference("V-", 8)


def new_package_number() -> str:
    return random_reference("K-", 8)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")


class DeliveryArea(models.Model):
    """Postal codes from ``postal_from`` to ``postal_to`` (five digits, both included), served
    on fixed weekdays (0 = Monday) when they are working days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    postal_from = models.CharField(_("postal codes from"), max_length=5)
    postal_to = models.CharField(_("postal codes to"), max_length=5)
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(choices=Weekday.choices),
        verbose_name=_("delivery days"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["postal_from", "name"]
        verbose_name = _("delivery area")
        verbose_name_plural = _("delivery areas")
        constraints = [
            models.CheckConstraint(
                condition=Q(postal_from__regex=r"^[0-9]{5}$")
                & Q(postal_to__regex=r"^[0-9]{5}$")
                & Q(postal_from__lte=models.F("postal_to")),
                name="delivery_area_postal_range",
            ),
            models.CheckConstraint(condition=Q(weekdays__len__gt=0), name="delivery_area_has_days"),
        ]

    def __str__(self) -> str:
        return self.name


class WaveState(models.TextChoices):
    OPEN = "open", _("to pick")
    PICKED = "picked", _("picked")


class PickWave(models.Model):
    number = models.CharField(_("wave number"), max_length=12, unique=True, default=new_wave_number)
    store = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    delivery_on = models.DateField(_("delivery day"))
    area = models.ForeignKey(
        DeliveryArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("route")
    )
    state = models.CharField(
        _("state"), max_length=8, choices=WaveState.choices, default=WaveState.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), db_default=Now())

    class Meta:
        ordering = ["delivery_on", "store", "area", "pk"]
        verbose_name = _("pick wave")
        verbose_name_plural = _("pick waves")
        indexes = [models.Index(fields=["state", "delivery_on"], name="wave_state_day_idx")]

    def __str__(self) -> str:
        return self.number


class PickWaveTransition(TransitionRecord):
    wave = models.ForeignKey(PickWave, on_delete=models.PROTECT, related_name="transitions")

    class Meta(TransitionRecord.Meta):
        verbose_name = _("pick wave transition")
        verbose_name_plural = _("pick wave transitions")


class PickItemState(models.TextChoices):
    TO_PICK = "to_pick", _("to pick")
    PICKED = "picked", _("picked")
    SHORT = "short", _("picked short")


class PickItem(models.Model):
    """An order line on a wave. A line picked short waits for stock and may come on a later
    wave: one open item per line at a time."""

    wave = models.ForeignKey(
        PickWave, on_delete=models.PROTECT, related_name="items", verbose_name=_("wave")
    )
    line = models.ForeignKey(
        CustomerOrderLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("line")
    )
    state = models.CharField(
        _("state"), max_length=8, choices=PickItemState.choices, default=PickItemState.TO_PICK
    )
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("picked by"),
    )
    picked_at = models.DateTimeField(_("picked"), null=True, blank=True)

    class Meta:
        ordering = ["wave", "pk"]
        verbose_name = _("pick item")
        verbose_name_plural = _("pick items")
        constraints = [
            models.UniqueConstraint(
                fields=["line"],
                condition=Q(state="to_pick"),
                name="pick_item_one_open_per_line",
            )
        ]

    def __str__(self) -> str:
        return f"{self.wave_id}:{self.line_id}"


class PackageState(models.TextChoices):
    PACKED = "packed", _("packed")
    DISPATCHED = "dispatched", _("out for delivery")
    FAILED = "failed", _("delivery failed")
    DELIVERED = "delivered", _("delivered")


class Package(models.Model):
    """A package (kolli) of one order, with its packed lines; it travels on the route of its
    area on ``delivery_on`` (moved to the next route day after a failed attempt)."""

    number = models.CharField(
        _("package number"), max_length=12, unique=True, default=new_package_number
    )
    order = models.ForeignKey(
        CustomerOrder, on_delete=models.PROTECT, related_name="+", verbose_name=_("order")
    )
    area = models.ForeignKey(
        DeliveryArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("route")
    )
    delivery_on = models.DateField(_("delivery day"))
    state = models.CharField(
        _("state"), max_length=12, choices=PackageState.choices, default=PackageState.PACKED
    )
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("packed by"),
    )
    packed_at = models.DateTimeField(_("packed"), db_default=Now())

    class Meta:
        ordering = ["delivery_on", "area", "pk"]
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        indexes = [models.Index(fields=["state", "delivery_on"], name="package_state_day_idx")]

    def __str__(self) -> str:
        return self.number


class PackageLine(models.Model):
    package = models.ForeignKey(
        Package, on_delete=models.PROTECT, related_name="lines", verbose_name=_("package")
    )
    line = models.OneToOneField(
        CustomerOrderLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("line")
    )

    class Meta:
        ordering = ["package", "line"]
        verbose_name = _("packed line")
        verbose_name_plural = _("packed lines")

    def __str__(self) -> str:
        return f"{self.package_id}:{self.line_id}"


class PackageTransition(TransitionRecord):
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="transitions")

    class Meta(TransitionRecord.Meta):
        verbose_name = _("package transition")
        verbose_name_plural = _("package transitions")


class FailureReason(models.TextChoices):
    NOBODY_HOME = "nobody_home", _("nobody there to receive it")
    REFUSED = "refused", _("refused by the receiver")
    NO_ACCESS = "no_access", _("no access to the address")
    DAMAGED = "damaged", _("damaged in transport")
    OTHER = "other", _("other reason")


class DeliveryAttempt(models.Model):
    """One attempt to deliver a package (never changed by the services): delivered, with who
    received it, or failed, with a reason and the day of the next attempt."""

    package = models.ForeignKey(
        Package, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("package")
    )
    route_day = models.DateField(_("route day"))
    delivered = models.BooleanField(_("delivered"))
    # A name typed by the driver (checked for the patient's identity): encrypted at rest.
    received_by = EncryptedTextField(_("received by"), blank=True, default="")
    reason = models.CharField(
        _("reason"), max_length=16, choices=FailureReason.choices, blank=True, default=""
    )
    note = models.CharField(_("note"), max_length=300, blank=True, default="")
    next_attempt_on = models.DateField(_("next attempt"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    at = models.DateTimeField(_("recorded"), db_default=Now())

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        # History: an attempt, once recorded, stays as it was. A trigger rather than revoked
        # privileges, so that the key rotation (LEAK-3) can still re-encrypt "received by"
        # under the new key (it lets the model's own triggers through for that UPDATE only).
        triggers = [
            pgtrigger.Protect(
                name="delivery_attempt_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(delivered=True, reason="")
                | Q(delivered=False, next_attempt_on__isnull=False) & ~Q(reason=""),
                name="delivery_attempt_outcome",
            )
        ]

    def __str__(self) -> str:
        return f"{self.package_id}:{'delivered' if self.delivered else 'failed'}"

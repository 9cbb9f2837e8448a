"""Pickups (*hämtorder*, PRESC-9), the loss process (DEVICE-4, BILL-4) and reconditioning
(DEVICE-3): the rest of a lent device's life after the patient is done with it.

A pickup order names a patient's devices (one line each). It is planned for the route's next
day and due within 7 working days; the rent of each line stops 3 working days after the order is
registered (``rent_stops_on``, which billing reads). A device missing at pickup has its line
cancelled, the rent restarts (``rent_restarted_on``) and a loss case is opened for it.

Nothing here holds identity: the order refers to the patient by internal id, and a protected
patient's pickup is made at the prescriber's unit (``unit``) with the prescriber as the contact,
never at an address (LOG-4, LEAK-5). The ordinary patient's address is read when a page needs
it, never copied here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from logistics.models.delivery import DeliveryArea
from logistics.models.devices import Device
from patients.models import Patient, random_reference
from patients.transitions import TransitionRecord
from prescriptions.models import Article, PrescribingUnit, ProductArea


def new_pickup_number() -> str:
    return random_reference("H-", 8)


def new_loss_number() -> str:
    return random_reference("F-", 8)


class PickupChannel(models.TextChoices):
    PRESCRIBER = "prescriber", _("the prescriber")
    CUSTOMER_SERVICE = "customer_service", _("customer service, for a call")


class PickupState(models.TextChoices):
    PLANNED = "planned", _("to collect")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class PickupLineState(models.TextChoices):
    TO_COLLECT = "to_collect", _("to collect")
    COLLECTED = "collected", _("collected")
    # Cancelled because the device was not there: the rent restarts, the loss process follows.
    MISSING = "missing", _("missing at pickup")


class PickupOrder(models.Model):
    number = models.CharField(
        _("pickup order number"), max_length=12, unique=True, default=new_pickup_number
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("patient")
    )
    # The gate's guard when the order was made: then the pickup is at the unit, through the
    # prescriber, by the region's own staff (PRESC-9, LOG-3, LOG-4).
    patient_protected = models.BooleanField(_("protected patient"), default=False)
    # The prescriber's unit: the contact route, and for a protected patient the pickup place.
    unit = models.ForeignKey(
        PrescribingUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("prescriber to contact"),
    )
    channel = models.CharField(_("ordered by"), max_length=16, choices=PickupChannel.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered by"),
    )
    registered_on = models.DateField(_("registered"))
    # The route (delivery area) and its next day; empty when no route serves the place yet.
    area = models.ForeignKey(
        DeliveryArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("route"),
    )
    planned_on = models.DateField(_("planned pickup day"), null=True, blank=True)
    due_on = models.DateField(_("to be collected by"))
    # LOG-3: a subcontractor may collect an ordinary patient's devices, never a protected one's.
    subcontractor = models.BooleanField(_("collected by a subcontractor"), default=False)
    state = models.CharField(
        _("state"), max_length=12, choices=PickupState.choices, default=PickupState.PLANNED
    )
    created_at = models.DateTimeField(_("created"), db_default=Now())

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("pickup order")
        verbose_name_plural = _("pickup orders")
        permissions = [("order_pickup", _("Can order a pickup of a patient's devices"))]
        indexes = [
            models.Index(fields=["state", "due_on"], name="pickup_state_due_idx"),
            models.Index(fields=["patient", "state"], name="pickup_patient_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(patient_protected=False) | Q(subcontractor=False),
                name="pickup_protected_own_staff",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PickupOrderTransition(TransitionRecord):
    order = models.ForeignKey(PickupOrder, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(_("from"), max_length=32, choices=PickupState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=32, choices=PickupState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("pickup order transition")
        verbose_name_plural = _("pickup order transitions")


class PickupLine(models.Model):
    order = models.ForeignKey(
        PickupOrder, on_delete=models.PROTECT, related_name="lines", verbose_name=_("pickup order")
    )
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="pickup_lines", verbose_name=_("device")
    )
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=PickupLineState.choices,
        default=PickupLineState.TO_COLLECT,
    )
    # Billing reads these: the rent stops 3 working days after the order was registered, and
    # restarts (from the stop day) when the device was not there to collect.
    rent_stops_on = models.DateField(_("rent stops"))
    rent_restarted_on = models.DateField(_("rent restarted"), null=True, blank=True)
    settled_at = models.DateTimeField(_("collected or missed"), null=True, blank=True)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("pickup line")
        verbose_name_plural = _("pickup lines")
        constraints = [
            # A device is on at most one pickup order waiting to be collected.
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(state="to_collect"),
                name="pickup_line_one_open_per_device",
            ),
            models.CheckConstraint(
                condition=Q(rent_restarted_on__isnull=True) | Q(state="missing"),
                name="pickup_line_rent_restarts_when_missing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.pk}"


class PickupLineTransition(TransitionRecord):
    line = models.ForeignKey(PickupLine, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(
        _("from"), max_length=32, choices=PickupLineState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=32, choices=PickupLineState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("pickup line transition")
        verbose_name_plural = _("pickup line transitions")


class LossState(models.TextChoices):
    REPORTED = "reported", _("reported lost")
    WRITTEN_OFF = "written_off", _("written off")
    DEBITED = "debited", _("to be debited")
    FOUND = "found", _("found again")


class LossCase(models.Model):
    """DEVICE-4: one lost device. The decision follows BILL-4 and records what billing needs
    to invoice a debit: the value, the care unit debited and the day of the decision."""

    number = models.CharField(
        _("loss case number"), max_length=12, unique=True, default=new_loss_number
    )
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="loss_cases", verbose_name=_("device")
    )
    pickup_line = models.ForeignKey(
        PickupLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pickup line"),
    )
    # The care unit (the prescriber's) a debit is invoiced to; KPI-3 counts losses per unit.
    unit = models.ForeignKey(
        PrescribingUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("care unit")
    )
    state = models.CharField(
        _("state"), max_length=12, choices=LossState.choices, default=LossState.REPORTED
    )
    reported_on = models.DateField(_("reported"))
    # BILL-4, set by the decision: the article's purchase price, the residual value on the day,
    # and the debitable value (0 when written off).
    purchase_price_sek = models.DecimalField(
        _("purchase price (SEK)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    residual_value_sek = models.DecimalField(
        _("residual value (SEK)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    debit_sek = models.DecimalField(
        _("debitable value (SEK)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    decided_on = models.DateField(_("decided"), null=True, blank=True)
    found_on = models.DateField(_("found"), null=True, blank=True)

    class Meta:
        ordering = ["-reported_on", "-pk"]
        verbose_name = _("loss case")
        verbose_name_plural = _("loss cases")
        indexes = [models.Index(fields=["unit", "state"], name="loss_unit_state_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(state__in=["reported", "written_off", "debited"]),
                name="loss_case_one_open_per_device",
            ),
            models.CheckConstraint(
                condition=~Q(state="debited") | Q(debit_sek__gte=1000, decided_on__isnull=False),
                name="loss_case_debit_at_least_1000",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class LossCaseTransition(TransitionRecord):
    case = models.ForeignKey(LossCase, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(_("from"), max_length=32, choices=LossState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=32, choices=LossState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("loss case transition")
        verbose_name_plural = _("loss case transitions")


class RecirculationPolicy(models.Model):
    """DEVICE-3: how old a returned device may be (and how often reissued) to be reconditioned
    and lent again, for one article or for a whole product area; the article's own wins."""

    article = models.OneToOneField(
        Article,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("article"),
    )
    product_area = models.OneToOneField(
        ProductArea,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product area"),
    )
    max_age_months = models.PositiveSmallIntegerField(_("at most this old (months)"))
    max_times_reissued = models.PositiveSmallIntegerField(
        _("at most this many times reissued"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("recirculation policy")
        verbose_name_plural = _("recirculation policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(article__isnull=False, product_area__isnull=True)
                | Q(article__isnull=True, product_area__isnull=False),
                name="recirculation_policy_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return str(self.article or self.product_area)


class ReconditioningOutcome(models.TextChoices):
    REISSUE = "reissue", _("reconditioned, back to stock")
    SCRAP = "scrap", _("scrapped")


class ReconditioningDecision(models.Model):
    """DEVICE-3: a returned device cleaned and inspected, and what the policy decided."""

    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        related_name="reconditionings",
        verbose_name=_("device"),
    )
    outcome = models.CharField(_("outcome"), max_length=8, choices=ReconditioningOutcome.choices)
    reason = models.CharField(_("reason"), max_length=300)
    age_months = models.PositiveSmallIntegerField(_("age (months)"))
    inspection_passed = models.BooleanField(_("inspection passed"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), db_default=Now())

    class Meta:
        ordering = ["-decided_at", "-pk"]
        verbose_name = _("reconditioning decision")
        verbose_name_plural = _("reconditioning decisions")

    def __str__(self) -> str:
        return f"{self.device}: {self.get_outcome_display()}"

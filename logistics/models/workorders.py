"""Work orders (*arbetsorder*): repairs, service, installations, special adaptations, fitting
support and reconditioning, done by the region's technicians at a workshop (the reception whose
queue the order joins), with the time and the parts they used and the result.

Numbered "A-" and eight random characters: the number a prescriber, customer service and a
technician share, and the only name a protected patient's order goes by (LEAK-5). The state
moves through ``logistics.services.workorders.WORK_ORDER_MACHINE`` with a history row per move.

PRESC-10: the contact is the prescriber (and their unit), never the patient; the fault text,
the phone number a caller left and the result are encrypted at rest, since they may carry
details about the person. LOG-3: a protected patient's order is never given to a supplier or
subcontractor (the service refuses it, and migration 0008's trigger does again).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from logistics.models.devices import Device
from logistics.models.stock import StockLocation
from patients.fields import EncryptedTextField
from patients.models import Patient, Unit, random_reference
from patients.transitions import TransitionRecord
from prescriptions.models import Article, Supplier


def new_work_order_number() -> str:
    return random_reference("A-", 8)


class WorkOrderKind(models.TextChoices):
    REPAIR = "repair", _("repair")
    SERVICE = "service", _("service")
    INSTALLATION = "installation", _("installation")
    SPECIAL_ADAPTATION = "special_adaptation", _("special adaptation")
    FITTING_SUPPORT = "fitting_support", _("fitting support")
    RECONDITIONING = "reconditioning", _("reconditioning")


class WorkOrderState(models.TextChoices):
    REGISTERED = "registered", _("registered")
    ASSIGNED = "assigned", _("planned")
    IN_PROGRESS = "in_progress", _("in progress")
    # PRESC-6: a special adaptation waits for the prescriber's signature before it is done.
    WAITING_FOR_SIGNATURE = "waiting_for_signature", _("waiting for signature")
    DONE = "done", _("done")
    # Felfälld: back to its author to complete and send again.
    REJECTED = "rejected", _("returned to the author")
    CANCELLED = "cancelled", _("cancelled")


class WorkOrderSource(models.TextChoices):
    PRESCRIBER = "prescriber", _("the prescriber")
    FAULT_REPORT = "fault_report", _("fault report by phone")
    STAFF = "staff", _("logistics staff")
    SERVICE_DUE = "service_due", _("service due")


class WorkOrder(models.Model):
    number = models.CharField(
        _("work order number"), max_length=12, unique=True, default=new_work_order_number
    )
    kind = models.CharField(_("kind"), max_length=24, choices=WorkOrderKind.choices)
    state = models.CharField(
        _("state"),
        max_length=24,
        choices=WorkOrderState.choices,
        default=WorkOrderState.REGISTERED,
    )
    source = models.CharField(
        _("registered through"),
        max_length=16,
        choices=WorkOrderSource.choices,
        default=WorkOrderSource.PRESCRIBER,
    )
    # Empty for an installation or fitting support that concerns no device of the register.
    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("device"),
    )
    article = models.ForeignKey(
        Article,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("article"),
    )
    # The device's holder when the order was made (or the patient the prescriber named).
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    # PRESC-10: the technician's contact, whoever the patient is.
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("prescriber"),
    )
    contact_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("prescriber's unit"),
    )
    # The reception (workshop) whose queue the order is in; its parts come from this store.
    workshop = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("workshop")
    )
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("technician"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered by"),
    )
    # LOG-3: a supplier or subcontractor doing the work; never for a protected patient.
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("performed by supplier"),
    )
    description = EncryptedTextField(_("fault or task"), blank=True, default="")
    # PRESC-10: the number a caller left with customer service (shown to grant holders only
    # when the patient is protected).
    caller_phone = EncryptedTextField(_("caller's phone number"), blank=True, default="")
    due_on = models.DateField(_("due"), null=True, blank=True)
    minutes_spent = models.PositiveIntegerField(_("time spent (minutes)"), default=0)
    result = EncryptedTextField(_("result"), blank=True, default="")
    rejection_reason = EncryptedTextField(_("reason for returning"), blank=True, default="")
    created_at = models.DateTimeField(_("registered"), db_default=Now())
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        permissions = [
            ("work_workorders", _("Can work on work orders in the workshop")),
            ("report_faults", _("Can take fault reports")),
        ]
        indexes = [
            # The queue (logistics.selectors.workorders): a workshop's open orders counted and
            # ranked per section (kind) by due date from the index alone.
            models.Index(
                fields=["workshop", "state", "kind", "due_on"], name="workorder_queue_kind_idx"
            ),
            models.Index(fields=["device", "state"], name="workorder_device_idx"),
            models.Index(fields=["patient", "state"], name="workorder_patient_idx"),
            models.Index(fields=["author", "state"], name="workorder_author_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state=WorkOrderState.DONE) | Q(finished_at__isnull=False),
                name="workorder_done_has_finish",
            ),
            # One open service order per device, so that the due-service task is idempotent.
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(kind="service")
                & ~Q(state__in=["done", "cancelled"])
                & Q(device__isnull=False),
                name="workorder_one_open_service",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class WorkOrderPart(models.Model):
    """A part used on a work order, taken out of the workshop's store."""

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.PROTECT, related_name="parts", verbose_name=_("work order")
    )
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="+", verbose_name=_("article")
    )
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), db_default=Now())

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="workorder_part_positive")
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id}:{self.article_id}"


class WorkOrderTransition(TransitionRecord):
    """The work order's history (house style 4), written through the work order services."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(
        _("from"), max_length=32, choices=WorkOrderState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=32, choices=WorkOrderState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("work order transition")
        verbose_name_plural = _("work order transitions")

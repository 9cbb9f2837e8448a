"""Reads of work orders: the technician's queue (the workshop's open orders by section, the
adaptations waiting for the prescriber's signature, and devices whose service falls due without
an order yet) and one work order's page.

PRESC-10, LEAK-5: the queue names no patient at all: the device, the work order number and the
contact, which is the prescriber and their unit. A work order's page shows its patient only as
the gate shows them to the user (logged, AUDIT-1); for a patient the gate guards anyone without
a grant reads "Kontakt via förskrivaren" with the prescriber, their unit and its phone, and the
phone number a caller left is shown only to a grant holder.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from typing import Any, Final

from django.db.models import Count, Exists, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from logistics.models import (
    Device,
    DeviceStatus,
    LocationKind,
    StockLocation,
    WorkOrder,
    WorkOrderKind,
    WorkOrderPart,
    WorkOrderState,
    WorkOrderTransition,
)
from logistics.services.workorders import OPEN_STATES
from patients.models import StaffProfile
from patients.presenters import PatientCard
from prescriptions.models import PrescribingUnit
from protection.gate import AccessContext, Decision, patient_read_for_user
from protection.models import ContactAgreement
from protection.permissions import holds_role_permission
from protection.services.contact import contact_agreement_for_card

S = WorkOrderState
K = WorkOrderKind

WORK = "logistics.work_workorders"
REPORT_FAULTS = "logistics.report_faults"
# How far ahead the queue lists devices whose service falls due.
SERVICE_HORIZON_DAYS: Final = 14
QUEUE_LIMIT: Final = 200
# Devices out with a holder or in a store: the ones a technician services.
SERVICEABLE: Final = (DeviceStatus.ON_LOAN, DeviceStatus.IN_USE_AT_UNIT, DeviceStatus.IN_STOCK)


@dataclass(frozen=True)
class QueueSection:
    """A part of the technician's queue: the open work orders of these kinds. A new kind of
    work (a recall's outreach) adds its own section here."""

    key: str
    # A lazy translation.
    title: object
    kinds: frozenset[str]


QUEUE_SECTIONS: Final = (
    QueueSection("repairs", _("Repairs"), frozenset({K.REPAIR})),
    QueueSection("service", _("Service"), frozenset({K.SERVICE})),
    QueueSection(
        "other",
        _("Installations, adaptations and fitting support"),
        frozenset({K.INSTALLATION, K.SPECIAL_ADAPTATION, K.FITTING_SUPPORT}),
    ),
    QueueSection("reconditioning", _("Reconditioning"), frozenset({K.RECONDITIONING})),
)


def _guarded_sql() -> RawSQL:
    # Whether the gate guards the order's patient (hjm_patient_guards: protected or linked to a
    # protected person, PROT-5), per row in the same query; ids only.
    return RawSQL(
        "logistics_workorder.patient_id IS NOT NULL AND EXISTS "
        "(SELECT 1 FROM hjm_patient_guards(logistics_workorder.patient_id))",
        [],
    )


@dataclass(frozen=True)
class QueueRow:
    work_order: WorkOrder
    overdue: bool

    @property
    def guarded(self) -> bool:
        return bool(getattr(self.work_order, "guarded", False))


@dataclass(frozen=True)
class ServiceDue:
    device: Device
    overdue: bool


@dataclass(frozen=True)
class Section:
    key: str
    title: object
    rows: list[QueueRow]


@dataclass(frozen=True)
class TechnicianQueue:
    sections: list[Section]
    waiting_for_signature: list[QueueRow]
    service_due: list[ServiceDue]
    workshops: list[StockLocation] = field(default_factory=list)

    @property
    def signature_count(self) -> int:
        return len(self.waiting_for_signature)

    @property
    def protected(self) -> bool:
        """Whether any row concerns a guarded patient: the page then carries the print notice
        (PRINT-1), since it says so on screen."""
        rows = [row for s in self.sections for row in s.rows] + self.waiting_for_signature
        return any(row.guarded for row in rows)


def workshops_for_user(user: Any) -> QuerySet[StockLocation]:
    """The receptions whose queue the user works: the central stores of their unit's region
    (all of them for a user without a unit). Lazy: a subquery wherever it is used."""
    units = StaffProfile.objects.filter(user_id=user.pk, unit__isnull=False)
    return (
        StockLocation.objects.filter(kind=LocationKind.CENTRAL, active=True)
        .filter(Q(region_id__in=units.values("unit__region_id")) | ~Exists(units))
        .order_by("name")
    )


def _rows(today: datetime.date, workshop_ids: list[int], states: frozenset[str]) -> list[QueueRow]:
    orders = (
        WorkOrder.objects.filter(workshop_id__in=workshop_ids, state__in=states)
        .select_related("device", "article", "technician", "prescriber", "contact_unit")
        .annotate(guarded=_guarded_sql())
        .order_by(F("due_on").asc(nulls_last=True), "pk")[:QUEUE_LIMIT]
    )
    return [
        QueueRow(
            work_order=order,
            overdue=order.due_on is not None
            and order.due_on < today
            and order.state in {S.REGISTERED, S.ASSIGNED},
        )
        for order in orders
    ]


def technician_queue(*, user: Any, today: datetime.date) -> TechnicianQueue:
    """The queue in four queries: the workshops, the open orders (with device, article,
    technician and contact), the adaptations waiting for a signature, the service falling due."""
    workshops = list(workshops_for_user(user))
    ids = [w.pk for w in workshops]
    open_rows = _rows(today, ids, frozenset(OPEN_STATES - {S.WAITING_FOR_SIGNATURE}))
    waiting = _rows(today, ids, frozenset({S.WAITING_FOR_SIGNATURE}))
    sections = [
        Section(
            key=section.key,
            title=section.title,
            rows=[row for row in open_rows if row.work_order.kind in section.kinds],
        )
        for section in QUEUE_SECTIONS
    ]
    horizon = today + datetime.timedelta(days=SERVICE_HORIZON_DAYS)
    region_ids = sorted({w.region_id for w in workshops})
    due = (
        Device.objects.filter(
            owner_region_id__in=region_ids,
            status__in=SERVICEABLE,
            next_service_on__isnull=False,
            next_service_on__lte=horizon,
        )
        .exclude(
            work_orders__kind=K.SERVICE,
            work_orders__state__in=[s for s in S.values if s not in {S.DONE, S.CANCELLED}],
        )
        .select_related("article")
        .order_by("next_service_on", "pk")[:QUEUE_LIMIT]
    )
    service_due = [
        ServiceDue(device=d, overdue=d.next_service_on is not None and d.next_service_on < today)
        for d in due
    ]
    return TechnicianQueue(
        sections=sections,
        waiting_for_signature=waiting,
        service_due=service_due,
        workshops=workshops,
    )


def work_order_counts(*, user: Any) -> tuple[int, int]:
    """The start page's counts in one query: the workshop's open work orders, and those
    waiting for the prescriber's signature."""
    counts = WorkOrder.objects.filter(
        workshop__in=workshops_for_user(user).values("pk"), state__in=OPEN_STATES
    ).aggregate(
        open=Count("pk", filter=~Q(state=S.WAITING_FOR_SIGNATURE)),
        waiting=Count("pk", filter=Q(state=S.WAITING_FOR_SIGNATURE)),
    )
    return counts["open"], counts["waiting"]


def returned_work_orders_for_user(*, user: Any) -> QuerySet[WorkOrder]:
    """The author's work orders returned to them (*felfällda*), to complete and send again."""
    return (
        WorkOrder.objects.filter(author=user, state=S.REJECTED)
        .select_related("device", "article")
        .order_by("pk")
    )


class PatientShown(enum.Enum):
    NONE = "none"
    # The gate's full card.
    PATIENT = "patient"
    # A grant holder who has not confirmed the password (ACCESS-4).
    STEP_UP = "step_up"
    # Anyone else: contact through the prescriber (PRESC-10, LEAK-5).
    CONTACT = "contact"


@dataclass(frozen=True)
class WorkOrderPage:
    work_order: WorkOrder
    guarded: bool
    shown: PatientShown
    card: PatientCard | None
    contact_unit_phone: str
    # The phone number the caller left; empty when the user may not see it.
    caller_phone: str
    # LEAK-5: how the protected person wants to be contacted, for a grant holder only.
    contact_agreement: ContactAgreement | None
    parts: list[WorkOrderPart]
    history: list[WorkOrderTransition]
    may_work: bool
    is_author: bool


def may_see_work_order(user: Any, work_order: WorkOrder) -> bool:
    """Technicians and customer service see every work order; a prescriber their own (as the
    author or the contact)."""
    if holds_role_permission(user, WORK) or holds_role_permission(user, REPORT_FAULTS):
        return True
    return user.pk in {work_order.author_id, work_order.prescriber_id}


def work_order_get_for_user(*, ctx: AccessContext, work_order_id: int) -> WorkOrderPage:
    """One work order's page; ``WorkOrder.DoesNotExist`` for a missing one and for one the
    user may not see alike (the view answers 404 to both)."""
    work_order = (
        WorkOrder.objects.select_related(
            "device__article",
            "article",
            "workshop",
            "technician",
            "author",
            "prescriber",
            "contact_unit",
            "supplier",
            "patient__identity",
            "patient__home_region",
        )
        .annotate(
            guarded=_guarded_sql(),
            patient_visible=RawSQL("hjm_identity_visible(logistics_workorder.patient_id)", []),
        )
        .get(pk=work_order_id)
    )
    if not may_see_work_order(ctx.user, work_order):
        raise WorkOrder.DoesNotExist
    guarded = bool(getattr(work_order, "guarded", False))
    shown, card, agreement = PatientShown.NONE, None, None
    if work_order.patient_id is not None:
        shown = PatientShown.CONTACT
        # The database decides whether the gate is asked at all: a patient it hides is not
        # read, so nothing of them reaches the page.
        if getattr(work_order, "patient_visible", False):
            assert work_order.patient is not None
            answer = patient_read_for_user(ctx, work_order.patient)
            if answer.decision is Decision.FULL:
                shown, card = PatientShown.PATIENT, answer.card
                if guarded:
                    agreement = contact_agreement_for_card(
                        ctx=ctx, patient=work_order.patient, decision=answer.decision
                    )
            elif answer.decision is Decision.STEP_UP:
                shown = PatientShown.STEP_UP
    phone = ""
    if work_order.contact_unit_id is not None:
        prescribing = PrescribingUnit.objects.filter(unit_id=work_order.contact_unit_id).first()
        phone = prescribing.phone if prescribing is not None else ""
    caller_phone = work_order.caller_phone if (not guarded or card is not None) else ""
    return WorkOrderPage(
        work_order=work_order,
        guarded=guarded,
        shown=shown,
        card=card,
        contact_unit_phone=phone,
        caller_phone=caller_phone,
        contact_agreement=agreement,
        parts=list(work_order.parts.select_related("article").order_by("at", "pk")),
        history=list(work_order.transitions.select_related("by").order_by("at", "pk")),
        may_work=holds_role_permission(ctx.user, WORK),
        is_author=work_order.author_id == ctx.user.pk,
    )

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
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
# The rows a section lists (its count is of all of them): the page stays the same size however
# many work orders a recall brings.
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
    # The kind's and state's names, looked up once per page: ``get_kind_display`` translates
    # every choice of the field again for each row, the most of a long queue's rendering.
    kind_label: str = ""
    state_label: str = ""
    url: str = ""

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
    # The first QUEUE_LIMIT, most urgent first.
    rows: list[QueueRow]
    # All the section's open work orders.
    count: int

    @property
    def more(self) -> bool:
        return self.count > len(self.rows)


@dataclass(frozen=True)
class TechnicianQueue:
    sections: list[Section]
    waiting_for_signature: list[QueueRow]
    service_due: list[ServiceDue]
    workshops: Sequence[StockLocation] = field(default_factory=list)
    signature_count: int = 0

    @property
    def signature_more(self) -> bool:
        return self.signature_count > len(self.waiting_for_signature)

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


# What the queue's rows show (queue.html, _rows.html): no encrypted text (the fault, the caller's
# phone, the result) is read, so none is decrypted for a list that shows none.
ROW_FIELDS: Final = (
    "number",
    "kind",
    "state",
    "due_on",
    "device__serial_number",
    "article__name",
    "technician__username",
    "technician__first_name",
    "technician__last_name",
    "prescriber__username",
    "prescriber__first_name",
    "prescriber__last_name",
    "contact_unit__name",
)


def _section_of_kind() -> Case:
    """The section a work order's kind puts it in, as a number (its place in QUEUE_SECTIONS)."""
    return Case(
        *(
            When(kind__in=sorted(section.kinds), then=Value(n))
            for n, section in enumerate(QUEUE_SECTIONS)
        ),
        default=Value(len(QUEUE_SECTIONS)),
        output_field=IntegerField(),
    )


def _rows(today: datetime.date, workshop_ids: list[int], states: frozenset[str]) -> list[QueueRow]:
    """The first QUEUE_LIMIT open orders of each section, most urgent first, in one query: the
    ids ranked within their section on the (workshop, state, kind, due_on) index, then only
    those rows joined to what they show."""
    urgent = (F("due_on").asc(nulls_last=True), F("pk").asc())
    first = (
        WorkOrder.objects.filter(workshop_id__in=workshop_ids, state__in=sorted(states))
        .annotate(
            place=Window(RowNumber(), partition_by=[_section_of_kind()], order_by=list(urgent))
        )
        .filter(place__lte=QUEUE_LIMIT)
        .values("pk")
        # What the filter leaves, told to the planner: it then joins only these rows to their
        # devices and people instead of all the workshop's open orders.
        .order_by()[: QUEUE_LIMIT * (len(QUEUE_SECTIONS) + 1)]
    )
    orders = (
        WorkOrder.objects.filter(pk__in=first)
        .select_related("device", "article", "technician", "prescriber", "contact_unit")
        .only(*ROW_FIELDS)
        .annotate(guarded=_guarded_sql())
        .order_by(*urgent)
    )
    kind_labels = {value: str(label) for value, label in K.choices}
    # The order's page, reversed once for the page rather than once per row.
    head, tail = reverse("logistics:work_order", args=[0]).rsplit("/0/", 1)
    state_labels = {value: str(label) for value, label in S.choices}
    return [
        QueueRow(
            work_order=order,
            overdue=order.due_on is not None
            and order.due_on < today
            and order.state in {S.REGISTERED, S.ASSIGNED},
            kind_label=kind_labels.get(order.kind, order.kind),
            state_label=state_labels.get(order.state, order.state),
            url=f"{head}/{order.pk}/{tail}",
        )
        for order in orders
    ]


def _count(kinds: frozenset[str] | None, states: frozenset[str]) -> Coalesce:
    """A workshop's open orders of these kinds (any kind for None), counted on the index."""
    orders = WorkOrder.objects.filter(workshop_id=OuterRef("pk"), state__in=sorted(states))
    if kinds is not None:
        orders = orders.filter(kind__in=sorted(kinds))
    counted = orders.order_by().values("workshop_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def technician_queue(*, user: Any, today: datetime.date) -> TechnicianQueue:
    """The queue in four queries: the workshops (with each section's count), the first open
    orders of each section (with device, article, technician and contact), the adaptations
    waiting for a signature, the service falling due."""
    open_states = frozenset(OPEN_STATES - {S.WAITING_FOR_SIGNATURE})
    waiting_states = frozenset({S.WAITING_FOR_SIGNATURE})
    workshops = list(
        workshops_for_user(user).annotate(
            **{
                f"open_{section.key}": _count(section.kinds, open_states)
                for section in QUEUE_SECTIONS
            },
            waiting=_count(None, waiting_states),
        )
    )
    ids = [w.pk for w in workshops]
    open_rows = _rows(today, ids, open_states)
    waiting = _rows(today, ids, waiting_states)
    sections = [
        Section(
            key=section.key,
            title=section.title,
            rows=[row for row in open_rows if row.work_order.kind in section.kinds],
            count=sum(getattr(w, f"open_{section.key}") for w in workshops),
        )
        for section in QUEUE_SECTIONS
    ]
    horizon = today + datetime.timedelta(days=SERVICE_HORIZON_DAYS)
    region_ids = sorted({w.region_id for w in workshops})
    # On device_service_due_idx: the region's devices with a service date, soonest first, so
    # the 600 000 devices without one due are never read.
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
        .only("serial_number", "next_service_on", "article__name")
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
        signature_count=sum(w.waiting for w in workshops),
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

"""Safety notices and their campaigns (DEVICE-2, DEVICE-5, LOG-3, LEAK-5).

Publishing a notice finds every device of its articles (within its serial and lot ranges) the
register holds, wherever it is, in one ``INSERT ... SELECT`` (no loop over devices: 20 000
holders among 600 000 devices in seconds): where it is, who holds it, and for a patient's device
the order it went out on, that order's prescriber and unit, and whether the patient is guarded now
(``hjm_patient_guards``: protected, or linked to a protected person). A protected patient is
reached through that prescriber, named by order number only (LEAK-5); the work on the device is
the region's own technicians' (LOG-3): one work order per device a patient or a unit holds,
at the device's region's workshop, never a supplier's, made in one more statement. Devices in
a store under the notice are blocked from delivery until their row is done or the campaign
closed: picking refuses them (``logistics.services.picking``), allocation does not count them,
and the database refuses to move them out of the store (trigger
``logistics_notice_blocks_delivery``).

Each prescriber with patients under the notice gets one message naming the notice and how many
of their patients hold its articles, never who (LEAK-2); their page lists them as the gate
allows (``logistics.selectors.recalls``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Final

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import (
    DeviceStatus,
    HolderKind,
    LocationKind,
    NoticeAction,
    NoticeDevice,
    NoticeState,
    OutreachState,
    SafetyNotice,
    SafetyNoticeArticle,
    SafetyNoticeTransition,
    StockLocation,
    WorkOrder,
    WorkOrderKind,
    WorkOrderSource,
    WorkOrderState,
)
from logistics.models.workorders import new_work_order_number
from logistics.services.errors import LogisticsError, StateNotAllowed
from patients.fields import EncryptedTextField
from patients.models import Notification
from patients.transitions import CREATED, StateMachine, transition_apply, transition_created
from prescriptions.models import Article


def _refuse(notice: Any, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Safety notice %(number)s is %(state)s and cannot be moved there.")
        % {"number": notice.number, "state": NoticeState(from_state).label}
    )


NOTICE_MACHINE: Final = StateMachine(
    name="safety notice",
    moves={
        CREATED: frozenset({NoticeState.DRAFT}),
        NoticeState.DRAFT: frozenset({NoticeState.PUBLISHED}),
        NoticeState.PUBLISHED: frozenset({NoticeState.CLOSED}),
    },
    history_model=SafetyNoticeTransition,
    subject_field="notice",
    refuse=_refuse,
)

# The devices a notice can still reach: not those written off.
UNREACHABLE: Final = (DeviceStatus.SCRAPPED, DeviceStatus.LOST)


@dataclass(frozen=True)
class NoticeArticleInput:
    article_number: str
    serial_from: str = ""
    serial_to: str = ""
    lot_from: str = ""
    lot_to: str = ""


@dataclass(frozen=True)
class PublishResult:
    found: int
    patients: int
    protected: int
    blocked: int
    prescribers_told: int
    work_orders: int


def _next_number() -> str:
    year = timezone.localdate().year
    prefix = f"SM-{year}-"
    taken = SafetyNotice.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{taken + 1:04d}"


@transaction.atomic
def notice_create(
    *,
    by: Any,
    title: str,
    description: str,
    action: str,
    articles: list[NoticeArticleInput],
    manufacturer_reference: str = "",
) -> SafetyNotice:
    """A draft notice naming ``articles`` (by article number, each with an optional serial
    range and an optional lot range). Nothing is searched until it is published."""
    if action not in NoticeAction.values:
        raise LogisticsError(_("Action: choose what the notice asks for."))
    if not articles:
        raise LogisticsError(_("Articles: name at least one article."))
    numbers = [a.article_number.strip() for a in articles]
    known = dict(
        Article.objects.filter(article_number__in=numbers).values_list("article_number", "pk")
    )
    missing = [number for number in numbers if number not in known]
    if missing:
        raise LogisticsError(
            _("Articles: %(numbers)s is not an article number in the catalogue.")
            % {"numbers": ", ".join(missing)}
        )
    for entry in articles:
        if bool(entry.serial_from.strip()) != bool(entry.serial_to.strip()):
            raise LogisticsError(
                _("Serial numbers: give both the first and the last serial number of the range.")
            )
        if entry.serial_from.strip() > entry.serial_to.strip():
            raise LogisticsError(
                _("Serial numbers: the first serial number must come before the last.")
            )
        if bool(entry.lot_from.strip()) != bool(entry.lot_to.strip()):
            raise LogisticsError(
                _("Lot numbers: give both the first and the last lot number of the range.")
            )
        if entry.lot_from.strip() > entry.lot_to.strip():
            raise LogisticsError(_("Lot numbers: the first lot number must come before the last."))
    notice = SafetyNotice.objects.create(
        number=_next_number(),
        title=title.strip(),
        description=description.strip(),
        action=action,
        manufacturer_reference=manufacturer_reference.strip(),
        created_by=by,
    )
    SafetyNoticeArticle.objects.bulk_create(
        SafetyNoticeArticle(
            notice=notice,
            article_id=known[entry.article_number.strip()],
            serial_from=entry.serial_from.strip(),
            serial_to=entry.serial_to.strip(),
            lot_from=entry.lot_from.strip(),
            lot_to=entry.lot_to.strip(),
        )
        for entry in articles
    )
    transition_created(machine=NOTICE_MACHINE, obj=notice, by=by)
    return notice


# One statement: every reachable device of the notice's articles, within its serial range and
# its lot range when given (byte order, as the serial index; a device without a lot number is
# outside any lot range), with the order it last went out on to its holder.
FIND_SQL: Final = """
INSERT INTO logistics_noticedevice (
    notice_id, device_id, holder_kind, holder_patient_id, holder_unit_id, location_id,
    order_number, prescriber_id, contact_unit_id, protected, blocked, state, found_at,
    work_order_id
)
SELECT DISTINCT ON (d.id)
    %(notice)s, d.id, d.holder_kind, d.holder_patient_id, d.holder_unit_id, d.location_id,
    COALESCE(lent.number, ''), lent.orderer_id, lent.unit_id,
    d.holder_patient_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM hjm_patient_guards(d.holder_patient_id)),
    d.holder_kind = %(store)s,
    %(found)s, now(),
    -- The id of the device's work order, made by OUTREACH_SQL in the same transaction (the
    -- foreign key is checked at commit): no second pass over the rows to tie them.
    CASE WHEN d.holder_kind <> %(store)s
         THEN nextval(pg_get_serial_sequence('logistics_workorder', 'id')) END
FROM logistics_safetynoticearticle a
JOIN logistics_device d ON d.article_id = a.article_id
LEFT JOIN LATERAL (
    SELECT o.number, o.orderer_id, o.unit_id
    FROM logistics_customerorderline l
    JOIN logistics_customerorder o ON o.id = l.order_id
    WHERE l.device_id = d.id AND o.patient_id = d.holder_patient_id
    ORDER BY l.id DESC
    LIMIT 1
) lent ON d.holder_patient_id IS NOT NULL
WHERE a.notice_id = %(notice)s
  AND d.status <> ALL(%(unreachable)s)
  AND (a.serial_from = ''
       OR (d.serial_number COLLATE "C" >= a.serial_from
           AND d.serial_number COLLATE "C" <= a.serial_to))
  AND (a.lot_from = ''
       OR (d.lot_number COLLATE "C" >= a.lot_from
           AND d.lot_number COLLATE "C" <= a.lot_to))
ORDER BY d.id
ON CONFLICT (notice_id, device_id) DO NOTHING
"""


# One statement: a registered work order for every device a patient or a unit holds, at the
# central store (workshop) of the region that owns the device, never a supplier's (LOG-3), with
# its first history row, under the id the device's outreach row already names. The encrypted
# texts are the same for every order (the notice's number and action, no person), encrypted once.
OUTREACH_SQL: Final = """
WITH targets AS (
    SELECT nd.work_order_id, nd.device_id, d.article_id, nd.holder_patient_id,
           nd.prescriber_id, nd.contact_unit_id, d.owner_region_id,
           row_number() OVER (ORDER BY nd.id) AS n
    FROM logistics_noticedevice nd
    JOIN logistics_device d ON d.id = nd.device_id
    WHERE nd.notice_id = %(notice)s AND nd.work_order_id IS NOT NULL
), made AS (
    INSERT INTO logistics_workorder (
        id, number, kind, state, source, device_id, article_id, patient_id, prescriber_id,
        contact_unit_id, workshop_id, technician_id, author_id, supplier_id, description,
        caller_phone, due_on, minutes_spent, result, rejection_reason, created_at
    )
    SELECT t.work_order_id, (%(numbers)s::text[])[t.n], %(kind)s, %(state)s, %(source)s,
           t.device_id, t.article_id, t.holder_patient_id, t.prescriber_id, t.contact_unit_id,
           COALESCE(w.id, %(fallback)s), NULL, %(by)s, NULL, %(description)s, %(empty_phone)s,
           %(due)s, 0, %(empty_result)s, %(empty_reason)s, now()
    FROM targets t
    LEFT JOIN LATERAL (
        SELECT s.id FROM logistics_stocklocation s
        WHERE s.kind = %(central)s AND s.region_id = t.owner_region_id AND s.active
        ORDER BY s.id LIMIT 1
    ) w ON true
    RETURNING id
)
INSERT INTO logistics_workordertransition (work_order_id, from_state, to_state, by_id, at, note)
SELECT id, '', %(state)s, %(by)s, now(), %(note)s FROM made
"""

# The technicians have a month for a notice's work unless the notice says otherwise.
WORK_DAYS: Final = 30


def _work_orders_create(notice: SafetyNotice, *, by: Any) -> int:
    """The outreach's work orders, set-based (``OUTREACH_SQL``): how many were made."""
    held = NoticeDevice.objects.filter(notice_id=notice.pk, work_order_id__isnull=False).count()
    if not held:
        return 0
    fallback = (
        StockLocation.objects.filter(kind=LocationKind.CENTRAL, active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if fallback is None:
        raise LogisticsError(
            _("There is no central store with a workshop: add one before publishing.")
        )
    text = _("Safety notice %(number)s: %(action)s. %(title)s") % {
        "number": notice.number,
        "action": NoticeAction(notice.action).label,
        "title": notice.title,
    }

    def sealed(name: str, value: str) -> Any:
        field = WorkOrder._meta.get_field(name)
        assert isinstance(field, EncryptedTextField)
        return field.get_prep_value(value)

    with connection.cursor() as cursor:
        cursor.execute(
            OUTREACH_SQL,
            {
                "notice": notice.pk,
                "patient": HolderKind.PATIENT,
                "unit": HolderKind.UNIT,
                "numbers": [new_work_order_number() for _n in range(held)],
                "kind": WorkOrderKind.REPAIR,
                "state": WorkOrderState.REGISTERED,
                "source": WorkOrderSource.STAFF,
                "fallback": fallback,
                "by": getattr(by, "pk", None),
                "description": sealed("description", text),
                "empty_phone": sealed("caller_phone", ""),
                "empty_result": sealed("result", ""),
                "empty_reason": sealed("rejection_reason", ""),
                "due": timezone.localdate() + datetime.timedelta(days=WORK_DAYS),
                "central": LocationKind.CENTRAL,
                "note": notice.number,
            },
        )
        made: int = cursor.rowcount
    return made


@transaction.atomic
def notice_publish(*, notice_id: int, by: Any) -> PublishResult:
    """Publish a draft notice: find its devices and their holders, block those in stores, and
    tell each prescriber how many of their patients hold its articles."""
    notice = SafetyNotice.objects.select_for_update().get(pk=notice_id)
    transition_apply(
        machine=NOTICE_MACHINE,
        obj=notice,
        to_state=NoticeState.PUBLISHED,
        by=by,
        published_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            FIND_SQL,
            {
                "notice": notice.pk,
                "store": HolderKind.STORE,
                "found": OutreachState.FOUND,
                "unreachable": list(UNREACHABLE),
            },
        )
    work_orders = _work_orders_create(notice, by=by)
    rows = NoticeDevice.objects.filter(notice_id=notice.pk)
    totals = rows.aggregate(
        found=Count("pk"),
        patients=Count("pk", filter=Q(holder_kind=HolderKind.PATIENT)),
        protected=Count("pk", filter=Q(holder_kind=HolderKind.PATIENT, protected=True)),
        blocked=Count("pk", filter=Q(blocked=True)),
        units=Count("pk", filter=Q(holder_kind=HolderKind.UNIT)),
        stores=Count("pk", filter=Q(holder_kind=HolderKind.STORE)),
    )
    SafetyNotice.objects.filter(pk=notice.pk).update(
        found=totals["found"],
        patients=totals["patients"],
        protected_holders=totals["protected"],
        units=totals["units"],
        stores=totals["stores"],
    )
    per_prescriber = list(
        rows.filter(prescriber__isnull=False)
        .values("prescriber_id")
        .annotate(held=Count("pk"))
        .order_by("prescriber_id")
    )
    # LEAK-2: the subject names the notice and a count, never a patient.
    Notification.objects.bulk_create(
        Notification(
            user_id=entry["prescriber_id"],
            subject=_("Safety notice %(number)s: %(count)s devices held by your patients")
            % {"number": notice.number, "count": entry["held"]},
            body=_(
                "%(title)s. Action: %(action)s. See which of your patients hold the article "
                "under Safety notices, My patients."
            )
            % {"title": notice.title, "action": NoticeAction(notice.action).label},
        )
        for entry in per_prescriber
    )
    return PublishResult(
        found=totals["found"],
        patients=totals["patients"],
        protected=totals["protected"],
        blocked=totals["blocked"],
        prescribers_told=len(per_prescriber),
        work_orders=work_orders,
    )


@transaction.atomic
def notice_close(*, notice_id: int, by: Any, note: str = "") -> SafetyNotice:
    """Close the campaign: the reach is what it is, and the devices it blocked in stores may be
    delivered again (the notice's work on them done or judged unneeded)."""
    notice = SafetyNotice.objects.select_for_update().get(pk=notice_id)
    transition_apply(
        machine=NOTICE_MACHINE,
        obj=notice,
        to_state=NoticeState.CLOSED,
        by=by,
        note=note,
        closed_at=timezone.now(),
    )
    NoticeDevice.objects.filter(notice_id=notice.pk, blocked=True).update(blocked=False)
    return notice


STEP_ORDER: Final = {OutreachState.FOUND: 0, OutreachState.CONTACTED: 1, OutreachState.DONE: 2}


@transaction.atomic
def outreach_record(
    *, notice_id: int, row_id: int, step: str, by: Any, prescriber_only: bool = False
) -> NoticeDevice:
    """Record that a device's holder was contacted, or the notice's action done on it (which
    also lifts its block). ``prescriber_only``: the prescriber records it for their own
    patients' rows only (anything else is not found)."""
    if step not in (OutreachState.CONTACTED, OutreachState.DONE):
        raise LogisticsError(_("Choose contacted or done."))
    query = NoticeDevice.objects.select_for_update().filter(pk=row_id, notice_id=notice_id)
    if prescriber_only:
        query = query.filter(prescriber_id=getattr(by, "pk", None))
    row = query.select_related("notice").get()
    if row.notice.state != NoticeState.PUBLISHED:
        raise StateNotAllowed(
            _("Safety notice %(number)s is closed: its campaign is no longer followed up.")
            % {"number": row.notice.number}
        )
    if STEP_ORDER[OutreachState(step)] <= STEP_ORDER[OutreachState(row.state)]:
        raise StateNotAllowed(_("This device's outreach is already recorded that far."))
    now = timezone.now()
    fields: dict[str, Any] = {"state": step}
    if row.contacted_at is None:
        fields["contacted_at"] = now
    if step == OutreachState.DONE:
        fields["done_at"] = now
        fields["blocked"] = False
    NoticeDevice.objects.filter(pk=row.pk).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)
    return row

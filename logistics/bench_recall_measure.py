"""The recall part of ``manage.py bench_recall``: the holders of one article added to the
logistics benchmark's world (``logistics.bench_data``), the timed publishing of a safety notice
on it, the campaign page against a bare one-query view, and the report.

The holders: the world's 2 000 patients with their identities and enough bare patient rows
(no identity: publishing reads none) to make ``holders`` patients, one in 50 protected; as many
devices lent to them, moved onto the article with one ``UPDATE``, each with the delivered
customer order it went out on (prescription, order and line, bulk inserts), so that publishing
finds each holder's prescriber as it would in production. Nothing of this is timed.

Timed, through the real services: ``notice_create`` and ``notice_publish`` (every device of the
article found with its holder, place, order, prescriber and guard; the work orders made; the
prescribers told), each with its SQL statements. Then the campaign page (as logistics staff)
and the technician's queue (as a technician, with the notice's work orders in it), each against
its bare view, alternated, in the same process.
"""

from __future__ import annotations

import datetime
import os
import platform
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from logistics.bench_data import PROTECTED_EVERY, REGION, World
from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DestinationKind,
    Device,
    DeviceStatus,
    HolderKind,
    LineState,
    NoticeAction,
    NoticeDevice,
    OrderKind,
    OrderState,
    WorkOrder,
)
from logistics.selectors.workorders import QUEUE_LIMIT
from logistics.services.recalls import NoticeArticleInput, notice_create, notice_publish
from logistics.services.workorders import OPEN_STATES
from patients.bench import percentiles, timed
from patients.models import Patient, StaffProfile, Unit
from prescriptions.models import (
    AgreementType,
    Article,
    CareEpisode,
    PrescribingUnit,
    Prescription,
    Supply,
)
from protection.rls import system_context

SECTION = "bench_recall"
STEPS = ("create", "publish")
BATCH = 5000


def _more_patients(total: int) -> list[int]:
    """The world's patients and bare ones up to ``total``, one in 50 protected."""
    have = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    missing = max(total - len(have), 0)
    with system_context():
        made = Patient.objects.bulk_create(
            (
                Patient(
                    birth_year=1930 + n % 80,
                    home_region_id=REGION,
                    confidentiality_marking=n % PROTECTED_EVERY == PROTECTED_EVERY - 1,
                )
                for n in range(missing)
            ),
            batch_size=BATCH,
        )
    return (have + [p.pk for p in made])[:total]


def holders_build(world: World, *, holders: int) -> int:
    """``holders`` patients each holding a device of one article, lent on a delivered order.
    Returns the article's id."""
    patient_ids = _more_patients(holders)
    article = Article.objects.filter(serial_numbered=True).order_by("pk").first()
    assert article is not None
    lent_ids = list(
        Device.objects.filter(status=DeviceStatus.ON_LOAN)
        .exclude(pk=world.lent_device_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:holders]
    )
    if len(lent_ids) < holders:
        raise ValueError(f"{len(lent_ids)} lent devices in the world; {holders} needed")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE logistics_device d
            SET article_id = %(article)s, holder_patient_id = pairs.patient_id
            FROM unnest(%(devices)s::bigint[], %(patients)s::bigint[])
                AS pairs(device_id, patient_id)
            WHERE d.id = pairs.device_id
            """,
            {"article": article.pk, "devices": lent_ids, "patients": patient_ids},
        )
    _loans(lent_ids, patient_ids, article, world.store_id)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return article.pk


def _loans(device_ids: list[int], patient_ids: list[int], article: Article, store: int) -> None:
    """The delivered order each device went out on: prescription, order and line."""
    units = list(PrescribingUnit.objects.order_by("pk"))
    prescribers = list(
        get_user_model().objects.filter(username__startswith="bench-log-rx-").order_by("pk")
    )
    protected = set(
        Patient.objects.filter(pk__in=patient_ids, is_protected=True).values_list("pk", flat=True)
    )
    day = datetime.date.today() - datetime.timedelta(days=60)
    closed = timezone.now() - datetime.timedelta(days=59)
    plan = [
        (
            device_id,
            patient_id,
            units[n % len(units)],
            prescribers[(n % len(units)) * 2 % len(prescribers)],
            patient_id in protected,
        )
        for n, (device_id, patient_id) in enumerate(zip(device_ids, patient_ids, strict=True))
    ]
    with transaction.atomic():
        episodes = CareEpisode.objects.bulk_create(
            (
                # Closed: the loan's episode ended when the device was handed over.
                CareEpisode(patient_id=patient, unit=unit, home_region_id=REGION, closed_at=closed)
                for _d, patient, unit, _p, _g in plan
            ),
            batch_size=BATCH,
        )
        prescriptions = Prescription.objects.bulk_create(
            (
                Prescription(
                    patient_id=patient,
                    episode=episode,
                    prescriber=prescriber,
                    unit=unit,
                    state="approved",
                    patient_protected=guarded,
                    delivery_kind="unit" if guarded else "patient_address",
                    delivery_unit=unit if guarded else None,
                    delivery_contact=prescriber if guarded else None,
                )
                for (_d, patient, unit, prescriber, guarded), episode in zip(
                    plan, episodes, strict=True
                )
            ),
            batch_size=BATCH,
        )
        orders = CustomerOrder.objects.bulk_create(
            (
                CustomerOrder(
                    number=prescription.reference,
                    kind=OrderKind.CUSTOMER,
                    prescription=prescription,
                    patient_id=patient,
                    unit=unit,
                    orderer=prescriber,
                    patient_protected=guarded,
                    destination_kind=DestinationKind.UNIT
                    if guarded
                    else DestinationKind.PATIENT_ADDRESS,
                    delivery_unit=unit if guarded else None,
                    delivery_contact=prescriber if guarded else None,
                    from_location_id=store,
                    agreement_type=AgreementType.COOPERATION,
                    promised_on=day,
                    state=OrderState.DELIVERED,
                )
                for (_d, patient, unit, prescriber, guarded), prescription in zip(
                    plan, prescriptions, strict=True
                )
            ),
            batch_size=BATCH,
        )
        CustomerOrderLine.objects.bulk_create(
            (
                CustomerOrderLine(
                    order=order,
                    position=1,
                    article=article,
                    quantity=1,
                    supply=Supply.RENT,
                    promised_on=day,
                    delivered_on=day,
                    state=LineState.DELIVERED,
                    device_id=device_id,
                )
                for (device_id, _p, _u, _r, _g), order in zip(plan, orders, strict=True)
            ),
            batch_size=BATCH,
        )


def _phase(figures: dict[str, Any], name: str, call: Callable[[], Any]) -> Any:
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = call()
        figures[name] = {
            "s": time.perf_counter() - started,
            "queries": len(captured.captured_queries),
        }
    return result


def publish(world: World, article_id: int) -> dict[str, Any]:
    """The notice made and published through the services, each step timed."""
    figures: dict[str, Any] = {}
    article = Article.objects.get(pk=article_id)
    notice = _phase(
        figures,
        "create",
        partial(
            notice_create,
            by=world.logistics_user,
            title="Bromsvajern kan lossna",
            description="Kontrollera och byt vajerfästet.",
            action=NoticeAction.RETROFIT,
            articles=[NoticeArticleInput(article.article_number)],
        ),
    )
    result = _phase(
        figures, "publish", partial(notice_publish, notice_id=notice.pk, by=world.logistics_user)
    )
    figures["notice_id"] = notice.pk
    figures["found"] = result.found
    figures["patients"] = result.patients
    figures["protected"] = result.protected
    figures["blocked"] = result.blocked
    figures["work_orders"] = result.work_orders
    figures["prescribers_told"] = result.prescribers_told
    figures["with_prescriber"] = NoticeDevice.objects.filter(
        notice_id=notice.pk, holder_kind=HolderKind.PATIENT, prescriber__isnull=False
    ).count()
    figures["orders_to_suppliers"] = WorkOrder.objects.filter(
        notice_device__notice_id=notice.pk, supplier__isnull=False
    ).count()
    figures["total_s"] = sum(figures[step]["s"] for step in STEPS)
    return figures


def page_vs_bare(user: Any, page_url: str, bare_url: str, requests: int) -> dict[str, Any]:
    """A page and its bare view: query counts, then alternated timed requests."""
    with override_settings(ROOT_URLCONF="logistics.bench_recall", ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(user)
        get: dict[str, Callable[[], Any]] = {
            "page": partial(client.get, page_url),
            "bare": partial(client.get, bare_url),
        }
        counts = {}
        for kind, call in get.items():
            call()  # warm: templates, translations, the connection's plans
            with CaptureQueriesContext(connection) as captured:
                if call().status_code != 200:
                    raise RuntimeError(f"{kind} of {page_url}: not 200")
            counts[kind] = len(captured.captured_queries)
        samples: dict[str, list[float]] = {"page": [], "bare": []}
        for _ in range(requests):
            timed(get["bare"], samples["bare"], what=bare_url)
            timed(get["page"], samples["page"], what=page_url)
    return {
        kind: {**percentiles(values), "queries": counts[kind]} for kind, values in samples.items()
    }


def technician() -> Any:
    """A technician of the region's workshop (the central store's), as the demo makes one."""
    user = get_user_model().objects.create_user(
        "bench-recall-tech", first_name="Tekniker", last_name="Bench"
    )
    user.groups.add(Group.objects.get(name="technician"))
    unit = Unit.objects.filter(region_id=REGION).order_by("pk").first()
    StaffProfile.objects.create(user=user, unit=unit)
    return user


def measure(world: World, *, holders: int, requests: int) -> dict[str, Any]:
    started = time.perf_counter()
    article_id = holders_build(world, holders=holders)
    holders_s = time.perf_counter() - started
    notice = publish(world, article_id)
    return {
        "publish": notice,
        "campaign": page_vs_bare(
            world.logistics_user,
            f"/logistics/notices/{notice['notice_id']}/",
            f"/bench/logistics/campaign-bare/{notice['notice_id']}/",
            requests,
        ),
        # The technicians' queue, now holding the notice's work orders.
        "queue": page_vs_bare(
            technician(),
            "/logistics/work-orders/",
            "/bench/logistics/queue-workshop-bare/",
            requests,
        ),
        "open_work_orders": WorkOrder.objects.filter(state__in=OPEN_STATES).count(),
        "devices": Device.objects.count(),
        "holders_s": holders_s,
        "load": os.getloadavg()[0],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }


def _met(value: float, aim: float) -> str:
    return "met" if value <= aim else "missed"


def report(figures: dict[str, Any], *, volume: dict[str, int], build_s: float) -> str:
    notice = figures["publish"]
    lines = [
        f"<!-- {SECTION}:start -->",
        "## Safety notices and recalls (`make bench-recall`)",
        "",
        f"Measured {datetime.date.today().isoformat()} on {figures['machine']}, PostgreSQL on "
        "the same machine, shared with other test runs (one-minute load average "
        f"{figures['load']:.1f} at the end). Command: `make bench-recall` (= `python manage.py "
        "bench_recall --write docs/performance.md`). In a scratch database, the logistics "
        f"benchmark's world ({figures['devices']:,} devices, {volume['articles']:,} articles, "
        "stores, units and prescribers) plus one article lent to "
        f"{volume['holders']:,} patients (one in {PROTECTED_EVERY} protected), each device "
        "with the delivered order it went out on; built in "
        f"{build_s:.0f} s.",
        "",
        "Publishing a safety notice on that article through the real services "
        "(`notice_create`, `notice_publish`): every device of the article found with its "
        "holder, place, order, prescriber and guard in one statement, a registered work order "
        "per device held (the region's own workshop, LOG-3) in one more, the prescribers told:",
        "",
        "| step | time | SQL statements |",
        "|---|---:|---:|",
        f"| Create the notice (`notice_create`) | {notice['create']['s']:.2f} s | "
        f"{notice['create']['queries']} |",
        f"| Publish: {notice['found']:,} devices found, {notice['patients']:,} held by "
        f"patients ({notice['protected']:,} protected), {notice['work_orders']:,} work orders, "
        f"{notice['blocked']:,} blocked in stores, {notice['prescribers_told']} prescribers "
        f"told (`notice_publish`) | {notice['publish']['s']:.2f} s | "
        f"{notice['publish']['queries']} |",
        f"| **Total** (aim: under 10 s, {_met(notice['total_s'], 10)}) | "
        f"**{notice['total_s']:.2f} s** | "
        f"{sum(notice[k]['queries'] for k in STEPS)} |",
        "",
        f"Every patient's device reached through its prescriber: {notice['with_prescriber']:,} "
        f"of {notice['patients']:,}; work orders given to a supplier: "
        f"{notice['orders_to_suppliers']}.",
        "",
        "The campaign page (reach in all and per week, the first page of devices; as logistics "
        "staff) and the technician's queue (the workshop's open work orders, the notice's "
        f"{figures['open_work_orders']:,} among them: each section's count and its "
        f"{QUEUE_LIMIT} most urgent rows, the adaptations waiting for a signature and the "
        "service falling due; as a technician) against bare one-query "
        "views of the same first rows (aim: 1.5 times the bare view's p50), through the full "
        "middleware stack with Django's test client:",
        "",
        "| request | queries | p50 | p95 | bare p50 | bare queries | p50 / bare | aim |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        _row(f"Campaign page, {notice['found']:,} devices", figures["campaign"]),
        _row(
            f"Technician's queue, {figures['open_work_orders']:,} open work orders",
            figures["queue"],
        ),
        "",
        f"{int(figures['campaign']['page']['n'])} timed requests of each kind, page and bare "
        "view alternated.",
        f"<!-- {SECTION}:end -->",
    ]
    return "\n".join(lines)


def _row(label: str, measured: dict[str, Any]) -> str:
    page, bare = measured["page"], measured["bare"]
    ratio = page["p50"] / bare["p50"]
    return (
        f"| {label} | {page['queries']} | {page['p50']:.2f} ms | {page['p95']:.2f} ms | "
        f"{bare['p50']:.2f} ms | {bare['queries']} | {ratio:.2f} | {_met(ratio, 1.5)} |"
    )

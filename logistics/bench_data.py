"""A region's logistics volume for ``manage.py bench_logistics``, built in its scratch database.

The small things (units, prescribers, patients with their encrypted identities, stores, delivery
areas) through the ORM; the volume (articles, stock levels, devices, prescriptions, orders and
their lines with their history) with bulk inserts, the 600 000 devices with one server-side
``INSERT ... SELECT`` over ``generate_series``. Patients carry Skatteverket's test personnummer
(IDENT-4), one in 50 protected; their orders go to the prescriber's unit with the prescriber as
contact, as the order's constraint demands (PRESC-2, LOG-3). Nothing here runs in the timed part.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    CustomerOrderTransition,
    DeliveryArea,
    DestinationKind,
    Device,
    DeviceEvent,
    DeviceStatus,
    HolderKind,
    LineState,
    LocationKind,
    OrderKind,
    OrderLineTransition,
    OrderState,
    StockLevel,
    StockLocation,
)
from patients.models import Patient, PatientIdentity, StaffProfile, Unit
from patients.services import roles_sync
from prescriptions.models import (
    Agreement,
    AgreementType,
    Article,
    ArticleKind,
    CareEpisode,
    CompetenceArea,
    PrescribingUnit,
    Prescription,
    ProductArea,
    Supplier,
    Supply,
)
from protection.rls import system_context

REGION = "12"
UNITS = 20
PRESCRIBERS_PER_UNIT = 2
PROTECTED_EVERY = 50
# Order lines come from this many articles (what a region's orders mostly ask for).
ORDERED_ARTICLES = 1_500
# Postal code ranges of the delivery areas (Skåne's 2xxxx), each served every working day.
AREAS = 8
KINDS = ("rollator", "rullstol", "säng", "kudde", "kryckor")


@dataclass(frozen=True)
class World:
    store_id: int
    logistics_user: Any
    lent_device_id: int
    stock_device_id: int
    patients: int
    protected: int
    orders: int
    lines: int


def _numbers(count: int) -> list[str]:
    """Skatteverket's test personnummer (IDENT-4), from ../shared beside the project."""
    path = Path(settings.BASE_DIR).parent / "shared" / "data" / "testpersonnummer.txt"
    numbers = path.read_text(encoding="utf-8").split()
    if len(numbers) < count:
        raise ValueError(f"{path} has {len(numbers)} numbers; {count} needed")
    # Spread over the list (all birth years), not only the oldest.
    step = len(numbers) // count
    return numbers[::step][:count]


def _postal(rng: random.Random) -> str:
    return f"{rng.randrange(20000, 20000 + AREAS * 1000):05d}"


def _people(rng: random.Random) -> tuple[list[PrescribingUnit], list[list[Any]], Any]:
    roles_sync()
    users = get_user_model()
    prescriber_group = Group.objects.get(name="prescriber")
    units: list[PrescribingUnit] = []
    prescribers: list[list[Any]] = []
    for n in range(UNITS):
        unit = Unit.objects.create(
            name=f"Hjälpmedelsenhet {n + 1}", hsa_id=f"SE-BENCH-LOG-{n}", region_id=REGION
        )
        units.append(
            PrescribingUnit.objects.create(
                unit=unit,
                delivery_street=f"Vårdvägen {n + 1}",
                delivery_postal_code=_postal(rng),
                delivery_town="Malmö",
            )
        )
        staff = []
        for k in range(PRESCRIBERS_PER_UNIT):
            user = users.objects.create_user(
                f"bench-log-rx-{n}-{k}", first_name="Förskrivare", last_name=f"{n}-{k}"
            )
            user.groups.add(prescriber_group)
            StaffProfile.objects.create(user=user, unit=unit)
            staff.append(user)
        prescribers.append(staff)
    worker = users.objects.create_user("bench-log-worker", first_name="Lager", last_name="Bench")
    worker.groups.add(Group.objects.get(name="logistics"))
    StaffProfile.objects.create(user=worker, unit=units[0].unit)
    return units, prescribers, worker


def _patients(count: int, rng: random.Random) -> list[Patient]:
    patients = []
    with transaction.atomic(), system_context():
        for index, number in enumerate(_numbers(count)):
            protected = index % PROTECTED_EVERY == PROTECTED_EVERY - 1
            patient = Patient.objects.create(
                birth_year=int(number[:4]),
                home_region_id=REGION,
                confidentiality_marking=protected,
            )
            PatientIdentity.objects.create(
                patient=patient,
                personal_identity_number=number,
                given_names="Bengt",
                surname=f"Benchsson{index}",
                # The encrypted JSON field takes a dict; its stub types only the stored text.
                registered_address={  # type: ignore[misc]
                    "street2": f"Mätvägen {index % 90 + 1}",
                    "postal_code": _postal(rng),
                    "city": "MALMÖ",
                },
            )
            patients.append(patient)
    return patients


def _articles(total: int) -> list[int]:
    supplier = Supplier.objects.create(name="Benchmark Hjälpmedel AB")
    agreement = Agreement.objects.create(code="AVT-BENCH-LOG", supplier=supplier)
    competence, _created = CompetenceArea.objects.get_or_create(
        code="bench_log", defaults={"name": "Benchmark"}
    )
    area = ProductArea.objects.create(
        code="bench_log", name="Benchmark", competence_area=competence
    )
    batch = []
    for n in range(total):
        batch.append(
            Article(
                article_number=f"B{n:07d}",
                name=f"Hjälpmedel {n} {KINDS[n % len(KINDS)]}",
                iso9999="120606",
                product_area=area,
                price_sek=Decimal("450.00"),
                kind=ArticleKind.MAIN,
                assortment_days=7,
                supply=Supply.RENT,
                agreement=agreement,
                serial_numbered=n % 4 == 0,
                gtin=f"0735{n:010d}" if n % 4 == 0 else "",
                weight_kg=Decimal("6.5"),
                length_cm=60,
                girth_cm=120,
            )
        )
    Article.objects.bulk_create(batch, batch_size=5000)
    return list(Article.objects.order_by("pk").values_list("pk", flat=True))


def _stores(units: list[PrescribingUnit], article_ids: list[int]) -> int:
    central = StockLocation.objects.create(
        code="bench-central",
        name="Hjälpmedelscentralen",
        kind=LocationKind.CENTRAL,
        region_id=REGION,
    )
    buffers = [
        StockLocation.objects.create(
            code=f"bench-buffer-{n}",
            name=f"Buffertförråd {n}",
            kind=LocationKind.BUFFER,
            region_id=REGION,
            unit=unit.unit,
        )
        for n, unit in enumerate(units[:5])
    ]
    # Every article in the central store (plenty of what orders ask for); a few in buffers.
    levels = [
        StockLevel(
            article_id=pk,
            location=central,
            physical=40 if n < ORDERED_ARTICLES else 5,
            reorder_point=2,
            reorder_quantity=5,
        )
        for n, pk in enumerate(article_ids)
    ]
    levels += [
        StockLevel(article_id=pk, location=buffer, physical=3)
        for buffer in buffers
        for pk in article_ids[:2000]
    ]
    StockLevel.objects.bulk_create(levels, batch_size=5000)
    for n in range(AREAS):
        DeliveryArea.objects.create(
            name=f"Slinga {n + 1}",
            postal_from=f"{20 + n}000",
            postal_to=f"{20 + n}999",
            weekdays=[0, 1, 2, 3, 4],
        )
    return central.pk


def _devices(total: int, article_ids: list[int], store_id: int, patients: list[Patient]) -> None:
    """``total`` devices of the serial-numbered articles, with one server-side statement: about
    half in the central store, the rest lent to patients (in turn) or held by a unit."""
    serial_articles = article_ids[::4]
    patient_ids = [p.pk for p in patients]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO logistics_device (article_id, serial_number, gtin, owner_region_id,
                status, holder_kind, holder_patient_id, holder_unit_id, location_id,
                times_reissued, received_on, lifespan_until, warranty_until, next_service_on,
                created_at, awaiting_reissue)
            SELECT (%(articles)s::bigint[])[1 + n %% cardinality(%(articles)s::bigint[])],
                   'SN' || lpad(n::text, 9, '0'), '', %(region)s,
                   CASE WHEN n %% 2 = 0 THEN 'in_stock' ELSE 'on_loan' END,
                   CASE WHEN n %% 2 = 0 THEN 'store' ELSE 'patient' END,
                   CASE WHEN n %% 2 = 0 THEN NULL
                        ELSE (%(patients)s::bigint[])
                             [1 + (n / 2) %% cardinality(%(patients)s::bigint[])]
                   END,
                   NULL,
                   CASE WHEN n %% 2 = 0 THEN %(store)s ELSE NULL END,
                   n %% 3, DATE '2024-01-01' + (n %% 700), DATE '2032-01-01',
                   DATE '2027-01-01', DATE '2027-03-01', now(), false
            FROM generate_series(1, %(total)s) AS n
            """,
            {
                "articles": serial_articles,
                "patients": patient_ids,
                "region": REGION,
                "store": store_id,
                "total": total,
            },
        )


def _orders(
    line_total: int,
    *,
    store_id: int,
    patients: list[Patient],
    units: list[PrescribingUnit],
    prescribers: list[list[Any]],
    article_ids: list[int],
    rng: random.Random,
) -> tuple[int, int]:
    """Approved prescriptions and their received customer orders, 1-5 lines each, until
    ``line_total`` lines; with their first history rows, as ``order_created`` writes them."""
    today = datetime.date.today()
    promise = today + datetime.timedelta(days=7)
    orders: list[tuple[Patient, PrescribingUnit, Any, list[int]]] = []
    remaining = line_total
    while remaining:
        count = min(remaining, rng.choice((1, 1, 2, 2, 3, 4, 5)))
        remaining -= count
        unit_index = rng.randrange(len(units))
        orders.append(
            (
                patients[len(orders) % len(patients)],
                units[unit_index],
                rng.choice(prescribers[unit_index]),
                rng.sample(article_ids[:ORDERED_ARTICLES], count),
            )
        )
    episodes = CareEpisode.objects.bulk_create(
        CareEpisode(patient=patient, unit=unit, home_region_id=REGION)
        for patient, unit, _p, _a in orders
    )
    prescriptions = Prescription.objects.bulk_create(
        Prescription(
            patient=patient,
            episode=episode,
            prescriber=prescriber,
            unit=unit,
            state="approved",
            patient_protected=patient.is_protected,
            delivery_kind="unit" if patient.is_protected else "patient_address",
            delivery_unit=unit if patient.is_protected else None,
            delivery_contact=prescriber if patient.is_protected else None,
        )
        for (patient, unit, prescriber, _a), episode in zip(orders, episodes, strict=True)
    )
    created = CustomerOrder.objects.bulk_create(
        CustomerOrder(
            number=prescription.reference,
            kind=OrderKind.CUSTOMER,
            prescription=prescription,
            patient=patient,
            unit=unit,
            orderer=prescriber,
            patient_protected=patient.is_protected,
            destination_kind=DestinationKind.UNIT
            if patient.is_protected
            else DestinationKind.PATIENT_ADDRESS,
            delivery_unit=unit if patient.is_protected else None,
            delivery_contact=prescriber if patient.is_protected else None,
            from_location_id=store_id,
            agreement_type=AgreementType.COOPERATION,
            promised_on=promise,
        )
        for (patient, unit, prescriber, _a), prescription in zip(orders, prescriptions, strict=True)
    )
    CustomerOrderTransition.objects.bulk_create(
        CustomerOrderTransition(order=order, from_state="", to_state=OrderState.RECEIVED)
        for order in created
    )
    lines = CustomerOrderLine.objects.bulk_create(
        (
            CustomerOrderLine(
                order=order,
                position=position,
                article_id=article_id,
                quantity=1,
                supply=Supply.RENT,
                promised_on=promise,
            )
            for order, (_p, _u, _r, articles) in zip(created, orders, strict=True)
            for position, article_id in enumerate(articles, start=1)
        ),
        batch_size=5000,
    )
    OrderLineTransition.objects.bulk_create(
        (
            OrderLineTransition(line=line, from_state="", to_state=LineState.RECEIVED)
            for line in lines
        ),
        batch_size=5000,
    )
    return len(created), len(lines)


def _lent_device(
    patients: list[Patient], units: list[PrescribingUnit], prescribers: list[list[Any]]
) -> int:
    """A device lent to an ordinary patient, as the register holds one after delivery: its
    delivered order line and its history from goods receipt to the loan."""
    patient = patients[0]
    device = Device.objects.filter(holder_patient_id=patient.pk).order_by("pk").first()
    assert device is not None
    unit, prescriber = units[0], prescribers[0][0]
    # The orders above may already have opened this patient's episode at this unit (a unit
    # has one open episode per patient): the loan's prescription joins it then.
    episode, _ = CareEpisode.objects.get_or_create(
        patient=patient, unit=unit, closed_at=None, defaults={"home_region_id": REGION}
    )
    prescription = Prescription.objects.create(
        patient=patient, episode=episode, prescriber=prescriber, unit=unit, state="approved"
    )
    day = datetime.date.today() - datetime.timedelta(days=30)
    order = CustomerOrder.objects.create(
        number=prescription.reference,
        kind=OrderKind.CUSTOMER,
        prescription=prescription,
        patient=patient,
        unit=unit,
        orderer=prescriber,
        destination_kind=DestinationKind.PATIENT_ADDRESS,
        from_location_id=device.location_id or StockLocation.objects.get(code="bench-central").pk,
        agreement_type=AgreementType.COOPERATION,
        promised_on=day,
        state=OrderState.DELIVERED,
    )
    CustomerOrderLine.objects.create(
        order=order,
        position=1,
        article_id=device.article_id,
        quantity=1,
        supply=Supply.RENT,
        promised_on=day,
        delivered_on=day,
        state=LineState.DELIVERED,
        device=device,
    )
    steps = [
        ("", DeviceStatus.IN_STOCK),
        (DeviceStatus.IN_STOCK, DeviceStatus.ALLOCATED),
        (DeviceStatus.ALLOCATED, DeviceStatus.ON_LOAN),
    ]
    DeviceEvent.objects.bulk_create(
        DeviceEvent(device=device, from_state=a, to_state=b, note=order.number) for a, b in steps
    )
    return device.pk


def world_build(*, devices: int, articles: int, lines: int, patients: int, seed: int = 10) -> World:
    """The whole volume, committed (the timed part reads it as a user would)."""
    rng = random.Random(seed)
    units, prescribers, worker = _people(rng)
    people = _patients(patients, rng)
    article_ids = _articles(articles)
    store_id = _stores(units, article_ids)
    _devices(devices, article_ids, store_id, people)
    order_count, line_count = _orders(
        lines,
        store_id=store_id,
        patients=people,
        units=units,
        prescribers=prescribers,
        article_ids=article_ids,
        rng=rng,
    )
    lent = _lent_device(people, units, prescribers)
    in_store = Device.objects.filter(status=DeviceStatus.IN_STOCK, holder_kind=HolderKind.STORE)
    stock_device = in_store.order_by("pk").values_list("pk", flat=True).first()
    assert stock_device is not None
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return World(
        store_id=store_id,
        logistics_user=worker,
        lent_device_id=lent,
        stock_device_id=stock_device,
        patients=len(people),
        protected=sum(1 for p in people if p.is_protected),
        orders=order_count,
        lines=line_count,
    )

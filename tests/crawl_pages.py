"""The leak crawl's world and its URLs, shared by the crawl (tests/test_crawl.py, LEAK-1) and the
browser's walk over the same pages (tests/browser/test_every_page.py).

The data: the demo seed (the sample register file with two living protected patients and a
protected deceased one), a relative of a protected patient registered as a patient, a grant
request, a grant and an emergency access, all held by a user who is not crawled.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from patients.demo import demo_seed
from patients.models import Patient, PatientIdentity, PatientRelation
from prescriptions.models import (
    ConsumablePrescription,
    Prescription,
    ReplacementDecision,
    ReplacementGroup,
    ReplacementKind,
    StaffApplication,
)
from prescriptions.services.activity import consultation_activity_create
from prescriptions.services.delivery import prescription_delivery_set
from prescriptions.services.drafts import prescription_draft_start
from prescriptions.services.lines import prescription_line_add
from prescriptions.services.region import special_delivery_agreement_record
from protection.documents.letters import letters_issue
from protection.documents.services import document_job_render, document_request
from protection.documents.summary import SUMMARY_KIND
from protection.models import (
    AccountSuspension,
    DocumentJob,
    EmergencyAccess,
    Grant,
    GrantRequest,
    LocalProtection,
    ReserveNumberProtection,
)
from tests.billing.crawl_world import billing_values
from tests.factories import PatientIdentityFactory, UserFactory
from tests.logistics.crawl_recalls import recall_values
from tests.logistics.crawl_world import LogisticsWorld, logistics_world, quality_world
from tests.personas import ctx_for, give_grant
from tests.prescriptions.factories import (
    ArticleFactory,
    CompetenceAreaFactory,
    PrescriberProfileFactory,
)

PROTECTED_NUMBERS = ("194201199124", "194202269207", "194203109147")
RELATIVE_NUMBER = "194202138014"  # Maria Ek's spouse in the sample file
PASSWORD = "demo-crawl-pw"


def crawl_world(shared_dir: Path) -> dict[str, list[str]]:
    """The crawl's data; returns the values of every URL parameter, and extra query URLs."""
    demo_seed(shared_dir=shared_dir, password=PASSWORD)
    maria = PatientIdentity.objects.get(personal_identity_number="194201199124")
    relative = PatientIdentityFactory(
        personal_identity_number=RELATIVE_NUMBER,
        given_names="Relativus",
        surname="Linkedsson",
        registered_address={"street2": "Hemligvägen 1", "postal_code": "29999", "city": "YSTAD"},
    )
    assert PatientRelation.objects.filter(
        patient=maria.patient, related_identity_number=RELATIVE_NUMBER
    ).exists()
    holder = UserFactory(username="holder", role="prescriber")
    give_grant(holder, maria)
    request = GrantRequest.objects.create(
        patient=maria.patient,
        unit_id=holder.staff_profile.unit_id,
        requested_by=holder,
        case_reference="ÄR-1",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=30),
        reason="crawl",
    )
    request.staff.add(holder)
    EmergencyAccess.objects.create(
        user=holder,
        patient=maria.patient,
        reason="crawl emergency",
        ends_at=timezone.now() + timedelta(minutes=30),
    )
    manager = UserFactory(username="crawl-manager", role="unit_manager")
    local = LocalProtection.objects.create(
        patient=maria.patient,
        unit_id=manager.staff_profile.unit_id,
        decided_by=manager,
        reason="crawl",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=30),
    )
    reserve = ReserveNumberProtection.objects.create(
        patient=maria.patient,
        unit_id=manager.staff_profile.unit_id,
        decided_by=manager,
        reason="crawl",
    )
    # The grant holder's prescription for the protected patient, with a line and a pending
    # replacement: the prescriber's pages answer every crawled role with a 404 or the label.
    prescription = _protected_prescription(holder)
    # PRESC-7: an open consultation activity of the grant holder's unit for her, to book.
    activity = consultation_activity_create(
        ctx=ctx_for(holder, stepped_up=True), patient_reference=maria.patient.reference
    )
    # LEAK-3: a special delivery agreement the draft follows; its content is an address the
    # crawl looks for, and no crawled role may see it.
    agreement = special_delivery_agreement_record(
        ctx=ctx_for(holder, stepped_up=True),
        patient_reference=maria.patient.reference,
        details={"address": "Hemligvägen 1, 29999 YSTAD", "door_code": "Hamngatan"},
    )
    prescription_delivery_set(
        ctx=ctx_for(holder, stepped_up=True),
        reference=prescription.reference,
        kind="special_agreement",
        special_agreement_id=agreement.pk,
    )
    # Documents held by a user who is not crawled: a forwarding letter to a protected patient
    # and a PRINT-2 summary (the log review shows it), rendered.
    letter_job = letters_issue(
        ctx=ctx_for(holder, stepped_up=True),
        patients=[maria.patient],
        template="general",
        subject="Om ditt hjälpmedel",
        body="Crawl letter",
    )
    summary_job = document_request(
        ctx=ctx_for(holder, stepped_up=True),
        kind=SUMMARY_KIND,
        patients=[maria.patient],
        forward_to="Region Halland",
        forward_reason="Överköp vid 20 års ålder",
    )
    for job in (letter_job, summary_job):
        assert document_job_render(job_id=job.pk) == "ready"
    # The logistics floor's goods for her and for an ordinary patient, in every state.
    goods = logistics_world(holder=holder, protected_number="194201199124")
    # QUAL-1, QUAL-2: deviations (one attached to her, the demo's without the person) and an
    # open incident on a device she holds.
    quality_world(holder=holder, protected_number="194201199124")
    # BILL-2, LEAK-4: her patient fee on the manual list; a person invoiced and exported as an
    # ordinary person, then protected (the move, the withdrawal).
    billing = billing_values(protected_number="194201199124")
    references = list(Patient.objects.values_list("reference", flat=True))
    return {
        "reference": [*references, relative.patient.reference],
        "request_id": [str(pk) for pk in GrantRequest.objects.values_list("pk", flat=True)],
        "grant_id": [str(pk) for pk in Grant.objects.values_list("pk", flat=True)],
        "access_id": [str(pk) for pk in EmergencyAccess.objects.values_list("pk", flat=True)],
        # ACCESS-10: the demo's accounts were given their passwords by the seeding.
        "suspension_id": [str(pk) for pk in AccountSuspension.objects.values_list("pk", flat=True)],
        "protection_id": [str(local.pk), str(reserve.pk)],
        # A main article with accessories, a phased-out one with a replacement, an accessory.
        "article_number": ["40101", "40199", "40190"],
        # The draft (no order: a 404 on the order pages) and a few customer orders' numbers
        # (each number is also every prescription page's: all twelve would double the crawl).
        "number": [prescription.reference, *goods.crawled_numbers()],
        "line_id": [str(pk) for pk in prescription.lines.values_list("pk", flat=True)],
        "decision_id": [
            str(pk)
            for pk in ReplacementDecision.objects.filter(
                line__prescription=prescription
            ).values_list("pk", flat=True)
        ],
        "job_id": [str(pk) for pk in DocumentJob.objects.values_list("pk", flat=True)],
        "activity_id": [str(activity.pk)],
        # Consumables (issue 14): the demo's, Karl Lindqvist's test strips with a withdrawal.
        "consumable_number": list(
            ConsumablePrescription.objects.values_list("reference", flat=True)
        ),
        # STAFF-1: the demo's application waiting for the manager, and a missing one.
        "case_number": [
            *StaffApplication.objects.values_list("reference", flat=True),
            "B-MISSING0",
        ],
        **_logistics_values(),
        **recall_values(protected_number="194201199124"),
        **billing,
        **_billing_values(),
        "extra_urls": [
            *_logistics_query_urls(goods),
            *_billing_query_urls(),
            # CAT-2: the public assortment's searches (crawled by every role and anonymously).
            "/assortment/?q=s%C3%A4ng",
            "/assortment/?q=12",
            "/assortment/?q=&area=daily_living",
            # CAT-1: product and agreement search (crawled by every role; denied to most).
            "/catalogue/agreements/search/?q=1",
        ],
    }


def _billing_values() -> dict[str, list[str]]:
    """The billing floor's invoice pages: the world's invoices (the demo's month, when the
    demo holds one) and a missing one (a 404 probe)."""
    from billing.models import Invoice

    found = Invoice.objects.order_by("pk").values_list("pk", flat=True)[:20]
    return {"invoice_id": [*(str(pk) for pk in found), MISSING_ID]}


def _billing_query_urls() -> list[str]:
    """The billing pages that take their selection from the query string."""
    states = ("issued", "sent", "delivered", "rejected")
    return [
        *(f"/billing/outbox/?state={state}" for state in states),
        "/billing/invoices/?kind=credit_note",
        "/billing/invoices/?month=2026-13",
        # BILL-3: the review lists the accounts since the last run; "all" lists every one.
        "/billing/protected-accounts/?show=all",
    ]


MISSING_ID = "999999"  # a 404 probe next to the real objects of each logistics route


def _logistics_values() -> dict[str, list[str]]:
    """The logistics floor's pages: every wave, pick item, package, reservation, device and
    queue of the logistics world, and a missing one of each (a 404 probe)."""
    from logistics.models import (
        AdaptationRecord,
        AdaptationSigningRequest,
        Deviation,
        Device,
        DirectDelivery,
        Incident,
        LossCase,
        Package,
        PickItem,
        PickupOrder,
        PickWave,
        Reservation,
        StockLocation,
        WorkOrder,
    )
    from logistics.selectors.queues import QUEUES

    def ids(model: Any) -> list[str]:
        found = [str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)[:20]]
        assert found, f"the crawl's world has no {model.__name__}"
        return [*found, MISSING_ID]

    return {
        "wave_id": ids(PickWave),
        "item_id": ids(PickItem),
        "package_id": ids(Package),
        "paper": ["label", "note"],
        "pk": ids(Reservation),
        "device_id": ids(Device),
        "delivery_id": ids(DirectDelivery),
        # PRESC-6: the demo's and the crawl world's signing requests, the signed adaptation and
        # their work orders.
        "signing_id": ids(AdaptationSigningRequest),
        "record_id": ids(AdaptationRecord),
        "work_order_id": ids(WorkOrder),
        # PRESC-9, DEVICE-4: pickup orders (a protected patient's at the unit), loss cases.
        "pickup_id": ids(PickupOrder),
        "case_id": ids(LossCase),
        "deviation_id": ids(Deviation),
        "incident_id": ids(Incident),
        "slug": [*(queue.slug for queue in QUEUES), "no-such-queue"],
        # The stock pages' stores; their article_number and purchase order number take the
        # catalogue's and the prescription's sample values above (404 where they do not fit).
        "code": list(StockLocation.objects.values_list("code", flat=True)[:5]) or ["central"],
    }


def _logistics_query_urls(goods: LogisticsWorld) -> list[str]:
    """The logistics pages that take their object from the query string: the routes of each
    day the packages go out, the device search (a serial opens the card by a redirect), and
    KPI-1's missed lines of the month the protected patient's order missed its promise."""
    from logistics.models import Device
    from logistics.selectors.kpi import AGREEMENTS, KINDS

    urls = [f"/logistics/routes/?day={day.isoformat()}" for day in sorted(goods.route_days)]
    for serial, article_number in Device.objects.filter(
        order_lines__order__in=goods.all_orders()
    ).values_list("serial_number", "article__article_number")[:4]:
        urls += [
            f"/logistics/devices/?serial={serial}",
            f"/logistics/devices/?article={article_number}",
        ]
    urls += [f"/logistics/pickups/?queue={queue}" for queue in ("to-plan", "on-route", "overdue")]
    urls += ["/logistics/losses/?state=reported", "/logistics/losses/?state=debited"]
    urls += [
        f"/logistics/kpi/missed/?month={goods.missed_month}&kind={kind}&agreement={agreement.value}"
        for kind in KINDS
        for agreement in AGREEMENTS
    ]
    return urls


def _protected_prescription(holder: Any) -> Prescription:
    """A draft for Maria Ek by the grant holder (stepped up), with one out-of-stock article
    whose optional group proposes a replacement (PRESC-8)."""
    maria = Patient.objects.get(identity__personal_identity_number="194201199124")
    PrescriberProfileFactory(user=holder, competences=[CompetenceAreaFactory()])
    group = ReplacementGroup.objects.create(code="G-CRAWL", kind=ReplacementKind.OPTIONAL)
    wanted = ArticleFactory(replacement_group=group, out_of_stock=True)
    ArticleFactory(replacement_group=group)
    ctx = ctx_for(holder, stepped_up=True)
    prescription = prescription_draft_start(ctx=ctx, patient_reference=maria.reference)
    prescription_line_add(ctx=ctx, reference=prescription.reference, article_id=wanted.pk)
    return prescription


def site_urls(values: dict[str, list[str]]) -> list[str]:
    """Every non-admin route, with every known value for each parameter."""
    urls: list[str] = []

    def walk(patterns: Any, prefix: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                if route.startswith("admin/") or route.startswith("i18n/"):
                    continue
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern):
                expand(prefix + route)

    def expand(route: str) -> None:
        match = re.search(r"<(?:\w+:)?(\w+)>", route)
        if match is None:
            urls.append("/" + route)
            return
        name = match.group(1)
        assert name in values, f"the crawl needs values for <{name}> in {route}"
        for value in values[name]:
            expand(route[: match.start()] + value + route[match.end() :])

    walk(get_resolver().url_patterns, "")
    return urls


def admin_urls() -> list[str]:
    urls = ["/admin/"]
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls += [base, base + "add/"]
        for number in PROTECTED_NUMBERS:
            urls.append(f"{base}?q={number}")
        for pk in model._default_manager.values_list("pk", flat=True)[:25]:
            urls += [f"{base}{pk}/change/", f"{base}{pk}/history/", f"{base}{pk}/delete/"]
    return urls

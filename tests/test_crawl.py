"""LEAK-1: crawl every URL of the project as every demo role and search every search form with
the protected personnummer; no name, personnummer (any format) or address of a protected
patient or of a person linked to one may appear in a response, a redirect or a log line.

The data and the URLs: tests/crawl_pages.py, which the browser's walk over the same pages
shares (tests/browser/test_every_page.py).
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from patients.demo import DEMO_USERS
from patients.models import Patient
from protection.documents.services import document_job_render
from protection.models import DocumentJob
from tests.crawl_pages import (
    PASSWORD,
    PROTECTED_NUMBERS,
    RELATIVE_NUMBER,
    admin_urls,
    crawl_world,
    site_urls,
)

pytestmark = pytest.mark.django_db

WORDS = ("Maria", "Ek", "Eva", "Holm", "Ingrid", "Sjöberg", "Relativus", "Linkedsson")
ADDRESSES = ("Hamngatan", "HELSINGBORG", "25225", "Hemligvägen", "29999")


def number_forms(canonical: str) -> list[str]:
    short = canonical[2:]
    return [canonical, f"{canonical[:8]}-{canonical[8:]}", short, f"{short[:6]}-{short[6:]}"]


SECRET_STRINGS = [
    form for n in (*PROTECTED_NUMBERS, RELATIVE_NUMBER) for form in number_forms(n)
] + list(ADDRESSES)
SECRET_WORDS = re.compile(r"\b(" + "|".join(WORDS) + r")\b")


def leaks(text: str) -> list[str]:
    found = [secret for secret in SECRET_STRINGS if secret in text]
    found += SECRET_WORDS.findall(text)
    return found


@pytest.fixture
def world(shared_dir) -> dict[str, list[str]]:
    return crawl_world(shared_dir)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def response_text(response: Any) -> str:
    """What a user reads in a response: the page, or a PDF's text (the goods papers)."""
    content_type = response.get("Content-Type", "")
    if content_type.startswith("text/"):
        return str(response.content.decode())
    if content_type.startswith("application/pdf"):
        return pdf_text(response.content)
    return ""


def crawl_as(client: Client, urls: list[str]) -> list[str]:
    problems: list[str] = []
    for url in urls:
        response = client.get(url)
        where = f"{url} [{response.status_code}]"
        problems += [f"{where}: {s}" for s in leaks(response.get("Location", ""))]
        problems += [f"{where}: {s}" for s in leaks(response_text(response))]
    for number in (*PROTECTED_NUMBERS, RELATIVE_NUMBER):
        for typed in number_forms(number):
            response = client.post("/", {"number": typed})
            problems += [f"search {typed}: {s}" for s in leaks(response.content.decode())]
    return problems


def test_leak_1_no_page_shows_a_protected_identity_to_any_demo_role(world, client, caplog):
    caplog.set_level(logging.DEBUG)
    pages = site_urls(world) + world["extra_urls"]
    # The site's own URLs carry ids and numbers, never the person (the admin's search probes
    # below type her number on purpose).
    problems: list[str] = [f"url {url}: {s}" for url in pages for s in leaks(url)]
    urls = pages + admin_urls()
    assert len(urls) > 50
    for demo in DEMO_USERS:
        client.logout()
        # Through the login page: django-axes needs the request a real login has.
        client.post("/accounts/login/", {"username": demo.username, "password": PASSWORD})
        # Step-up done, so that only the missing grant stands between the user and the patient.
        client.post("/protection/step-up/", {"password": PASSWORD})
        problems += [f"{demo.username} {p}" for p in crawl_as(client, urls)]
    client.logout()
    problems += [f"anonymous {p}" for p in crawl_as(client, urls)]
    problems += [f"log: {s}" for record in caplog.records for s in leaks(record.getMessage())]
    assert problems == []


def test_the_crawl_would_see_a_leak(world, client):
    """The crawl is not blind: the grant holder, stepped up, does see the protected patient."""
    client.post("/accounts/login/", {"username": "holder", "password": "pw-for-tests-only"})
    client.post("/protection/step-up/", {"password": "pw-for-tests-only"})
    maria = Patient.objects.get(identity__personal_identity_number="194201199124")
    assert leaks(client.get(f"/patients/{maria.reference}/").content.decode())


PROTECTION_MARKERS = ("skydd", "sekretess", "protected")


def test_print_1_the_logistics_role_gets_the_protected_patients_goods_papers_without_her(
    world, client
):
    """PRINT-1, LEAK-5, LEAK-1: the demo logistics user asks for the wave's pick list and the
    protected patient's package label and delivery note (the pages' buttons, their redirects)
    and downloads the PDFs the worker renders: the order number is on them; her name, number,
    address, birth year and that the order concerns protected identity are not."""
    from logistics.models import Package, PackageState, PickWave
    from protection.models import DocumentRoute

    maria = Patient.objects.get(identity__personal_identity_number=PROTECTED_NUMBERS[0])
    package = Package.objects.select_related("order").get(
        order__patient=maria, state=PackageState.PACKED
    )
    wave = PickWave.objects.get()
    client.post("/accounts/login/", {"username": "logistics", "password": PASSWORD})
    before = set(DocumentJob.objects.values_list("pk", flat=True))
    problems: list[str] = []
    for url, data in (
        (f"/logistics/waves/{wave.pk}/pick-list/", {}),
        (f"/logistics/packages/{package.pk}/label/", {"back": "/logistics/pack/"}),
        (f"/logistics/packages/{package.pk}/note/", {"back": "/logistics/pack/"}),
    ):
        response = client.post(url, data, follow=True)
        assert response.redirect_chain, url
        for location, _status in response.redirect_chain:
            problems += [f"{url} -> {location}: {s}" for s in leaks(location)]
        problems += [f"{url}: {s}" for s in leaks(response.content.decode())]
    jobs = list(
        DocumentJob.objects.exclude(pk__in=before).filter(
            subjects__patient=maria, subjects__route=DocumentRoute.IDENTITY_FREE
        )
    )
    assert len(jobs) == 3, [job.kind for job in jobs]
    birth_year = str(maria.birth_year)
    for job in jobs:
        assert document_job_render(job_id=job.pk) == "ready"
        response = client.get(f"/protection/documents/{job.pk}/pdf/")
        assert response["Content-Type"] == "application/pdf", (job.kind, response.status_code)
        assert f"document-{job.pk}.pdf" in response["Content-Disposition"]
        text = pdf_text(response.content)
        assert package.order.number in "".join(text.split()), job.kind
        problems += [f"{job.kind}: {s}" for s in leaks(text)]
        # The papers' own dates are this century; the birth year is not on them.
        assert birth_year not in re.sub(r"20\d\d-\d\d-\d\d", "", text), job.kind
        problems += [f"{job.kind}: {m}" for m in PROTECTION_MARKERS if m in text.lower()]
    assert problems == []


def test_the_crawl_opens_the_protected_patients_goods_as_logistics(world, client):
    """The crawl is not blind on the logistics floor: the demo logistics user is shown the
    protected patient's order, wave, device card, failed delivery and route with real objects
    (LEAK-5: by the order number), so the crawl reads real pages there, not refusals."""
    from logistics.models import CustomerOrder, Device, Package, PackageState, PickWave

    maria = Patient.objects.get(identity__personal_identity_number=PROTECTED_NUMBERS[0])
    orders = CustomerOrder.objects.filter(patient=maria)
    failed = Package.objects.get(order__in=orders, state=PackageState.FAILED)
    device = Device.objects.get(order_lines__order__in=orders, order_lines__state="delivered")
    client.post("/accounts/login/", {"username": "logistics", "password": PASSWORD})
    for url in (
        f"/logistics/orders/{failed.order.number}/",
        f"/logistics/waves/{PickWave.objects.get().pk}/",
        f"/logistics/devices/{device.pk}/",
        "/logistics/deliveries/failed/",
        f"/logistics/routes/?day={failed.delivery_on.isoformat()}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert leaks(response.content.decode()) == [], url
    assert failed.order.number in client.get("/logistics/deliveries/failed/").content.decode()

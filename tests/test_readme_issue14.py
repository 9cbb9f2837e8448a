"""README.md, "Staff, the catalogue, consumables and the phone desk (issue 14)", word for word
against ``seed_demo``: each numbered step is followed with the test client as the demo user it
names, and every word the step sets in italics must be on the pages the step passes. A renamed
button or a demo that no longer holds what the README promises fails here (STAFF-1, STAFF-3,
CAT-1, CAT-2)."""

from __future__ import annotations

import datetime
import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from patients.models import Patient
from prescriptions.models import (
    AgreementRow,
    Article,
    AssortmentPeriod,
    ConsumablePrescription,
    PrescribingUnit,
    StaffApplication,
    StaffApplicationState,
)
from protection.rls import PatientIdForNumber

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "### Staff, the catalogue, consumables and the phone desk (issue 14)"
DEMO_UNIT = "SE2321000255-DEMO01"  # Rehabenheten Malmö, the unit manager's unit
KARL = "194201077098"
LANCETS = "51002"


def readme_steps() -> dict[int, list[str]]:
    """The section's numbered steps, each as the phrases it sets in italics (bold removed)."""
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, "README.md lost the issue 14 section"
    section = text.split(SECTION, 1)[1].split("\n### ", 1)[0]
    steps: dict[int, list[str]] = {}
    for match in re.finditer(r"^(\d+)\. (.*?)(?=^\d+\. |\Z)", section, re.M | re.S):
        body = re.sub(r"\*\*[^*]+\*\*", "", match.group(2))
        steps[int(match.group(1))] = [
            " ".join(phrase.split()) for phrase in re.findall(r"\*([^*]+)\*", body)
        ]
    return steps


def words(response: Any) -> str:
    """The page as a reader sees it: the text without tags, entities read, spaces collapsed."""
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def missing(step: int, pages: list[str]) -> list[str]:
    seen = " ".join(pages)
    return [phrase for phrase in readme_steps()[step] if phrase not in seen]


@pytest.fixture
def demo(shared_dir: Path) -> None:
    call_command("seed_demo", "--shared", str(shared_dir), stdout=io.StringIO())


def test_readme_issue_14_has_the_six_steps_with_words_to_check() -> None:
    steps = readme_steps()
    assert sorted(steps) == [1, 2, 3, 4, 5, 6]
    assert all(steps.values())


def test_readme_issue_14_step_1_staff_applications(demo: None) -> None:
    """STAFF-1 as the README tells it: an application sent, the demo's application confirmed
    by the manager, one sent on someone's behalf, and the confirmed one approved."""
    unit = PrescribingUnit.objects.get(unit__hsa_id=DEMO_UNIT)
    pages = []
    billing = as_user("billing")
    pages.append(words(billing.get("/staff/apply/")))
    sent = billing.post(
        "/staff/apply/",
        {
            "authorisation": "unit_orderer",
            "unit": unit.pk,
            "hsa_id": "SE2321000255-U008",
            "title": "Undersköterska",
        },
        follow=True,
    )
    pages.append(words(sent))
    own = StaffApplication.objects.get(applicant__username="billing")
    assert own.reference in pages[-1]

    manager = as_user("unit_manager")
    pages.append(words(manager.get("/staff/applications/")))
    demo_application = StaffApplication.objects.get(applicant__username="technician")
    assert demo_application.reference in pages[-1]
    assert "Tea Tekniker" in pages[-1]
    url = f"/staff/applications/{demo_application.reference}/"
    pages.append(words(manager.get(url)))
    assert manager.post(url, {"action": "confirm"}).status_code == 302
    pages.append(words(manager.get("/staff/apply/")))
    petra = get_user_model().objects.get(username="prescriber")
    on_behalf = manager.post(
        "/staff/apply/",
        {
            "applicant": petra.pk,
            "authorisation": "unit_orderer",
            "unit": unit.pk,
            "hsa_id": petra.staff_profile.hsa_id,
            "title": "Arbetsterapeut",
        },
    )
    assert on_behalf.status_code == 302
    sent_for = StaffApplication.objects.get(applicant=petra)
    assert sent_for.applied_by.username == "unit_manager"
    pages.append(words(manager.get(f"/staff/applications/{sent_for.reference}/")))

    service = as_user("customer_service")
    pages.append(words(service.get("/staff/applications/")))
    pages.append(words(service.get(url)))
    assert service.post(url, {"action": "approve"}).status_code == 302
    demo_application.refresh_from_db()
    assert demo_application.state == StaffApplicationState.APPROVED
    assert missing(1, pages) == []


def test_readme_issue_14_step_2_competence(demo: None) -> None:
    page = words(as_user("unit_manager").get("/staff/competence/"))
    assert "Petra Arbetsterapeut" in page
    assert missing(2, [page]) == []


def test_readme_issue_14_step_3_agreements(demo: None) -> None:
    owner = as_user("agreement_owner")
    pages = [words(owner.get("/catalogue/agreements/"))]
    assert "AVT-2026-DEMO" in pages[0]
    assert "40171" in pages[0]
    pending = AgreementRow.objects.get(article_number="40170")
    approved = owner.post(
        "/catalogue/agreements/",
        {"decision-row": pending.pk, "decision-decision": "approve"},
        follow=True,
    )
    pages.append(words(approved))
    article = Article.objects.get(article_number="40170")
    assert not article.in_assortment
    # The history names the approval, by the owner's name.
    assert "Åsa Avtalsägare" in pages[-1]
    pages.append(words(as_user("supplier_user").get("/catalogue/agreement-rows/")))
    assert missing(3, pages) == []


def test_readme_issue_14_step_4_the_assortment(demo: None) -> None:
    """CAT-1, CAT-2: a publication from a later day is not in the public assortment today."""
    publisher = as_user("assortment_owner")
    bed = Article.objects.filter(article_number__startswith="401", in_assortment=True).first()
    assert bed is not None
    bed.in_assortment = False
    bed.save(update_fields=["in_assortment"])
    pages = [words(publisher.get("/catalogue/assortment/"))]
    assert bed.article_number in pages[0]
    later = timezone.localdate() + datetime.timedelta(days=7)
    response = publisher.post(
        "/catalogue/assortment/",
        {"article_number": bed.article_number, "action": "publish", "on": later.isoformat()},
    )
    assert response.status_code == 302
    assert AssortmentPeriod.objects.get(article=bed).published_from == later

    public = Client()
    search = words(public.get("/assortment/", {"q": "säng"}))
    pages.append(search)
    assert bed.name not in search
    assert public.get(f"/assortment/{bed.article_number}/").status_code == 404
    shown = (
        Article.objects.filter(name__startswith="Säng", in_assortment=True)
        .exclude(pk=bed.pk)
        .first()
    )
    assert shown is not None
    assert shown.name in search
    pages.append(words(public.get(f"/assortment/{shown.article_number}/")))
    pages.append(words(as_user("catalogue_role_assigner").get("/catalogue/roles/")))
    assert missing(4, pages) == []


def test_readme_issue_14_steps_5_and_6_consumables_and_the_phone_desk(demo: None) -> None:
    karl = Patient.objects.get(pk=PatientIdForNumber(KARL))
    lancets = Article.objects.get(article_number=LANCETS)
    prescriber = as_user("prescriber")
    pages = [words(prescriber.get(f"/patients/{karl.reference}/"))]
    new_url = f"/prescriptions/patients/{karl.reference}/consumables/new/"
    pages.append(words(prescriber.get(new_url)))
    today = timezone.localdate()
    created = prescriber.post(
        new_url,
        {
            "article": lancets.pk,
            "quantity_per_period": 2,
            "period_months": 1,
            "valid_from": today.isoformat(),
            "valid_to": (today + datetime.timedelta(days=300)).isoformat(),
            "need": "Typ 1-diabetes, stick fyra gånger om dagen.",
        },
    )
    assert created.status_code == 302, words(created)
    made = ConsumablePrescription.objects.get(article=lancets)

    service = as_user("customer_service")
    desk = words(service.get("/prescriptions/phone/"))
    pages.append(desk)
    found = service.post("/prescriptions/phone/", {"consumable_number": made.reference})
    assert found.status_code == 302
    detail_url = f"/prescriptions/consumables/{made.reference}/"
    pages.append(words(service.get(detail_url)))
    assert service.post(detail_url, {"quantity": 2}).status_code == 302
    assert made.withdrawals.get().order is not None
    assert missing(5, pages) == []

    steps_6 = [words(service.get(f"/patients/{karl.reference}/"))]
    steps_6.append(words(service.get(f"/prescriptions/phone/patients/{karl.reference}/")))
    steps_6.append(words(service.get("/prescriptions/phone/")))
    assert missing(6, steps_6) == []

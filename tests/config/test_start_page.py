"""Each role lands on its work (issue 15): ``/start/`` shows the queues and counts each floor
registers for the user, never "No access"; counts are cheap (query count pinned per role) and
name no patient (ACCESS-1)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from patients.demo import DEMO_USERS
from patients.models import Notification
from patients.startpage import StartItem, StartSection, start_section_register, start_sections
from protection.models import EmergencyAccess, GrantRequest
from tests.factories import UserFactory
from tests.personas import PROTECTED_NUMBER, give_grant, logged_in

pytestmark = pytest.mark.django_db


def demo_user(username: str) -> Any:
    """A user as ``patients.demo`` makes them: the role's group and a unit; ``admin`` is the
    superuser (staff, no role)."""
    demo = next(user for user in DEMO_USERS if user.username == username)
    user = UserFactory(username=username, role=demo.role, first_name="Demo", last_name=username)
    if demo.role is None:
        get_user_model().objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)
        user.refresh_from_db()
    elif demo.role in ("customer_service", "protection_admin"):
        get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
        user.refresh_from_db()
    return user


def items_on(html: str) -> dict[str, str]:
    """The start page's items: label -> count ("" for a link without a count)."""
    main = html[html.index('<main id="main"') :]
    item = (
        r'<li><a class="aksel-link" href="[^"]*">'
        r"([^<:]+)(?::\s*<strong>(\d+)</strong>)?</a></li>"
    )
    found = re.findall(item, main)
    return {unescape(label).strip(): count for label, count in found}


# What each demo role finds on its start page (a few items each, in English).
EXPECTED = {
    "prescriber": ["Find patient", "Drafts", "Waiting for the home region's agreement",
                   "The unit's open orders", "Unread messages", "Documents ready (last 7 days)",
                   "Documents failed or refused (last 7 days)", "Safety notices",
                   "My patients holding notice articles"],
    "prescriber2": ["Find patient", "Drafts", "Unread messages"],
    "customer_service": ["Find patient", "Quarantined register records to handle", "Fault report",
                         "Unread messages", "Search the catalogue", "Administration",
                         "Consumable prescriptions open for a withdrawal",
                         "Report a deviation", "Deviations to handle", "Open incidents",
                         "Applications waiting for you"],
    "logistics": ["The store's queues", "Order lines to allocate", "Late (promise passed)",
                  "Search the device register", "Unread messages", "Safety notices",
                  "Safety notice campaigns"],
    "technician": ["The workshop's queue", "Adaptations waiting for the prescriber's signature",
                   "Search the device register", "Search the catalogue", "Unread messages",
                   "Report a deviation", "Open incidents", "Safety notices"],
    "unit_manager": ["Find patient", "The unit's access requests waiting for a decision",
                     "Grants ending within 14 days", "Local protections ending within 14 days",
                     "Emergency accesses to review", "Unread messages",
                     "Applications waiting for you"],
    "protection_admin": ["Access requests to decide", "Emergency accesses to review",
                         "Unread messages", "Administration"],
    "assortment_owner": ["Search the catalogue", "Prescribing follow-up", "Unread messages",
                         "Publish the assortment"],
    "agreement_owner": ["Search the catalogue", "Agreement rows waiting for your decision",
                        "Unread messages"],
    "supplier_user": ["Register agreement rows", "Unread messages"],
    "catalogue_role_assigner": ["Catalogue roles", "Unread messages"],
    "billing": ["Last month is not yet invoiced (preview and issue it)",
                "Invoices waiting to be sent", "Invoices rejected by the receiver",
                "Lapsed claims", "Invoices and credit notes", "Patient invoices",
                "Losses per care unit",
                "Manual invoicing", "Accounts that became protected", "Finance exports",
                "Unread messages"],
    "admin": ["Find patient", "Quarantined register records to handle", "Unread messages",
              "Administration"],
}  # fmt: skip


@pytest.mark.parametrize("username", [user.username for user in DEMO_USERS])
def test_every_demo_role_lands_on_a_start_page_of_its_own_work(client: Client, username: str):
    assert set(EXPECTED) == {user.username for user in DEMO_USERS}
    logged_in(client, demo_user(username))
    response = client.get("/start/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No access" not in html
    items = items_on(html)
    missing = [label for label in EXPECTED[username] if label not in items]
    assert missing == [], items


# Pinned query counts of the start page per role: the session and the user, the permissions
# (asked once, then cached on the user), then one query per count (the store's queues are one
# query for all). A new section adds its queries here.
QUERIES = {
    "prescriber": 12,  # + safety notices (2) and the adaptations to sign (issue 11)
    "prescriber2": 12,
    # + notices, deviations to handle, loss cases (issue 11), applications to decide (STAFF-1);
    # the phone desk's counts (issue 14: the consumables open for a withdrawal, today's phone
    # orders and withdrawals in one)
    "customer_service": 15,
    "logistics": 10,  # + notices, the pickup queue's counts and the loss cases (issue 11)
    "technician": 8,
    "unit_manager": 12,  # + applications to confirm (STAFF-1)
    "protection_admin": 8,
    "assortment_owner": 6,
    "agreement_owner": 7,  # + the rows waiting for the owner's decision (CAT-1)
    "supplier_user": 6,
    "catalogue_role_assigner": 6,
    "billing": 9,
    "admin": 5,
}


@pytest.mark.parametrize("username", [user.username for user in DEMO_USERS])
def test_the_start_page_s_queries_are_pinned_per_role(
    client: Client, username: str, django_assert_num_queries: Any
):
    logged_in(client, demo_user(username))
    with django_assert_num_queries(QUERIES[username]):
        assert client.get("/start/").status_code == 200


def test_the_counts_are_exact_and_name_no_protected_patient(client: Client, protected: Any):
    """ACCESS-1, ACCESS-3, ACCESS-7: the protection administrator's and the unit manager's
    counts of a protected patient's request and emergency access; the start page shows counts
    and links only, no name, number or reference."""
    admin = demo_user("protection_admin")
    manager = demo_user("unit_manager")
    holder = UserFactory(username="holder", role="prescriber", unit=manager.staff_profile.unit)
    give_grant(holder, protected)
    request = GrantRequest.objects.create(
        patient=protected.patient,
        unit_id=manager.staff_profile.unit_id,
        requested_by=manager,
        case_reference="ÄR-1",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=30),
        reason="start page",
    )
    request.staff.add(holder)
    EmergencyAccess.objects.create(
        user=holder, patient=protected.patient, reason="acute", ends_at=timezone.now()
    )
    Notification.objects.create(user=admin, subject="Ärende 1")
    Notification.objects.create(user=admin, subject="Ärende 2", read_at=timezone.now())

    html = logged_in(client, admin).get("/start/").content.decode()
    items = items_on(html)
    assert items["Access requests to decide"] == "1"
    assert items["Emergency accesses to review"] == "1"
    assert items["Unread messages"] == "1"
    for secret in ("Hemlig", "Gömdasson", PROTECTED_NUMBER, protected.patient.reference):
        assert secret not in html

    manager_client = logged_in(Client(), manager)
    html = manager_client.get("/start/").content.decode()
    items = items_on(html)
    assert items["The unit's access requests waiting for a decision"] == "1"
    # The link leads to the unit's grants, where the waiting request is listed.
    grants = manager_client.get("/protection/grants/").content.decode()
    assert "ÄR-1" in grants
    assert "Hemlig" not in grants
    assert items["Emergency accesses to review"] == "1"
    # The grant ends in 30 days: not within the 14-day horizon.
    assert items["Grants ending within 14 days"] == "0"
    for secret in ("Hemlig", "Gömdasson", PROTECTED_NUMBER, protected.patient.reference):
        assert secret not in html


def test_a_grant_ending_within_14_days_is_counted_for_the_unit_manager(
    client: Client, protected: Any
):
    manager = demo_user("unit_manager")
    colleague = UserFactory(username="kollega", role="prescriber", unit=manager.staff_profile.unit)
    give_grant(colleague, protected, days=10)
    items = items_on(logged_in(client, manager).get("/start/").content.decode())
    assert items["Grants ending within 14 days"] == "1"


def test_a_safe_next_wins_and_an_unsafe_one_is_ignored(client: Client) -> None:
    logged_in(client, demo_user("logistics"))
    response = client.get("/start/?next=/logistics/kpi/")
    assert response.status_code == 302
    assert response["Location"] == "/logistics/kpi/"
    response = client.get("/start/?next=https://evil.example/")
    assert response.status_code == 200


def test_denied_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get("/start/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_login_lands_on_the_start_page(client: Client) -> None:
    UserFactory(username="bo", role="billing")
    response = client.post(
        "/accounts/login/", {"username": "bo", "password": "pw-for-tests-only"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/start/"
    assert response.status_code == 200


def test_a_section_not_for_the_user_is_left_out_and_registering_twice_replaces(
    client: Client,
) -> None:
    """The registry: ``None`` leaves a section out; the same key registered again replaces the
    earlier one (``ready`` may run twice), so the page does not show it twice."""
    before = list(start_sections)
    try:
        section = StartSection(
            "probe", "Probe", 1, lambda user: [StartItem("Probe item", "/messages/", 3)]
        )
        start_section_register(section)
        start_section_register(section)
        start_section_register(StartSection("hidden", "Hidden", 2, lambda user: None))
        html = logged_in(client, demo_user("billing")).get("/start/").content.decode()
        assert html.count("Probe item") == 1
        assert "Hidden" not in html
    finally:
        start_sections[:] = before

"""The pages of staff applications (STAFF-1) and competence decisions (STAFF-3), each with its
denied test."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from prescriptions.models import (
    CompetenceDecision,
    CompetenceRegistration,
    PrescriberProfile,
    StaffApplication,
    StaffApplicationState,
)
from protection.models import AccountEvent, AccountEventKind
from tests.factories import UnitFactory, UserFactory
from tests.prescriptions.conftest import article
from tests.prescriptions.factories import PrescribingUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit() -> Any:
    return PrescribingUnitFactory(unit__name="Rehab Öster")


@pytest.fixture
def manager(unit: Any) -> Any:
    return UserFactory(username="ulla", first_name="Ulla", role="unit_manager", unit=unit.unit)


@pytest.fixture
def account_admin() -> Any:
    return UserFactory(username="kim", first_name="Kim", role="customer_service")


@pytest.fixture
def applicant(unit: Any) -> Any:
    return UserFactory(username="nils", first_name="Nils", last_name="Nyström", unit=unit.unit)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_1_apply_confirm_approve_through_the_pages(
    applicant: Any, unit: Any, manager: Any, account_admin: Any
) -> None:
    as_applicant = logged_in(applicant)
    # A mistake keeps what was typed and names the field.
    response = as_applicant.post(
        reverse("staff:apply"),
        {"authorisation": "personal_health", "unit": unit.pk, "hsa_id": "SE2321000255-N001"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="SE2321000255-N001"' in page
    assert 'id="id_title_error"' in page
    response = as_applicant.post(
        reverse("staff:apply"),
        {
            "authorisation": "personal_health",
            "unit": unit.pk,
            "hsa_id": "SE2321000255-N001",
            "title": "Arbetsterapeut",
            "einvoice_access": "on",
        },
    )
    assert response.status_code == 302
    application = StaffApplication.objects.get()
    assert application.einvoice_access

    as_manager = logged_in(manager)
    queue = as_manager.get(reverse("staff:queue")).content.decode()
    assert application.reference in queue
    assert "Nils Nyström" in queue
    url = reverse("staff:application", args=[application.reference])
    assert as_manager.post(url, {"action": "confirm"}).status_code == 302

    as_admin = logged_in(account_admin)
    assert application.reference in as_admin.get(reverse("staff:queue")).content.decode()
    assert as_admin.post(url, {"action": "approve"}).status_code == 302
    application.refresh_from_db()
    assert application.state == StaffApplicationState.APPROVED
    # ACCESS-10: the role change is on record, made by the administrator who approved.
    event = AccountEvent.objects.filter(subject=applicant, kind=AccountEventKind.GROUPS).get()
    assert event.actor_id == account_admin.pk
    page = as_applicant.get(url).content.decode()
    assert "Ulla" in page
    assert "Kim" in page


def test_staff_1_refusal_needs_a_reason_on_the_page(
    applicant: Any, unit: Any, manager: Any
) -> None:
    application = StaffApplication.objects.create(
        applicant=applicant,
        applied_by=applicant,
        unit=unit,
        authorisation="unit_orderer",
        hsa_id="X-1",
        title="T",
    )
    url = reverse("staff:application", args=[application.reference])
    response = logged_in(manager).post(url, {"action": "refuse", "reason": ""})
    assert response.status_code == 400
    assert 'id="id_reason_error"' in response.content.decode()
    assert (
        logged_in(manager).post(url, {"action": "refuse", "reason": "Fel enhet"}).status_code == 302
    )
    application.refresh_from_db()
    assert application.state == StaffApplicationState.REFUSED


def test_staff_1_denied_the_queue_and_someone_elses_application(
    applicant: Any, unit: Any, manager: Any
) -> None:
    application = StaffApplication.objects.create(
        applicant=applicant,
        applied_by=applicant,
        unit=unit,
        authorisation="unit_orderer",
        hsa_id="X-1",
        title="T",
    )
    outsider = UserFactory(username="ove", role="prescriber", unit=UnitFactory())
    other_manager = UserFactory(username="otto", role="unit_manager", unit=UnitFactory())
    assert logged_in(outsider).get(reverse("staff:queue")).status_code == 403
    url = reverse("staff:application", args=[application.reference])
    for user in (outsider, other_manager):
        assert logged_in(user).get(url).status_code == 404
        assert logged_in(user).post(url, {"action": "confirm"}).status_code == 404
    # The applicant sees their application but has no buttons to decide it.
    page = logged_in(applicant).get(url).content.decode()
    assert 'value="confirm"' not in page
    assert 'value="approve"' not in page
    assert logged_in(applicant).post(url, {"action": "confirm"}).status_code == 400
    assert Client().get(url).status_code == 302
    assert Client().get(reverse("staff:apply")).status_code == 302
    application.refresh_from_db()
    assert application.state == StaffApplicationState.SUBMITTED


def test_staff_3_the_manager_decides_a_level_on_the_page(unit: Any, manager: Any) -> None:
    prescriber = UserFactory(
        username="petra", first_name="Petra", role="prescriber", unit=unit.unit
    )
    profile = PrescriberProfile.objects.create(user=prescriber, authorisation="personal_health")
    profile.units.add(unit)
    area = article().product_area.competence_area
    client = logged_in(manager)
    assert "Petra" in client.get(reverse("staff:competence")).content.decode()
    response = client.post(
        reverse("staff:competence"),
        {
            "prescriber": profile.pk,
            "competence_area": area.pk,
            "level": "basic",
            "decided_on": "2026-01-10",
        },
    )
    # The first decision for an area needs the training date: named next to its field.
    assert response.status_code == 400
    assert 'id="id_trained_on_error"' in response.content.decode()
    response = client.post(
        reverse("staff:competence"),
        {
            "prescriber": profile.pk,
            "competence_area": area.pk,
            "level": "basic",
            "decided_on": "2026-01-10",
            "trained_on": "2026-01-05",
        },
    )
    assert response.status_code == 302
    assert CompetenceRegistration.objects.get(prescriber=profile).level == "basic"
    assert CompetenceDecision.objects.get().decided_by == manager


def test_staff_3_denied_the_competence_page_for_others(unit: Any) -> None:
    prescriber = UserFactory(username="petra", role="prescriber", unit=unit.unit)
    assert logged_in(prescriber).get(reverse("staff:competence")).status_code == 403
    assert logged_in(prescriber).post(reverse("staff:competence"), {}).status_code == 403


def test_staff_1_a_manager_applies_on_behalf_on_the_page(
    applicant: Any, unit: Any, manager: Any
) -> None:
    """STAFF-1: the manager's form offers the people of the unit by name; the application is the
    person's, shows who sent it, and waits in the manager's queue to be confirmed as any other.
    A person who is not a manager gets no such choice, and a posted one is not obeyed."""
    as_manager = logged_in(manager)
    form = as_manager.get(reverse("staff:apply")).content.decode()
    assert 'name="applicant"' in form
    assert f'<option value="{applicant.pk}">Nils Nyström</option>' in form
    response = as_manager.post(
        reverse("staff:apply"),
        {
            "applicant": applicant.pk,
            "authorisation": "unit_orderer",
            "unit": unit.pk,
            "hsa_id": "SE2321000255-N009",
            "title": "Undersköterska",
        },
    )
    assert response.status_code == 302
    application = StaffApplication.objects.get()
    assert (application.applicant, application.applied_by) == (applicant, manager)
    listing = as_manager.get(reverse("staff:apply")).content.decode()
    assert application.reference in listing
    assert "Nils Nyström" in listing
    assert application.reference in as_manager.get(reverse("staff:queue")).content.decode()
    page = (
        logged_in(applicant)
        .get(reverse("staff:application", args=[application.reference]))
        .content.decode()
    )
    assert "Ulla" in page  # who sent it, on the person's own view of it
    url = reverse("staff:application", args=[application.reference])
    assert as_manager.post(url, {"action": "confirm"}).status_code == 302
    application.refresh_from_db()
    assert application.state == StaffApplicationState.CONFIRMED

    colleague = UserFactory(username="carl", role="prescriber", unit=unit.unit)
    as_colleague = logged_in(colleague)
    assert 'name="applicant"' not in as_colleague.get(reverse("staff:apply")).content.decode()
    as_colleague.post(
        reverse("staff:apply"),
        {
            "applicant": manager.pk,
            "authorisation": "personal_health",
            "unit": unit.pk,
            "hsa_id": "SE2321000255-N010",
            "title": "Arbetsterapeut",
        },
    )
    assert StaffApplication.objects.get(hsa_id="SE2321000255-N010").applicant_id == colleague.pk

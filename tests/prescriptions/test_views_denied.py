"""The prescriber's pages refused: every URL for every kind of user who may not use it, and the
audit of each read (AUDIT-1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from patients.models import AccessAction, AccessEntry, Patient
from prescriptions.models import ConsultationActivity, Prescription, PrescriptionState
from tests.factories import UserFactory
from tests.personas import logged_in
from tests.prescriptions.factories import PrescriberProfileFactory
from tests.prescriptions.pages import page, start

pytestmark = pytest.mark.django_db
S = PrescriptionState


# --- denied -----------------------------------------------------------------------------------

POST_ACTIONS = ["lines/", "details/", "delivery/", "submit/", "agreement/", "fitting/",
                "cancel/"]  # fmt: skip


@pytest.fixture
def draft(rx: Any, ordinary: Patient) -> Prescription:
    client = logged_in(Client(), rx)
    return Prescription.objects.get(reference=start(client, ordinary))


def every_url(prescription: Prescription) -> list[tuple[str, str]]:
    number, reference = prescription.reference, prescription.patient.reference
    line = prescription.lines.first()
    line_id = line.pk if line else 1
    return [
        ("get", "/prescriptions/"),
        ("get", f"/prescriptions/patients/{reference}/"),
        ("post", f"/prescriptions/patients/{reference}/new/"),
        ("post", f"/prescriptions/patients/{reference}/activities/"),
        ("post", f"/prescriptions/patients/{reference}/activities/1/book/"),
        ("get", f"/prescriptions/{number}/"),
        ("post", f"/prescriptions/{number}/lines/{line_id}/"),
        ("post", f"/prescriptions/{number}/lines/{line_id}/remove/"),
        ("post", f"/prescriptions/{number}/replacements/1/"),
        *[("post", f"/prescriptions/{number}/{action}") for action in POST_ACTIONS],
    ]


def test_denied_anonymous_is_sent_to_login(client, draft):
    for method, url in every_url(draft):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


@pytest.mark.parametrize("role", ["logistics", "technician", "billing", "unit_manager"])
def test_denied_roles_without_prescribing_get_403(client, draft, role):
    logged_in(client, UserFactory(role=role))
    for method, url in every_url(draft):
        assert getattr(client, method)(url).status_code == 403, url


def test_denied_superuser_gets_no_silent_access(client, draft):
    logged_in(client, UserFactory(is_superuser=True, is_staff=True))
    for method, url in every_url(draft):
        assert getattr(client, method)(url).status_code == 403, url


def test_denied_prescriber_of_another_unit_gets_404_for_the_prescription(client, draft):
    """House style 5: another unit's prescription answers as one that does not exist."""
    other = PrescriberProfileFactory().user
    logged_in(client, other)
    number = draft.reference
    assert client.get(f"/prescriptions/{number}/").status_code == 404
    assert client.get("/prescriptions/F-ZZZZZZZZ/").status_code == 404
    for action in POST_ACTIONS:
        assert client.post(f"/prescriptions/{number}/{action}").status_code == 404, action
    assert number not in client.get("/prescriptions/").content.decode()
    assert Prescription.objects.get(pk=draft.pk).state == S.DRAFT


def test_denied_get_on_a_post_only_action_changes_nothing(rx_client, draft):
    for action in POST_ACTIONS:
        assert rx_client.get(f"/prescriptions/{draft.reference}/{action}").status_code == 405
    reference = draft.patient.reference
    for action in ("new/", "activities/", "activities/1/book/"):
        assert rx_client.get(f"/prescriptions/patients/{reference}/{action}").status_code == 405
    assert not ConsultationActivity.objects.exists()


def test_audit_1_each_read_of_the_prescription_page_is_logged(rx_client, draft):
    before = AccessEntry.objects.filter(patient=draft.patient, action=AccessAction.READ).count()
    page(rx_client, draft.reference)
    after = AccessEntry.objects.filter(patient=draft.patient, action=AccessAction.READ).count()
    assert after == before + 1

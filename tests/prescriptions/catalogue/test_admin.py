"""The catalogue, units and prescribers in the admin: customer service manages them (CAT-1)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from prescriptions.models import Agreement, CompetenceRegistration, PrescriberProfile
from tests.factories import UserFactory
from tests.prescriptions.factories import CompetenceAreaFactory, PrescriberProfileFactory

pytestmark = pytest.mark.django_db

MODELS = (
    "article",
    "agreement",
    "supplier",
    "replacementgroup",
    "productarea",
    "competencearea",
    "prescribingunit",
    "prescriberprofile",
)


@pytest.fixture
def customer_service() -> Client:
    client = Client()
    client.force_login(UserFactory(username="kundtjanst", role="customer_service", is_staff=True))
    client.cookies["django_language"] = "en"
    return client


def test_cat_1_the_catalogue_admin_loads_for_customer_service(sample_catalogue, customer_service):
    profile = PrescriberProfileFactory(competences=[CompetenceAreaFactory()])
    for model in MODELS:
        listing = customer_service.get(f"/admin/prescriptions/{model}/")
        assert listing.status_code == 200, model
        assert customer_service.get(f"/admin/prescriptions/{model}/add/").status_code == 200
    article = customer_service.get("/admin/prescriptions/article/?q=rollator").content.decode()
    assert "Rollator Gloss" in article
    assert customer_service.get("/admin/prescriptions/article/?in_force=no").status_code == 200
    page = customer_service.get(f"/admin/prescriptions/prescriberprofile/{profile.pk}/change/")
    assert page.status_code == 200
    assert "Training completed" in page.content.decode()


def test_cat_1_the_catalogue_admin_is_denied_to_a_prescriber(sample_catalogue):
    client = Client()
    client.force_login(UserFactory(role="prescriber", is_staff=True))
    for model in MODELS:
        assert client.get(f"/admin/prescriptions/{model}/").status_code == 403, model


def test_cat_1_the_agreement_list_shows_whether_it_is_in_force(sample_catalogue, customer_service):
    Agreement.objects.filter(code="AVT-2019-002").update(valid_until=datetime.date(2023, 12, 31))
    ended = customer_service.get("/admin/prescriptions/agreement/?in_force=no").content.decode()
    assert "AVT-2019-002" in ended
    assert "AVT-2024-011" not in ended


def test_presc_5_customer_service_registers_a_training_and_who_did_it_is_recorded(
    customer_service,
):
    """PRESC-5 data side: a competence registration with its date, and its registrar."""
    area = CompetenceAreaFactory()
    profile = PrescriberProfileFactory()
    url = f"/admin/prescriptions/prescriberprofile/{profile.pk}/change/"
    response = customer_service.post(
        url,
        {
            "user": profile.user_id,
            "authorisation": profile.authorisation,
            "units": [u.pk for u in profile.units.all()],
            "email": "",
            "competences-TOTAL_FORMS": "1",
            "competences-INITIAL_FORMS": "0",
            "competences-MIN_NUM_FORMS": "0",
            "competences-MAX_NUM_FORMS": "1000",
            "competences-0-competence_area": area.code,
            "competences-0-trained_on": "2025-09-01",
            "competences-0-prescriber": profile.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    registration = CompetenceRegistration.objects.get(prescriber=profile)
    assert registration.trained_on == datetime.date(2025, 9, 1)
    assert registration.registered_by == get_user_model().objects.get(username="kundtjanst")


def test_the_prescriber_list_shows_the_hsa_id_from_the_staff_profile(customer_service):
    profile = PrescriberProfileFactory()
    profile.user.staff_profile.hsa_id = "SE2321000016-ABCD"
    profile.user.staff_profile.save()
    page = customer_service.get("/admin/prescriptions/prescriberprofile/").content.decode()
    assert "SE2321000016-ABCD" in page
    orderers = customer_service.get(
        "/admin/prescriptions/prescriberprofile/?authorisation__exact=unit_orderer"
    ).content.decode()
    assert "SE2321000016-ABCD" not in orderers
    assert isinstance(profile, PrescriberProfile)

"""Fixtures of the prescription domain tests. Identity numbers are Skatteverket's test numbers
(IDENT-4). Regions: the product's own region is 12 (Skåne, REGION_COUNTY_CODE); 01 is
Stockholm, another region."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest
from django.test import Client

from patients.models import Patient, PatientIdentity
from prescriptions.models import Article, ArticleKind, PrescriberProfile
from tests.factories import PatientIdentityFactory, UserFactory
from tests.personas import ORDINARY_NUMBER, PROTECTED_NUMBER, give_grant, logged_in
from tests.prescriptions.factories import (
    ArticleFactory,
    CompetenceAreaFactory,
    PrescriberProfileFactory,
    ProductAreaFactory,
)
from tests.prescriptions.leaks import SECRET_ADDRESS, SECRET_NAME

OTHER_NUMBER = "198912232397"
OTHER_REGION = "01"


@pytest.fixture
def all_areas() -> PrescriberProfile:
    """A prescriber trained in every competence area the tests use."""
    return PrescriberProfileFactory(
        competences=[
            CompetenceAreaFactory(),
            CompetenceAreaFactory(code="vision_hearing", name="Syn- och hörselhjälpmedel"),
            CompetenceAreaFactory(code="consumables", name="Förbrukningsartiklar"),
        ]
    )


@pytest.fixture
def rx(all_areas: PrescriberProfile) -> Any:
    return all_areas.user


@pytest.fixture
def ordinary() -> Patient:
    identity = cast(
        PatientIdentity, PatientIdentityFactory(personal_identity_number=ORDINARY_NUMBER)
    )
    return identity.patient


@pytest.fixture
def out_of_region() -> Patient:
    identity = cast(PatientIdentity, PatientIdentityFactory(personal_identity_number=OTHER_NUMBER))
    identity.patient.home_region_id = OTHER_REGION
    identity.patient.save()
    return identity.patient


@pytest.fixture
def protected_patient(rx: Any) -> Patient:
    """A protected patient the prescriber ``rx`` holds a grant for."""
    identity = PatientIdentityFactory(personal_identity_number=PROTECTED_NUMBER)
    identity.patient.protected_registration = True
    identity.patient.save()
    identity.patient.refresh_from_db()
    give_grant(rx, identity)
    return identity.patient


def area(code: str) -> Any:
    competence = {
        "hearing": "vision_hearing",
        "nutrition": "consumables",
        "diabetes": "consumables",
        "incontinence": "consumables",
    }.get(code, "movement_communication_pressure")
    return ProductAreaFactory(
        code=code,
        name=code,
        competence_area=CompetenceAreaFactory(code=competence),
        medicine_related=competence == "consumables",
    )


def article(price: str = "2900", *, area_code: str = "mobility", **kwargs: Any) -> Article:
    made = ArticleFactory(price_sek=Decimal(price), product_area=area(area_code), **kwargs)
    return cast(Article, made)


def accessory(main: Article, price: str) -> Article:
    return cast(
        Article,
        ArticleFactory(
            price_sek=Decimal(price),
            product_area=main.product_area,
            kind=ArticleKind.ACCESSORY,
            main_article=main,
        ),
    )


@pytest.fixture
def customer_service() -> Any:
    return UserFactory(username="kundtjanst", role="customer_service")


@pytest.fixture
def rx_client(client: Client, rx: Any) -> Client:
    logged_in(client, rx)
    return client


@pytest.fixture
def hidden(protected_patient: Patient) -> Patient:
    """The protected patient (``rx`` holds a grant), registered in another region, with a name
    and an address the leak checks look for."""
    PatientIdentity.objects.filter(patient=protected_patient).update(
        given_names=SECRET_NAME[0],
        surname=SECRET_NAME[1],
        registered_address={"street2": SECRET_ADDRESS, "postal_code": "21120", "city": "MALMÖ"},
    )
    Patient.objects.filter(pk=protected_patient.pk).update(home_region_id=OTHER_REGION)
    protected_patient.refresh_from_db()
    return protected_patient

"""factory_boy factories. Identity numbers are Skatteverket's test personnummer only (IDENT-4)."""

from __future__ import annotations

import itertools
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from patients.models import Patient, PatientIdentity, PatientRelation, StaffProfile, Unit
from patients.services import roles_sync
from protection.models import AccountSuspension

# From ../shared/data/testpersonnummer.txt; the sample register file uses others of the list.
TEST_NUMBERS = (
    "198912222398",
    "198912232389",
    "198912232397",
    "198912242388",
    "200307052381",
    "200307052399",
    "200307062380",
    "189209259804",
    "189209269811",
    "189209279802",
    "189209289819",
)
_numbers = itertools.cycle(TEST_NUMBERS)


class UnitFactory(factory.django.DjangoModelFactory[Unit]):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"Testenheten {n}")
    hsa_id = factory.Sequence(lambda n: f"SE2321000255-T{n:04d}")
    region_id = "12"


class UserFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-only")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if create and extracted:
            roles_sync()
            self.groups.add(Group.objects.get(name=extracted))

    @factory.post_generation
    def unit(self, create: bool, extracted: Unit | None, **kwargs: Any) -> None:
        if create:
            StaffProfile.objects.update_or_create(
                user=self, defaults={"unit": extracted or UnitFactory()}
            )

    @factory.post_generation
    def settled(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """An account in everyday use: its user set their own password long ago and a
        protection administrator confirmed it, so the suspension its creation with a
        password opened (ACCESS-10) is gone. The record of the creation stays."""
        if create:
            AccountSuspension.objects.filter(user=self).delete()


class PatientFactory(factory.django.DjangoModelFactory[Patient]):
    class Meta:
        model = Patient

    birth_year = 1989
    home_region_id = "12"


class PatientIdentityFactory(factory.django.DjangoModelFactory[PatientIdentity]):
    """A patient with identity. Numbers cycle through the list; pass one for uniqueness."""

    class Meta:
        model = PatientIdentity

    patient = factory.SubFactory(
        PatientFactory,
        birth_year=factory.LazyAttribute(
            lambda o: int(o.factory_parent.personal_identity_number[:4])
        ),
    )
    personal_identity_number = factory.LazyFunction(lambda: next(_numbers))
    given_names = "Testa"
    surname = "Testsson"
    registered_address = factory.LazyFunction(
        lambda: {
            "care_of": None,
            "street1": None,
            "street2": "Provgatan 1",
            "postal_code": "21100",
            "city": "MALMÖ",
        }
    )


class PatientRelationFactory(factory.django.DjangoModelFactory[PatientRelation]):
    class Meta:
        model = PatientRelation

    kind = "M"

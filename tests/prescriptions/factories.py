"""Factories of the prescriptions floor (catalogue, prescribers, prescriptions)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import factory

from prescriptions.models import (
    Agreement,
    Article,
    ArticleKind,
    Authorisation,
    CompetenceArea,
    CompetenceLevel,
    CompetenceRegistration,
    PrescriberProfile,
    PrescribingUnit,
    ProductArea,
    Supplier,
    Supply,
)
from tests.factories import UnitFactory, UserFactory


class CompetenceAreaFactory(factory.django.DjangoModelFactory[CompetenceArea]):
    class Meta:
        model = CompetenceArea
        django_get_or_create = ("code",)

    code = "movement_communication_pressure"
    name = "Hjälpmedel för rörelse, kommunikation och information samt antidecubitus"


class ProductAreaFactory(factory.django.DjangoModelFactory[ProductArea]):
    class Meta:
        model = ProductArea
        django_get_or_create = ("code",)

    code = "mobility"
    name = "Rörelse och förflyttning"
    competence_area = factory.SubFactory(CompetenceAreaFactory)
    medicine_related = False


class SupplierFactory(factory.django.DjangoModelFactory[Supplier]):
    class Meta:
        model = Supplier
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Leverantör {n} AB")


class AgreementFactory(factory.django.DjangoModelFactory[Agreement]):
    class Meta:
        model = Agreement
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"AVT-T-{n:03d}")
    supplier = factory.SubFactory(SupplierFactory)
    valid_from = datetime.date(2024, 1, 1)
    valid_until = None


class ArticleFactory(factory.django.DjangoModelFactory[Article]):
    class Meta:
        model = Article

    article_number = factory.Sequence(lambda n: f"T{n:05d}")
    name = factory.Sequence(lambda n: f"Rollator test {n}")
    iso9999 = "120606"
    product_area = factory.SubFactory(ProductAreaFactory)
    price_sek = Decimal("2900.00")
    kind = ArticleKind.MAIN
    advanced_service = False
    assortment_days = 7
    in_assortment = True
    lifespan_years = 8
    supply = Supply.RENT
    agreement = factory.SubFactory(AgreementFactory)
    weight_kg = Decimal("7.5")
    length_cm = 70
    girth_cm = 180


class PrescribingUnitFactory(factory.django.DjangoModelFactory[PrescribingUnit]):
    class Meta:
        model = PrescribingUnit

    unit = factory.SubFactory(UnitFactory)
    delivery_street = "Vårdvägen 1"
    delivery_postal_code = "21100"
    delivery_town = "Malmö"


class PrescriberProfileFactory(factory.django.DjangoModelFactory[PrescriberProfile]):
    """A prescriber of personal devices, acting for (and a member of) one prescribing unit."""

    class Meta:
        model = PrescriberProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role="prescriber")
    authorisation = Authorisation.PERSONAL_HEALTH

    @factory.post_generation
    def units(self, create: bool, extracted: list[PrescribingUnit] | None, **kwargs: Any) -> None:
        if not create:
            return
        if extracted is None:
            # The unit the user acts for (StaffProfile) becomes a prescribing unit of theirs.
            unit = self.user.staff_profile.unit
            extracted = [
                PrescribingUnit.objects.create(
                    unit=unit,
                    delivery_street="Vårdvägen 1",
                    delivery_postal_code="21100",
                    delivery_town="Malmö",
                )
            ]
        self.units.set(extracted)

    @factory.post_generation
    def competences(
        self, create: bool, extracted: list[CompetenceArea] | None, **kwargs: Any
    ) -> None:
        if create and extracted:
            for area in extracted:
                CompetenceRegistration.objects.create(
                    prescriber=self,
                    competence_area=area,
                    trained_on=datetime.date(2025, 3, 1),
                    level=CompetenceLevel.BASIC,
                )

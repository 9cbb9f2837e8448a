"""Prescribing units and prescribers: the data PRESC-5 and PRESC-2 stand on."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError

from prescriptions.models import Authorisation, CompetenceRegistration
from tests.prescriptions.factories import CompetenceAreaFactory, PrescriberProfileFactory

pytestmark = pytest.mark.django_db


def test_presc_5_a_unit_orderer_orders_no_personal_devices():
    """PRESC-5 data side: the ordering right decides; a unit orderer is a prescriber profile."""
    orderer = PrescriberProfileFactory(authorisation=Authorisation.UNIT_ORDERER)
    assert not orderer.prescribes_personal_devices
    for right in (Authorisation.PERSONAL_HEALTH, Authorisation.PERSONAL_SOCIAL):
        assert PrescriberProfileFactory(authorisation=right).prescribes_personal_devices


def test_presc_5_a_training_is_registered_once_per_competence_area_with_its_date():
    area = CompetenceAreaFactory()
    prescriber = PrescriberProfileFactory(competences=[area])
    registration = CompetenceRegistration.objects.get(prescriber=prescriber)
    assert registration.trained_on == datetime.date(2025, 3, 1)
    with pytest.raises(IntegrityError):
        CompetenceRegistration.objects.create(
            prescriber=prescriber,
            competence_area=area,
            trained_on=datetime.date(2025, 4, 1),
            level="basic",
        )


def test_presc_2_a_prescriber_acts_for_a_unit_with_a_delivery_address():
    """PRESC-2 data side: the unit's delivery address is the one a protected patient's order
    may carry; every prescriber has at least one unit with one."""
    prescriber = PrescriberProfileFactory()
    unit = prescriber.units.get()
    assert unit.unit == prescriber.user.staff_profile.unit
    assert (unit.delivery_street, unit.delivery_postal_code, unit.delivery_town) == (
        "Vårdvägen 1",
        "21100",
        "Malmö",
    )

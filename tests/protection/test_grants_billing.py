"""ACCESS-9: billing staff get no grants to protected patients; the grant request refuses them
with a message that says why, and so does the decision (for one who joined billing since)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone, translation
from guardian.shortcuts import get_perms

from patients.roles import BILLING
from protection.models import Grant, GrantRequest
from protection.services import ProtectionError
from protection.services.grants import grant_request_create, grant_request_decide
from tests.factories import UnitFactory, UserFactory
from tests.personas import ctx_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit() -> Any:
    return UnitFactory(name="Rehab Öst")


@pytest.fixture
def manager(unit: Any) -> Any:
    return UserFactory(username="chefen", role="unit_manager", unit=unit)


def request_for(manager: Any, patient: Any, staff: list[Any]) -> GrantRequest:
    ctx = ctx_for(manager)
    return grant_request_create(
        ctx=ctx,
        patient=patient,
        unit_id=ctx.actor.unit_id,
        staff=staff,
        case_reference="ÄR-2026-0042",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=30),
        reason="Fakturering av hjälpmedel",
    )


def test_access_9_a_grant_request_for_billing_staff_is_refused(manager, unit, protected):
    officer = UserFactory(
        username="avgift", first_name="Berit", last_name="Avgift", role="billing", unit=unit
    )
    with (
        translation.override("en"),
        pytest.raises(ProtectionError, match=r"Berit Avgift work in billing.*secret customer"),
    ):
        request_for(manager, protected.patient, [officer])
    assert not GrantRequest.objects.exists()


def test_access_9_the_decision_refuses_one_who_joined_billing_since(manager, unit, protected):
    nurse = UserFactory(username="nurse", role="prescriber", unit=unit)
    request = request_for(manager, protected.patient, [nurse])
    nurse.groups.add(Group.objects.get(name=BILLING))
    admin = UserFactory(username="skydd", role="protection_admin")
    with translation.override("en"), pytest.raises(ProtectionError, match="work in billing"):
        grant_request_decide(ctx=ctx_for(admin), request_id=request.pk, approve=True)
    assert not Grant.objects.exists()
    assert not get_perms(nurse, protected.patient)
    request.refresh_from_db()
    assert request.status == "requested"


def test_access_9_other_staff_are_still_granted(manager, unit, protected):
    nurse = UserFactory(username="nurse", role="prescriber", unit=unit)
    request = request_for(manager, protected.patient, [nurse])
    admin = UserFactory(username="skydd", role="protection_admin")
    grant_request_decide(ctx=ctx_for(admin), request_id=request.pk, approve=True)
    assert Grant.objects.filter(user=nurse).exists()

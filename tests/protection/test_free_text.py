"""Free text that people without a grant read names no patient (LEAK-1, LEAK-2).

The case number, the reasons of a grant request and of an emergency access, and the receiver and
reason of a document forwarded to another principal are read on the request list, the log
review, notifications and the history by people who may not know who the patient is.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from protection.documents.services import DocumentError, document_request
from protection.documents.summary import SUMMARY_KIND
from protection.models import DocumentJob, EmergencyAccess, GrantRequest
from protection.services import ProtectionError
from protection.services.emergency import emergency_access_open
from protection.services.grants import grant_request_create
from tests.factories import UnitFactory, UserFactory
from tests.personas import ctx_for, give_grant

pytestmark = pytest.mark.django_db

# Hemlig Gömdasson, Gömdavägen 7, 211 20 MALMÖ (tests.personas.protected_identity_create).
NAMING = [
    "Patienten Hemlig behöver rullstol",
    "Förskrivning till GÖMDASSON",
    "Förskrivning till Gomdasson",  # without the accent
    "Hemleveransen går till Gömdavägen 7",
    "Postnummer 211 20 enligt registret",
    "Postnummer 21120 enligt registret",
    "Patienten bor i Malmö sedan i våras",
    "Patienten 19891223_2389 behöver rullstol",
    "Patienten pnr198912232389 behöver rullstol",
]
ORDINARY = "Förskrivning av rullstol två gånger per år"


@pytest.fixture(autouse=True)
def english():
    """The messages are checked in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


@pytest.fixture
def unit():
    return UnitFactory(name="Rehab Öst")


@pytest.fixture
def manager(unit):
    return UserFactory(username="chefen", role="unit_manager", unit=unit)


@pytest.fixture
def nurse(unit):
    return UserFactory(username="nurse", role="prescriber", unit=unit)


def _request(manager, nurse, protected, *, case_reference="ÄR-2026-0042", reason=ORDINARY):
    today = timezone.localdate()
    return grant_request_create(
        ctx=ctx_for(manager),
        patient=protected.patient,
        unit_id=ctx_for(manager).actor.unit_id,
        staff=[nurse],
        case_reference=case_reference,
        starts_on=today,
        ends_on=today + timedelta(days=30),
        reason=reason,
    )


@pytest.mark.parametrize("case_reference", ["ÄR-2026-0042", " är-2026-42 ", "F-7N9357L3"])
def test_leak_2_a_case_or_order_number_in_its_format_is_accepted(
    manager, nurse, protected, case_reference
):
    request = _request(manager, nurse, protected, case_reference=case_reference)
    assert request.case_reference == case_reference.strip().upper()


@pytest.mark.parametrize(
    "case_reference",
    ["Hemlig Gömdasson", "ÄR-2026-0042 Gömdasson", "Gömdavägen 7", "ÄR 8912232389", "ärende 12"],
)
def test_leak_2_the_case_number_is_a_case_or_order_number_and_nothing_else(
    manager, nurse, protected, case_reference
):
    with pytest.raises(ProtectionError, match="Case or order number") as refused:
        _request(manager, nurse, protected, case_reference=case_reference)
    assert "Gömdasson" not in str(refused.value)
    assert not GrantRequest.objects.exists()


@pytest.mark.parametrize("reason", NAMING)
def test_leak_2_a_grant_request_reason_naming_the_patient_is_refused_without_repeating_it(
    manager, nurse, protected, reason
):
    """The manager holds no grant: the server reads the name and address for the check."""
    with pytest.raises(ProtectionError) as refused:
        _request(manager, nurse, protected, reason=reason)
    message = str(refused.value)
    assert message.startswith("Reason:")
    for found in ("Hemlig", "Gömda", "Gomda", "211", "Malmö", "2389"):
        assert found not in message
    assert not GrantRequest.objects.exists()


def test_leak_2_ordinary_reasons_and_another_patients_name_pass(manager, nurse, protected):
    """Whole words only, and "per" is a word before it is a name."""
    assert _request(manager, nurse, protected, reason=ORDINARY + ", Hemligheten bevaras")


@pytest.mark.parametrize("reason", NAMING)
def test_leak_1_a_break_the_glass_reason_naming_the_patient_is_refused(protected, reason):
    nurse = UserFactory(username="akuten", role="prescriber")
    with pytest.raises(ProtectionError, match=r"^Reason:"):
        emergency_access_open(ctx=ctx_for(nurse), patient=protected.patient, reason=reason)
    assert not EmergencyAccess.objects.exists()


@pytest.fixture
def holder(protected):
    user = UserFactory(username="holder", role="prescriber")
    give_grant(user, protected)
    return user


def _forward(holder, protected, *, forward_to="Region Halland", forward_reason=ORDINARY):
    return document_request(
        ctx=ctx_for(holder, stepped_up=True),
        kind=SUMMARY_KIND,
        patients=[protected.patient],
        forward_to=forward_to,
        forward_reason=forward_reason,
    )


@pytest.mark.parametrize("reason", NAMING)
def test_leak_1_a_forwarding_reason_naming_the_patient_is_refused(holder, protected, reason):
    with pytest.raises(DocumentError, match=r"^Reason for printing:"):
        _forward(holder, protected, forward_reason=reason)
    assert not DocumentJob.objects.exists()


@pytest.mark.parametrize(
    "receiver", ["Hemlig Gömdasson, Region Halland", "Region Halland c/o Gömdavägen 7"]
)
def test_leak_1_a_forwarding_receiver_naming_the_patient_is_refused(holder, protected, receiver):
    with pytest.raises(DocumentError, match=r"^Forward to:"):
        _forward(holder, protected, forward_to=receiver)
    assert not DocumentJob.objects.exists()


def test_leak_1_the_receiving_principal_may_carry_the_city_name(holder, protected):
    """Forwarding names the principal where the person now lives: a city alone is no leak."""
    assert _forward(holder, protected, forward_to="Region Skåne, Malmö")


@pytest.mark.parametrize(
    "reason",
    [
        "Patient 891223-2389 kom in",
        "Nås på 070 174 06 05",
        "mejl hemlig.g1989@exempel.se",
        "hemlig.g1989 svarar",
    ],
)
def test_leak_1_the_ten_digit_number_phone_and_e_mail_of_the_patient_are_refused(protected, reason):
    """LEAK-1, LEAK-3: the personnummer as most people write it (ten digits), and the phone
    number and e-mail address, which locate the person as an address does."""
    protected.phone = "070-1740605"
    protected.email = "hemlig.g1989@exempel.se"
    protected.save()
    nurse = UserFactory(username="akuten", role="prescriber")
    with pytest.raises(ProtectionError, match=r"^Reason:"):
        emergency_access_open(ctx=ctx_for(nurse), patient=protected.patient, reason=reason)
    assert not EmergencyAccess.objects.exists()

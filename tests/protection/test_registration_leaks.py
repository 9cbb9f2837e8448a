"""An attacker's review of the register pages (issue 14, REG-1..3): what the reservnummer page and
the hand registration give away about a protected patient, and what they log.

Each test failed before its fix. Identity numbers are Skatteverket's test numbers (IDENT-4).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.views.debug import SafeExceptionReporterFilter

from patients.identity import parse_identity_number
from patients.models import AccessAction, AccessEntry, AccessOutcome, Notification
from patients.registration import HandRegistration
from protection.services.registration import patient_hand_register
from tests.factories import UserFactory
from tests.personas import (
    ORDINARY_NUMBER,
    PROTECTED_NUMBER,
    ctx_for,
    give_grant,
    logged_in,
    ordinary_identity_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> tuple[Any, Any]:
    """A prescriber and a customer service user (who gets the administration unit's notice)."""
    return UserFactory(role="prescriber"), UserFactory(role="customer_service")


def _hand_registered(service_user: Any) -> Any:
    """A person registered by hand without a number (they get a reservnummer)."""
    number = parse_identity_number(ORDINARY_NUMBER, reserve_formats=settings.RESERVE_NUMBER_FORMATS)
    outcome = patient_hand_register(
        ctx=ctx_for(service_user),
        data=HandRegistration(given_names="Nomen", surname="Nescio", birth_date=number.birth_date),
    )
    assert outcome.patient is not None
    return outcome.patient


def test_leak_2_the_reservnummer_notice_about_a_protected_patient_names_neither_patient_nor_unit(
    client, staff, protected
):
    """LEAK-2, ACCESS-1: the administration unit's notice goes to every customer service user,
    none of whom holds a grant. For a protected patient it carried the internal reference in
    its subject and the recording unit beside it in its body: the key to the patient's pages
    and the place the person is cared at."""
    prescribing, service_user = staff
    give_grant(prescribing, protected)
    reference = protected.patient.reference
    response = logged_in(client, prescribing, stepped_up=True).post(
        f"/protection/patients/{reference}/reservnummer/", {"action": "issue"}
    )
    assert response.status_code == 302
    protected.refresh_from_db()
    assert protected.reserve_number  # the number is recorded all the same
    notice = Notification.objects.get(user=service_user)
    unit = prescribing.staff_profile.unit.name
    for text in (notice.subject, notice.body):
        assert reference not in text
        assert unit not in text
        assert protected.reserve_number not in text
        assert "Gömdasson" not in text
    # The change itself is logged against the patient (AUDIT-1).
    assert AccessEntry.objects.filter(
        object_type="reserve_number", patient=protected.patient, user=prescribing
    ).exists()


def test_leak_2_the_reservnummer_notice_about_an_ordinary_patient_keeps_its_reference(
    client, staff
):
    """LEAK-2: the fix hides only a guarded patient; an ordinary one is still named by reference
    so that the administration unit can open them."""
    prescribing, service_user = staff
    ordinary = ordinary_identity_create()
    response = logged_in(client, prescribing).post(
        f"/protection/patients/{ordinary.patient.reference}/reservnummer/", {"action": "issue"}
    )
    assert response.status_code == 302
    notice = Notification.objects.get(user=service_user)
    assert ordinary.patient.reference in notice.subject
    assert prescribing.staff_profile.unit.name in notice.body


def test_audit_1_a_number_recorded_on_a_patient_is_searched_and_its_hit_logged(
    client, staff, protected
):
    """AUDIT-1, ACCESS-1: recording a personnummer on the reservnummer page is a search by
    number. A number that was another patient's was refused with no access entry at all, so
    trying a protected person's number against a patient of one's own left no trace. Now the
    hit is logged like the search page's (denied for the protected patient), and the answer is
    the same whoever holds the number."""
    prescribing, service_user = staff
    patient = _hand_registered(service_user)
    url = f"/protection/patients/{patient.reference}/reservnummer/"
    logged_in(client, prescribing)
    answers = []
    for number in (PROTECTED_NUMBER, ORDINARY_NUMBER):
        if number == ORDINARY_NUMBER:
            ordinary_identity_create()
        response = client.post(url, {"action": "personal", "number": number})
        assert response.status_code == 400
        page = response.content.decode()
        assert 'id="id_number_error"' in page
        assert "Gömdasson" not in page
        answers.append(page.split('id="id_number_error"', 1)[1].split("</", 1)[0])
    assert answers[0] == answers[1]  # no oracle: protected or not, the same refusal
    assert AccessEntry.objects.filter(
        patient=protected.patient,
        user=prescribing,
        action=AccessAction.SEARCH_HIT,
        outcome=AccessOutcome.DENIED,
    ).exists()
    patient.identity.refresh_from_db()
    assert patient.identity.personal_identity_number is None


def test_audit_1_a_free_number_recorded_on_a_patient_is_logged_as_no_match(client, staff):
    """AUDIT-1: the search before the record is logged when nobody has the number, too, and the
    number is recorded."""
    prescribing, service_user = staff
    patient = _hand_registered(service_user)
    response = logged_in(client, prescribing).post(
        f"/protection/patients/{patient.reference}/reservnummer/",
        {"action": "personal", "number": ORDINARY_NUMBER},
    )
    assert response.status_code == 302
    patient.identity.refresh_from_db()
    assert patient.identity.personal_identity_number == ORDINARY_NUMBER
    assert AccessEntry.objects.filter(
        user=prescribing, action=AccessAction.SEARCH, outcome=AccessOutcome.NO_MATCH
    ).exists()


def _reported_post(response: Any) -> dict[str, str]:
    """The POST parameters as Django's error report would show them for this request."""
    return dict(SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request).items())


def test_leak_3_the_contact_agreement_never_reaches_an_error_report(client, staff, protected):
    """LEAK-3, LEAK-5: the protected person's phone number and calling times are encrypted at
    rest; an error report of the request that records them showed them in clear."""
    prescribing = staff[0]
    give_grant(prescribing, protected)
    logged_in(client, prescribing, stepped_up=True)
    response = client.post(
        f"/protection/patients/{protected.patient.reference}/contact/",
        {"phone": "070-123 45 67", "times": "Vardagar 9-11"},
    )
    assert response.status_code == 302
    reported = _reported_post(response)
    assert "070-123 45 67" not in reported.values()
    assert "Vardagar 9-11" not in reported.values()


def test_leak_1_a_hand_registration_never_reaches_an_error_report(client, staff):
    """LEAK-1: the hand registration's address abroad, care-of, post town and birth date are
    as personal as the name; the error report hid only some of the fields."""
    service_user = staff[1]
    form = {
        "no_number": "on",
        "given_names": "Amira",
        "surname": "Haddad",
        "birth_date": "1990-04-17",
        "care_of": "Familjen Haddad",
        "city": "Malmö",
        "postal_code": "211 42",
        "foreign_street": "Rue de la Paix 1",
        "foreign_city": "Paris",
        "country": "Frankrike",
    }
    response = logged_in(client, service_user).post("/protection/register/", form)
    assert response.status_code == 302
    reported = _reported_post(response)
    for value in form.values():
        if value != "on":
            assert value not in reported.values()


def _user_holding_only(codename: str) -> Any:
    """An account whose group gives one permission of the patients floor and not the search."""
    group = Group.objects.create(name=f"only-{codename}")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="patients", codename=codename)
    )
    user = UserFactory()
    user.groups.add(group)
    return user


def test_access_1_the_register_pages_tell_no_one_who_may_not_search_whether_a_number_is_taken(
    client, staff, protected
):
    """ACCESS-1: both pages search by number before they write. An account that could register
    by hand, or record a number, without the right to search learnt from their answers whether
    a number was registered and whether its patient was protected (the masked card, "belongs to
    another patient"). Now such an account gets the same refusal whatever it sends."""
    registrar = _user_holding_only("register_by_hand")
    logged_in(client, registrar)
    form = {"given_names": "Amira", "surname": "Haddad"}
    for number in (PROTECTED_NUMBER, ORDINARY_NUMBER):
        response = client.post("/protection/register/", {**form, "number": number})
        assert response.status_code == 403
        assert "Protected identity" not in response.content.decode()
    assert client.get("/protection/register/").status_code == 403
    patient = _hand_registered(staff[1])
    recorder = _user_holding_only("record_reserve_number")
    logged_in(client, recorder)
    url = f"/protection/patients/{patient.reference}/reservnummer/"
    for number in (PROTECTED_NUMBER, ORDINARY_NUMBER):
        response = client.post(url, {"action": "personal", "number": number})
        assert response.status_code == 403
    assert client.get(url).status_code == 403
    patient.identity.refresh_from_db()
    assert patient.identity.personal_identity_number is None


def test_leak_1_hand_registering_a_protected_number_echoes_nothing_beside_the_masked_card(
    client, staff, protected
):
    """LEAK-1, ACCESS-1: the hand registration searched the number and showed the protected
    patient's masked card, then the form again with everything typed: the personnummer, name
    and address beside "Protected identity", a page pairing them for a user without a grant.
    The search page never echoes the number; now neither does this one for a hidden patient."""
    service_user = staff[1]
    typed = {
        "number": PROTECTED_NUMBER,
        "given_names": "Hemlig",
        "surname": "Gömdasson",
        "street": "Gömdavägen 7",
        "city": "Malmö",
    }
    response = logged_in(client, service_user).post("/protection/register/", typed)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Protected identity" in page
    for value in ("198912232389", "19891223-2389", "Hemlig", "Gömdasson", "Gömdavägen"):
        assert value not in page

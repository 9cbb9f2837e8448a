"""REG-1..3: patients the register does not give, against real Postgres and the real importer.

Identity numbers are Skatteverket's test numbers (IDENT-4); the samordningsnummer is computed
from a date in the 1800s (tests/patients/navet_files.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from patients.identity import parse_identity_number, parse_reserve_number
from patients.models import (
    AccessAction,
    AccessEntry,
    AccessOutcome,
    Notification,
    Patient,
    PatientIdentity,
    RegisterEvent,
    RegistrationSource,
)
from patients.navet.importer import register_files_import
from patients.registration import HandRegistration, RegistrationError, reserve_number_generate
from patients.tasks import refresh_register
from protection.gate import patient_search_for_user
from protection.services.registration import patient_hand_register, reserve_number_record
from protection.services.reserve_number import reserve_number_protection_decide
from tests.factories import UserFactory
from tests.patients.navet_files import (
    PNR_A,
    PNR_B,
    coordination_number_1800s,
    document,
    post,
    write,
)
from tests.personas import (
    ORDINARY_NUMBER,
    PROTECTED_NUMBER,
    ctx_for,
    logged_in,
    ordinary_identity_create,
    reloaded,
)

pytestmark = pytest.mark.django_db

FORM = {
    "given_names": "Amira",
    "surname": "Haddad",
    "street": "Provgatan 3",
    "postal_code": "211 42",
    "city": "Malmö",
    "municipality_code": "80",
    "phone": "040-123456",
    "home_region": "12",
}


@pytest.fixture
def service_user() -> Any:
    return UserFactory(role="customer_service")


@pytest.fixture
def prescribing() -> Any:
    return UserFactory(role="prescriber")


def _number(text: str) -> Any:
    return parse_identity_number(text, reserve_formats=settings.RESERVE_NUMBER_FORMATS)


def _raw_identity_columns(patient_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT given_names, surname, registered_address, phone, "
            "coalesce(personal_identity_number, ''), coalesce(reserve_number, '') "
            "FROM patients_patientidentity WHERE patient_id = %s",
            [patient_id],
        )
        return " ".join(str(value) for value in cursor.fetchone())


# --- REG-1 ------------------------------------------------------------------------------------


def test_reg_1_customer_service_registers_a_samordningsnummer_by_hand(client, service_user):
    number = coordination_number_1800s()
    response = logged_in(client, service_user).post(
        "/protection/register/", {**FORM, "number": number}
    )
    assert response.status_code == 302
    patient = Patient.objects.get(identity__personal_identity_number=number)
    assert response["Location"] == f"/patients/{patient.reference}/"
    assert patient.registration_source == RegistrationSource.HAND
    assert patient.hand_registered_by_id == service_user.pk
    assert patient.hand_registered_at is not None
    assert patient.home_region_id == "12"
    assert patient.birth_year == 1851
    identity = patient.identity
    assert (identity.given_names, identity.surname, identity.phone) == (
        "Amira",
        "Haddad",
        "040-123456",
    )
    assert identity.registered_address["street2"] == "Provgatan 3"
    assert identity.registered_address["postal_code"] == "21142"
    # LEAK-3, LEAK-6: what locates the person is encrypted in the database.
    raw = _raw_identity_columns(patient.pk)
    for value in ("Amira", "Haddad", "Provgatan", "040-123456", number):
        assert value not in raw
    entry = AccessEntry.objects.get(object_type="hand_registration")
    assert (entry.patient_id, entry.action, entry.user_id) == (
        patient.pk,
        AccessAction.CHANGE,
        service_user.pk,
    )
    # The search came first and found nobody: logged, without the number (AUDIT-4).
    assert AccessEntry.objects.filter(
        action=AccessAction.SEARCH, outcome=AccessOutcome.NO_MATCH, user=service_user
    ).exists()


def test_reg_1_a_resident_abroad_is_registered_with_the_address_abroad(client, service_user):
    response = logged_in(client, service_user).post(
        "/protection/register/",
        {
            "number": PNR_A,
            "given_names": "Lars",
            "surname": "Utlandsson",
            "foreign_street": "Calle Mayor 5",
            "foreign_city": "29600 Marbella",
            "country": "Spanien",
        },
    )
    assert response.status_code == 302
    identity = PatientIdentity.objects.get(personal_identity_number=PNR_A)
    assert identity.registered_address is None
    assert identity.foreign_address["country"] == "Spanien"
    assert identity.patient.home_region_id is None  # REGION-5: abroad, no home region


def test_reg_1_the_number_is_searched_first_and_the_existing_patient_shown(client, service_user):
    ordinary = ordinary_identity_create()
    response = logged_in(client, service_user).post(
        "/protection/register/", {**FORM, "number": ORDINARY_NUMBER}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "already registered" in page
    assert "Karin Nilsson" in page  # the full card: she is not protected
    assert Patient.objects.count() == 1
    assert AccessEntry.objects.filter(
        patient=ordinary.patient, action=AccessAction.SEARCH_HIT, outcome=AccessOutcome.ALLOWED
    ).exists()
    assert 'value="Amira"' in page  # what was typed is kept


def test_reg_1_a_protected_patient_is_shown_masked_and_never_registered_twice(
    client, service_user, protected
):
    response = logged_in(client, service_user).post(
        "/protection/register/", {**FORM, "number": PROTECTED_NUMBER}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Gömdasson" not in page
    assert "Hemlig" not in page
    assert "Gömdavägen" not in page
    assert protected.patient.reference not in page  # ACCESS-1: the masked card names no reference
    assert Patient.objects.count() == 1
    assert AccessEntry.objects.filter(
        patient=protected.patient, action=AccessAction.SEARCH_HIT, outcome=AccessOutcome.DENIED
    ).exists()


def test_reg_1_a_refused_form_keeps_what_was_typed_with_errors_beside_the_fields(
    client, service_user
):
    response = logged_in(client, service_user).post(
        "/protection/register/",
        {**FORM, "number": "194201077099", "postal_code": "2114"},  # wrong check digit
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="Amira"' in page
    assert 'value="Provgatan 3"' in page
    assert 'id="id_number_error"' in page
    assert "The check digit is wrong." in page
    assert 'id="id_postal_code_error"' in page
    # The number stays in its field, as typed, but no message repeats it (LEAK-1).
    assert page.count("194201077099") == 1
    assert 'value="194201077099"' in page
    assert Patient.objects.count() == 0


def test_reg_1_no_number_without_a_birth_date_is_refused_naming_the_field(client, service_user):
    response = logged_in(client, service_user).post(
        "/protection/register/", {**FORM, "no_number": "on"}
    )
    assert response.status_code == 400
    assert 'id="id_birth_date_error"' in response.content.decode()
    assert Patient.objects.count() == 0


def test_reg_1_a_person_without_a_number_gets_a_reservnummer_and_the_unit_is_told(
    client, service_user
):
    other_service = UserFactory(role="customer_service")
    response = logged_in(client, service_user).post(
        "/protection/register/", {**FORM, "no_number": "on", "birth_date": "1990-04-17"}
    )
    assert response.status_code == 302
    patient = Patient.objects.get(registration_source=RegistrationSource.HAND)
    identity = patient.identity
    assert identity.personal_identity_number is None
    # IDENT-2: a valid reservnummer of the region's format, with the birth date in it.
    parsed = parse_reserve_number(identity.reserve_number, formats=["national"])
    assert parsed.birth_date == date(1990, 4, 17)
    assert identity.reserve_number_format == "national"
    assert patient.birth_year == 1990
    # REG-2: the administration unit (customer service) is told in the product, by reference.
    notices = Notification.objects.filter(user__in=[service_user, other_service])
    assert notices.count() == 2
    for notice in notices:
        assert patient.reference in notice.subject
        for secret in ("Amira", "Haddad", identity.reserve_number):
            assert secret not in notice.subject
            assert secret not in notice.body


@pytest.mark.parametrize("role", ["prescriber", "logistics", "technician", "billing"])
def test_reg_1_hand_registration_is_denied_to_other_roles(client, role):
    user = UserFactory(role=role)
    logged_in(client, user)
    assert client.get("/protection/register/").status_code == 403
    assert client.post("/protection/register/", {**FORM, "number": PNR_A}).status_code == 403
    assert Patient.objects.count() == 0


def test_reg_1_the_register_later_sending_the_person_merges_never_duplicates(
    tmp_path, service_user
):
    outcome = patient_hand_register(
        ctx=ctx_for(service_user),
        data=HandRegistration(number=_number(PNR_A), given_names="Kalle", surname="Handsson"),
    )
    assert outcome.patient is not None
    reference = outcome.patient.reference
    summary = register_files_import(
        paths=[write(tmp_path, document(post(PNR_A, given="Karl", surname="Lindqvist")))]
    )
    assert (summary.created, summary.updated, summary.hand_registrations_matched) == (0, 1, 1)
    patient = Patient.objects.get()
    assert patient.reference == reference  # the same patient, history kept
    assert patient.registration_source == RegistrationSource.REGISTER
    assert patient.hand_registered_by_id == service_user.pk  # who registered it is kept
    assert patient.identity.surname == "Lindqvist"  # the register wins on the name
    assert patient.home_region_id == "12"
    assert RegisterEvent.objects.filter(patient=patient, kind="hand_matched").count() == 1
    # The write history holds the change of source.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM patients_patientevent WHERE pgh_obj_id = %s "
            "AND registration_source = 'register'",
            [patient.pk],
        )
        assert cursor.fetchone()[0] >= 1


def test_reg_1_a_second_hand_registration_of_the_same_number_is_refused(service_user):
    data = HandRegistration(number=_number(PNR_A), given_names="Kalle", surname="Handsson")
    patient_hand_register(ctx=ctx_for(service_user), data=data)
    outcome = patient_hand_register(ctx=ctx_for(service_user), data=data)
    assert outcome.patient is None
    assert outcome.existing is not None
    assert Patient.objects.count() == 1


# --- REG-2 ------------------------------------------------------------------------------------


def test_reg_2_a_reservnummer_patient_who_gets_a_personnummer_is_merged_by_the_import(
    tmp_path, service_user, prescribing
):
    outcome = patient_hand_register(
        ctx=ctx_for(service_user),
        data=HandRegistration(
            given_names="Nomen",
            surname="Nescio",
            birth_date=parse_identity_number(PNR_B, reserve_formats=[]).birth_date,
        ),
    )
    patient = outcome.patient
    assert patient is not None
    reserve = patient.identity.reserve_number
    reserve_number_record(
        ctx=ctx_for(prescribing),
        patient_reference=patient.reference,
        personal_number=_number(PNR_B),
    )
    register_files_import(paths=[write(tmp_path, document(post(PNR_B, surname="Registersson")))])
    assert Patient.objects.count() == 1
    identity = PatientIdentity.objects.get()
    assert (identity.personal_identity_number, identity.reserve_number) == (PNR_B, reserve)
    assert identity.surname == "Registersson"
    assert RegisterEvent.objects.filter(patient=patient, kind="hand_matched").exists()
    # Either number finds the one patient.
    for text in (PNR_B, reserve):
        answer = patient_search_for_user(ctx_for(service_user), _number(text))
        assert answer is not None
        assert answer.patient.pk == patient.pk


def test_reg_2_the_prescriber_issues_a_reservnummer_and_the_protection_path_works(
    client, prescribing, service_user
):
    ordinary = ordinary_identity_create()
    response = logged_in(client, prescribing).post(
        f"/protection/patients/{ordinary.patient.reference}/reservnummer/", {"action": "issue"}
    )
    assert response.status_code == 302
    identity = PatientIdentity.objects.get(pk=ordinary.pk)
    assert identity.personal_identity_number == ORDINARY_NUMBER  # linked, not replaced
    parsed = parse_reserve_number(identity.reserve_number, formats=["national"])
    assert parsed.birth_date == date(1989, 12, 22)  # the birth date in the personnummer
    notice = Notification.objects.get(user=service_user)
    assert ordinary.patient.reference in notice.subject
    assert "Nilsson" not in notice.subject
    assert identity.reserve_number not in notice.body
    assert AccessEntry.objects.filter(
        object_type="reserve_number", patient=ordinary.patient, user=prescribing
    ).exists()
    # PROT-1: the reservnummer protection that said "register one first" now goes through.
    manager = UserFactory(role="unit_manager")
    reserve_number_protection_decide(
        ctx=ctx_for(manager),
        patient=ordinary.patient,
        unit_id=manager.staff_profile.unit_id,
        reason="Hot från en anställd i vården",
    )
    assert reloaded(ordinary.patient).is_protected


def test_reg_2_a_recorded_reservnummer_is_validated_and_kept(client, prescribing):
    ordinary = ordinary_identity_create()
    url = f"/protection/patients/{ordinary.patient.reference}/reservnummer/"
    logged_in(client, prescribing)
    bad = client.post(url, {"action": "reserve", "number": "22900101AAB1"})
    assert bad.status_code == 400
    assert 'id="id_number_error"' in bad.content.decode()
    assert PatientIdentity.objects.get(pk=ordinary.pk).reserve_number is None
    # A reservnummer the patient already has (one the region's format accepts) is recorded.
    given = reserve_number_generate(formats=["national"], birth_date=None)
    assert client.post(url, {"action": "reserve", "number": given.value}).status_code == 302
    assert PatientIdentity.objects.get(pk=ordinary.pk).reserve_number == given.value


def test_reg_2_a_personnummer_of_another_patient_is_refused(prescribing, service_user):
    ordinary_identity_create()
    outcome = patient_hand_register(
        ctx=ctx_for(service_user),
        data=HandRegistration(
            given_names="Nomen",
            surname="Nescio",
            birth_date=_number(ORDINARY_NUMBER).birth_date,
        ),
    )
    assert outcome.patient is not None
    with translation.override("en"), pytest.raises(RegistrationError, match="another patient"):
        reserve_number_record(
            ctx=ctx_for(prescribing),
            patient_reference=outcome.patient.reference,
            personal_number=_number(ORDINARY_NUMBER),
        )
    assert PatientIdentity.objects.get(pk=outcome.patient.pk).personal_identity_number is None


def test_reg_2_reservnummer_page_is_denied_to_other_roles_and_for_a_masked_patient(
    client, prescribing, protected
):
    ordinary = ordinary_identity_create()
    logistics = UserFactory(role="logistics")
    logged_in(client, logistics)
    url = f"/protection/patients/{ordinary.patient.reference}/reservnummer/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "issue"}).status_code == 403
    logged_in(client, prescribing)
    masked_url = f"/protection/patients/{protected.patient.reference}/reservnummer/"
    assert client.get(masked_url).status_code == 404
    assert client.post(masked_url, {"action": "issue"}).status_code == 404
    assert PatientIdentity.objects.get(pk=protected.pk).reserve_number is None
    assert client.get("/protection/patients/P-NOSUCHPAT1/reservnummer/").status_code == 404


# --- REG-3 ------------------------------------------------------------------------------------


def test_reg_3_the_daily_refresh_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["patients-register-refresh"]
    assert entry["task"] == "patients.tasks.refresh_register"


def test_reg_3_the_daily_refresh_imports_the_inbox_once_and_keeps_a_refused_file(
    tmp_path, settings
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings.NAVET_INBOX_DIR = inbox
    write(inbox, document(post(PNR_A), post(PNR_B)), name="20261207.xml")
    broken = write(inbox, "<Navetavisering><Folkbokforingsposter>", name="20261207-b.xml")
    result = refresh_register()
    assert (result["files"], result["created"], result["refused"]) == (2, 2, 1)
    assert (inbox / "imported" / "20261207.xml").exists()
    assert broken.exists()  # the refused file stays visible in the inbox
    # Safe twice: a second run (or the same file delivered again) changes nothing.
    write(inbox, document(post(PNR_A), post(PNR_B)), name="20261207.xml")
    again = refresh_register()
    assert (again["created"], again["updated"], again["refused"]) == (0, 0, 1)
    assert Patient.objects.count() == 2
    assert broken.exists()


def test_reg_3_customer_service_refreshes_one_person_and_it_is_logged(
    client, service_user, settings, tmp_path
):
    ordinary = ordinary_identity_create()
    settings.NAVET_INBOX_DIR = tmp_path
    write(
        tmp_path,
        document(post(ORDINARY_NUMBER, given="Karin", surname="Bergström"), post(PNR_A)),
    )
    response = logged_in(client, service_user).post(
        f"/protection/patients/{ordinary.patient.reference}/register-refresh/"
    )
    assert response.status_code == 302
    assert PatientIdentity.objects.get(pk=ordinary.pk).surname == "Bergström"
    assert not PatientIdentity.objects.filter(personal_identity_number=PNR_A).exists()  # one person
    entry = AccessEntry.objects.get(object_type="register_refresh")
    assert (entry.patient_id, entry.user_id, entry.outcome) == (
        ordinary.patient.pk,
        service_user.pk,
        AccessOutcome.ALLOWED,
    )


def test_reg_3_a_person_not_in_the_extract_is_reported_and_logged(
    client, service_user, settings, tmp_path
):
    ordinary = ordinary_identity_create()
    settings.NAVET_INBOX_DIR = tmp_path
    write(tmp_path, document(post(PNR_A)))
    response = logged_in(client, service_user).post(
        f"/protection/patients/{ordinary.patient.reference}/register-refresh/", follow=True
    )
    assert "does not hold this patient" in response.content.decode()
    assert AccessEntry.objects.get(object_type="register_refresh").outcome == AccessOutcome.NO_MATCH


def test_reg_3_the_refresh_is_denied_to_other_roles_and_for_a_masked_patient(
    client, prescribing, service_user, protected, tmp_path, settings
):
    settings.NAVET_INBOX_DIR = tmp_path
    ordinary = ordinary_identity_create()
    logged_in(client, prescribing)
    url = f"/protection/patients/{ordinary.patient.reference}/register-refresh/"
    assert client.post(url).status_code == 403
    logged_in(client, service_user)
    assert client.get(url).status_code == 405
    masked = f"/protection/patients/{protected.patient.reference}/register-refresh/"
    assert client.post(masked).status_code == 404
    assert not AccessEntry.objects.filter(object_type="register_refresh").exists()


def test_reg_3_the_patient_page_offers_the_register_actions_by_role(
    client, service_user, prescribing
):
    ordinary = ordinary_identity_create()
    url = f"/patients/{ordinary.patient.reference}/"
    page = logged_in(client, service_user).get(url).content.decode()
    assert "register-refresh/" in page
    assert "reservnummer/" not in page
    page = logged_in(client, prescribing).get(url).content.decode()
    assert "reservnummer/" in page
    assert "register-refresh/" not in page

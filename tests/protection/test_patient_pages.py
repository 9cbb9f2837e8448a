"""The first pages: patient search and the patient page, with their access entries."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import AccessAction, AccessEntry, AccessOutcome
from tests.factories import PatientIdentityFactory, PatientRelationFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDINARY = "198912222398"
PROTECTED = "198912232389"
RELATIVE = "198912232397"


def number_forms(canonical: str) -> list[str]:
    """Every way a person may type the number (IDENT-1)."""
    short = canonical[2:]
    return [canonical, f"{canonical[:8]}-{canonical[8:]}", short, f"{short[:6]}-{short[6:]}"]


def leaks(content: str, canonical: str) -> list[str]:
    return [form for form in number_forms(canonical) if form in content]


@pytest.fixture
def prescriber():
    return UserFactory(username="anna", role="prescriber")


@pytest.fixture
def client_en(client, prescriber):
    client.force_login(prescriber)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def ordinary():
    return PatientIdentityFactory(
        personal_identity_number=ORDINARY,
        given_names="Karin Sofia",
        name_in_use_marker=20,
        surname="Nilsson",
    )


# `protected` comes from tests/conftest.py.


@pytest.mark.parametrize("typed", number_forms(ORDINARY))
def test_audit_1_search_by_any_form_shows_patient_and_logs_hit(
    client_en, prescriber, ordinary, typed
):
    response = client_en.post("/", {"number": typed}, REMOTE_ADDR="10.1.2.3")
    content = response.content.decode()
    assert response.status_code == 200
    assert "Sofia Nilsson" in content  # the name in use (Tilltalsnamnsmarkering 20)
    assert "19891222-2398" in content
    assert "Region Skåne" in content
    entry = AccessEntry.objects.get()
    assert entry.action == AccessAction.SEARCH_HIT
    assert entry.outcome == AccessOutcome.ALLOWED
    assert entry.patient_id == ordinary.patient_id
    assert entry.user_id == prescriber.pk
    assert entry.unit_id == prescriber.staff_profile.unit_id
    assert entry.ip_address == "10.1.2.3"
    assert len(entry.session_ref) == 16
    assert entry.patient_protected is False


def test_audit_4_search_without_match_says_so_and_logs_no_term(client_en):
    response = client_en.post("/", {"number": ORDINARY})
    assert "No patient was found with that number." in response.content.decode()
    entry = AccessEntry.objects.get()
    assert (entry.action, entry.outcome, entry.patient_id) == ("search", "no_match", None)
    stored = " ".join(str(v) for v in AccessEntry.objects.values().get().values())
    assert not leaks(stored, ORDINARY)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("19891222-2399", "check digit"),
        ("19891322-2398", "date"),
        ("abc", "10 or 12 digits"),
    ],
)
def test_ident_1_bad_input_names_field_and_problem_and_reads_nothing(client_en, typed, message):
    response = client_en.post("/", {"number": typed})
    content = response.content.decode()
    assert "Personnummer, samordningsnummer or reservnummer:" in content
    assert message in content
    assert AccessEntry.objects.count() == 0


def test_leak_1_search_term_never_in_a_url(client_en, ordinary):
    """A GET with the number in the query string does not search (numbers travel in POST only)."""
    response = client_en.get("/", {"number": ORDINARY})
    assert "Sofia" not in response.content.decode()
    assert AccessEntry.objects.count() == 0


@pytest.mark.parametrize("typed", number_forms(PROTECTED))
def test_access_1_protected_patient_is_a_masked_row_even_by_full_number(
    client_en, protected, typed
):
    """PROT-2: ordinary users see one label, "Skyddade personuppgifter", and the birth year."""
    response = client_en.post("/", {"number": typed})
    content = response.content.decode()
    assert "Protected identity" in content  # PROT-2: one label
    assert "1989" in content  # the birth year only
    for secret in ("Hemlig", "Gömdasson", "Gömdavägen", "21120", "MALMÖ", "Region Skåne"):
        assert secret not in content
    assert not leaks(content, PROTECTED)
    entry = AccessEntry.objects.get()
    assert (entry.outcome, entry.patient_protected) == (AccessOutcome.DENIED, True)


def test_prot_5_person_linked_to_protected_patient_is_masked(client_en, protected):
    relative = PatientIdentityFactory(
        personal_identity_number=RELATIVE, given_names="Make", surname="Maken"
    )
    PatientRelationFactory(patient=protected.patient, related_identity_number=RELATIVE)
    content = client_en.post("/", {"number": RELATIVE}).content.decode()
    assert "Maken" not in content
    assert "Protected identity" in content
    page = client_en.get(f"/patients/{relative.patient.reference}/").content.decode()
    assert "Maken" not in page
    assert not leaks(page, RELATIVE)


def test_prot_5_relation_seen_from_the_relative_side_masks_too(client_en, protected):
    relative = PatientIdentityFactory(personal_identity_number=RELATIVE, surname="Maken")
    PatientRelationFactory(patient=relative.patient, related_identity_number=PROTECTED, kind="B")
    content = client_en.get(f"/patients/{relative.patient.reference}/").content.decode()
    assert "Maken" not in content


def test_audit_1_patient_page_shows_patient_and_logs_read(client_en, prescriber, ordinary):
    response = client_en.get(f"/patients/{ordinary.patient.reference}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "Sofia Nilsson" in content
    assert "Active devices" in content
    entry = AccessEntry.objects.get()
    assert (entry.action, entry.outcome, entry.patient_id) == ("read", "allowed", ordinary.pk)


def test_access_1_protected_patient_page_is_masked_and_prints_only_a_notice(client_en, protected):
    response = client_en.get(f"/patients/{protected.patient.reference}/")
    content = response.content.decode()
    assert "Hemlig" not in content
    assert not leaks(content, PROTECTED)
    assert "print-protected.css" in content
    assert AccessEntry.objects.get().outcome == AccessOutcome.DENIED


def test_unknown_reference_is_404(client_en):
    assert client_en.get("/patients/P-XXXXXXXXXX/").status_code == 404


def test_denied_without_the_role(client, ordinary):
    client.force_login(UserFactory(username="lars", role="logistics"))
    assert client.post("/", {"number": ORDINARY}).status_code == 403
    assert client.get(f"/patients/{ordinary.patient.reference}/").status_code == 403
    assert AccessEntry.objects.count() == 0


def test_denied_when_logged_out(client, ordinary):
    response = client.get(f"/patients/{ordinary.patient.reference}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_search_and_page_pin_their_query_counts(client_en, ordinary):
    # Session, user with staff profile (unit), one permission read (user's and groups' in one,
    # patients.auth.StaffModelBackend: 8 to 6, 11 to 9), the lookup with the PROT-5 guards in
    # the same statement (issue 16: 6 to 5, 11 to 10), access entry; no savepoint of the gate's
    # own. The page reads the patient with its identity and guards, then asks in one statement
    # which of the higher floors' sections have rows for the patient (devices held, deviations,
    # consumable prescriptions, home-region cost, BILL-6); a section with none reads nothing
    # (issue 16: 10 to 6 for a patient with none; tests/protection/test_patient_sections.py
    # for one with devices).
    with CaptureQueriesContext(connection) as search:
        client_en.post("/", {"number": ORDINARY})
    with CaptureQueriesContext(connection) as page:
        client_en.get(f"/patients/{ordinary.patient.reference}/")
    assert len(search) == 5, [q["sql"] for q in search]
    assert len(page) == 6, "\n".join(q["sql"][:150] for q in page)


def test_ui_is_swedish_by_default(client, prescriber):
    client.force_login(prescriber)
    content = client.get("/").content.decode()
    assert 'lang="sv"' in content
    assert "Sök patient" in content

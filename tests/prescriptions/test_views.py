"""The prescriber's pages through the test client: each flow, each refusal on the page, a denied
test for every view and pinned query counts. Identity numbers are Skatteverket's test numbers
(IDENT-4)."""

from __future__ import annotations

import ast
import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from patients.models import AccessAction, AccessEntry, Patient
from prescriptions.models import (
    ActivityState,
    ConsultationActivity,
    EligibilityRecord,
    HomeRegionAgreement,
    Prescription,
    PrescriptionLine,
    PrescriptionState,
    ReplacementGroup,
    ReplacementKind,
)
from prescriptions.services import eligibility
from prescriptions.views.prescription import CRITERION_LABELS
from tests.factories import PatientFactory, UserFactory
from tests.personas import PROTECTED_NUMBER, logged_in
from tests.prescriptions.conftest import OTHER_REGION, accessory, article
from tests.prescriptions.factories import PrescriberProfileFactory

pytestmark = pytest.mark.django_db
S = PrescriptionState
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def start(client: Client, patient: Patient) -> str:
    """Start a draft through the page; the prescription number from the redirect."""
    response = client.post(f"/prescriptions/patients/{patient.reference}/new/")
    assert response.status_code == 302, response.content[:500]
    match = re.fullmatch(r"/prescriptions/(F-[0-9A-Z]{8})/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def add(client: Client, number: str, article_id: int, **extra: Any) -> Any:
    return client.post(f"/prescriptions/{number}/lines/", {"article": article_id, **extra})


def page(client: Client, number: str) -> str:
    response = client.get(f"/prescriptions/{number}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def rx_client(client: Client, rx: Any) -> Client:
    logged_in(client, rx)
    return client


# --- the ordinary flow --------------------------------------------------------------------------


def test_presc_1_ordinary_patient_from_patient_page_to_approved(rx_client, rx, ordinary):
    """PRESC-1: start from the patient's page, add an article and its accessory, set need and
    urgency, submit; approved, with the eligibility "why" on the page and the history."""
    content = rx_client.get(f"/patients/{ordinary.reference}/").content.decode()
    assert f'href="/prescriptions/patients/{ordinary.reference}/"' in content
    assert rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").status_code == 200

    rollator = article("2900", name="Rollator Gloss")
    basket = accessory(rollator, "290")
    number = start(rx_client, ordinary)
    content = rx_client.get(f"/prescriptions/{number}/", {"q": rollator.name}).content.decode()
    assert "Add to the prescription" in content
    assert add(rx_client, number, rollator.pk).status_code == 302
    line = PrescriptionLine.objects.get(prescription__reference=number)
    assert add(rx_client, number, basket.pk, main_line=line.pk).status_code == 302
    response = rx_client.post(
        f"/prescriptions/{number}/details/",
        {"need": "Går osäkert utomhus", "urgency": "urgent", "fitting_note": "Höjd 85 cm"},
    )
    assert response.status_code == 302
    response = rx_client.post(f"/prescriptions/{number}/submit/")
    assert response.status_code == 302
    assert response["Location"] == f"/prescriptions/{number}/#outcome"

    prescription = Prescription.objects.get(reference=number)
    assert prescription.state == S.APPROVED
    assert prescription.urgency == "urgent"
    assert prescription.lines.count() == 2
    content = page(rx_client, number)
    assert "Approved" in content
    # The "why": each criterion with its value and rule.
    assert "Total cost with accessories (SEK)" in content
    assert "3190.00" in content
    assert "REGION-1" in content
    assert "PRESC-5" in content
    assert "Record the fitting" in content
    assert "The patient has signed the liability form." in content


def test_presc_1_my_prescriptions_lists_states_and_filters(rx_client, rx, ordinary):
    number = start(rx_client, ordinary)
    content = rx_client.get("/prescriptions/").content.decode()
    assert number in content
    assert "Draft" in content
    assert number not in rx_client.get("/prescriptions/", {"state": "approved"}).content.decode()


def test_error_summary_names_the_field(rx_client, ordinary):
    number = start(rx_client, ordinary)
    response = rx_client.post(f"/prescriptions/{number}/details/", {"urgency": "whenever"})
    content = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary" role="alert"' in content
    assert re.search(r'<a href="#id_urgency[^"]*">Urgency: ', content), content


def test_presc_1_submit_without_lines_shows_every_reason(rx_client, ordinary):
    number = start(rx_client, ordinary)
    response = rx_client.post(f"/prescriptions/{number}/submit/")
    assert response.status_code == 400
    assert "Add at least one article." in response.content.decode()
    assert Prescription.objects.get(reference=number).state == S.DRAFT


def test_free_text_refuses_a_personnummer(rx_client, ordinary):
    number = start(rx_client, ordinary)
    response = rx_client.post(
        f"/prescriptions/{number}/details/",
        {"need": f"Gäller {PROTECTED_NUMBER}", "urgency": "normal"},
    )
    assert response.status_code == 400
    assert "do not write a personnummer" in response.content.decode()
    assert Prescription.objects.get(reference=number).need == ""


def test_cancel_from_the_page(rx_client, ordinary):
    number = start(rx_client, ordinary)
    assert (
        rx_client.post(f"/prescriptions/{number}/cancel/", {"reason": "Fel patient"}).status_code
        == 302
    )
    assert Prescription.objects.get(reference=number).state == S.CANCELLED


def _criterion_codes() -> set[str]:
    """Every criterion key the eligibility service can write: the first argument of each
    ``ev.add(...)`` in its source, so a criterion added later is walked too."""
    codes: set[str] = set()
    for node in ast.walk(ast.parse(Path(eligibility.__file__).read_text())):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "ev"
        ):
            continue
        key = node.args[0] if node.args else None
        # A key computed at run time could not be walked: the service names each one.
        assert isinstance(key, ast.Constant), ast.dump(node)
        assert isinstance(key.value, str), ast.dump(node)
        codes.add(key.value)
    return codes


def test_the_why_shows_a_label_for_every_criterion_and_never_the_raw_key(rx_client, ordinary):
    """The eligibility "why" names every criterion the service can record, in Swedish and in
    English; no key (``largest_device_cost_sek`` and the like) reaches the page."""
    codes = _criterion_codes()
    assert "largest_device_cost_sek" in codes
    number = start(rx_client, ordinary)
    add(rx_client, number, article("2900").pk)
    assert rx_client.post(f"/prescriptions/{number}/submit/").status_code == 302
    prescription = Prescription.objects.get(reference=number)
    written = {item["criterion"] for item in prescription.eligibility_records.get().criteria}
    assert written <= codes  # the walk finds what a real evaluation writes
    ordered = sorted(codes)
    # A later record: the page shows the latest, here with every criterion at once.
    EligibilityRecord.objects.create(
        prescription=prescription,
        criteria=[
            {"criterion": code, "value": True, "rule": "X-1", "effect": "ok", "message": ""}
            for code in ordered
        ],
        outcome=prescription.state,
        total_cost_sek=0,
    )
    for language in ("en", "sv"):
        rx_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        content = page(rx_client, number)
        table = re.search(r'<table class="eligibility">.*?</table>', content, re.S)
        assert table, content
        shown = [
            html.unescape(cell) for cell in re.findall(r'<th scope="row">(.*?)</th>', table[0])
        ]
        with translation.override(language):
            assert shown == [str(CRITERION_LABELS[code]) for code in ordered]
        for code in ordered:
            assert code not in table[0], (language, code)
        if language == "sv":
            with translation.override("en"):
                english = {str(CRITERION_LABELS[code]) for code in ordered}
            assert not english & set(shown), "a label without its Swedish translation"


# --- protected patient ------------------------------------------------------------------------


def test_presc_2_protected_patient_delivery_shown_as_the_unit_with_no_field(
    client, rx, protected_patient
):
    """PRESC-2: the page shows the prescriber's unit and the prescriber as contact, computed;
    there is no delivery choice, and a forged POST asking for the home address is refused."""
    logged_in(client, rx, stepped_up=True)
    number = start(client, protected_patient)
    content = page(client, number)
    unit = rx.prescriber_profile.units.get()
    destination = re.search(r'<dd id="delivery-destination">(.*?)</dd>', content, re.S)
    assert destination
    assert unit.delivery_street in destination.group(1)
    contact = re.search(r'<dd id="delivery-contact">(.*?)</dd>', content, re.S)
    assert contact
    assert rx.get_username() in contact.group(1)
    assert 'name="kind"' not in content
    assert "print-protected.css" in content

    response = client.post(f"/prescriptions/{number}/delivery/", {"kind": "patient_address"})
    assert response.status_code == 400
    assert "delivery goes to your unit" in response.content.decode()
    assert Prescription.objects.get(reference=number).delivery_kind == "unit"


def test_presc_3_special_dietary_food_refused_on_the_page_with_the_pharmacy_message(
    client, rx, protected_patient
):
    logged_in(client, rx, stepped_up=True)
    number = start(client, protected_patient)
    food = article("540", area_code="nutrition", name="Sondnäring standard")
    response = add(client, number, food.pk)
    content = response.content.decode()
    assert response.status_code == 400
    assert "error-summary" in content
    assert "prescribed through a pharmacy" in content
    assert not PrescriptionLine.objects.filter(prescription__reference=number).exists()


def test_presc_4_fitting_asks_for_the_journal_note_for_a_protected_patient(
    client, rx, protected_patient
):
    logged_in(client, rx, stepped_up=True)
    number = start(client, protected_patient)
    add(client, number, article("2900").pk)
    client.post(f"/prescriptions/{number}/submit/")
    content = page(client, number)
    assert "The journal notes that the patient was given the information" in content
    assert "liability form." not in content.replace("no liability form", "")
    assert client.post(f"/prescriptions/{number}/fitting/", {"confirm": "on"}).status_code == 302
    prescription = Prescription.objects.get(reference=number)
    assert prescription.journal_note_confirmed
    assert not prescription.liability_form_signed


def test_access_4_grant_holder_is_sent_to_step_up_first(client, rx, protected_patient):
    logged_in(client, rx)
    page_path = f"/prescriptions/patients/{protected_patient.reference}/"
    response = client.get(page_path)
    assert response.status_code == 302
    assert response["Location"] == "/protection/step-up/?" + urlencode({"next": page_path})


def test_access_1_masked_patient_gets_404_everywhere_and_my_list_shows_only_the_label(
    client, rx, protected_patient
):
    """ACCESS-1: once the grant ends, the prescriber's own prescription for the patient is a 404
    and the list names the patient by the protection label only, not even the reference."""
    logged_in(client, rx, stepped_up=True)
    number = start(client, protected_patient)
    from protection.models import Grant

    Grant.objects.filter(user=rx).update(ends_at=timezone.now())
    reference = protected_patient.reference
    assert client.get(f"/prescriptions/{number}/").status_code == 404
    assert client.get(f"/prescriptions/patients/{reference}/").status_code == 404
    assert client.post(f"/prescriptions/patients/{reference}/new/").status_code == 404
    assert client.post(f"/prescriptions/{number}/submit/").status_code == 404
    content = client.get("/prescriptions/").content.decode()
    assert number in content
    assert reference not in content
    assert "Protected identity" in content


# --- out-of-region patient --------------------------------------------------------------------


def test_region_2_out_of_region_over_limit_blocked_until_the_agreement_is_recorded(
    rx_client, rx, out_of_region
):
    number = start(rx_client, out_of_region)
    wheelchair = article("12500", name="Manuell rullstol aktiv")
    add(rx_client, number, wheelchair.pk)
    rx_client.post(f"/prescriptions/{number}/submit/")
    assert Prescription.objects.get(reference=number).state == S.AWAITING_AGREEMENT
    content = page(rx_client, number)
    assert "Blocked until the home region" in content
    assert 'enctype="multipart/form-data"' in content

    # Missing document: the summary names the field, nothing is recorded.
    response = rx_client.post(
        f"/prescriptions/{number}/agreement/",
        {"issuing_region": OTHER_REGION, "agreement_reference": "BF-2026-17",
         "issued_on": timezone.localdate().isoformat(), "supply": "rent"},
    )  # fmt: skip
    assert response.status_code == 400
    assert re.search(r'href="#id_document">The agreement document: ', response.content.decode())
    response = rx_client.post(
        f"/prescriptions/{number}/agreement/",
        {"issuing_region": OTHER_REGION, "agreement_reference": "BF-2026-17",
         "issued_on": timezone.localdate().isoformat(), "supply": "rent",
         "document": SimpleUploadedFile("bf.pdf", PDF, content_type="application/pdf")},
    )  # fmt: skip
    assert response.status_code == 302
    assert Prescription.objects.get(reference=number).state == S.APPROVED
    agreement = HomeRegionAgreement.objects.get()
    assert (agreement.issuing_region_id, agreement.reference) == (OTHER_REGION, "BF-2026-17")
    assert "BF-2026-17" in page(rx_client, number)


def test_region_2_agreement_from_the_wrong_region_is_refused_on_the_page(rx_client, out_of_region):
    number = start(rx_client, out_of_region)
    add(rx_client, number, article("12500").pk)
    rx_client.post(f"/prescriptions/{number}/submit/")
    response = rx_client.post(
        f"/prescriptions/{number}/agreement/",
        {"issuing_region": "12", "agreement_reference": "BF-1",
         "issued_on": timezone.localdate().isoformat(), "supply": "rent",
         "document": SimpleUploadedFile("bf.pdf", PDF, content_type="application/pdf")},
    )  # fmt: skip
    assert response.status_code == 400
    assert "home region" in response.content.decode()
    assert Prescription.objects.get(reference=number).state == S.AWAITING_AGREEMENT


# --- replacements and the risk assessment ------------------------------------------------------


def test_presc_8_proposed_replacement_accepted_on_the_page(rx_client, ordinary):
    group = ReplacementGroup.objects.create(code="G-ROLL", kind=ReplacementKind.OPTIONAL)
    wanted = article("2900", replacement_group=group, out_of_stock=True)
    other = article("3600", replacement_group=group)
    number = start(rx_client, ordinary)
    add(rx_client, number, wanted.pk)
    content = page(rx_client, number)
    assert "Proposed replacement" in content
    decision = re.search(rf"/prescriptions/{number}/replacements/(\d+)/", content)
    assert decision
    response = rx_client.post(decision.group(0), {"decision": "accept"})
    assert response.status_code == 302
    line = PrescriptionLine.objects.get(prescription__reference=number)
    assert (line.article_id, line.requested_article_id) == (other.pk, wanted.pk)


def test_presc_6_signing_needs_step_up_then_the_prescription_goes_on(client, rx, ordinary):
    logged_in(client, rx)
    number = start(client, ordinary)
    add(client, number, article("2900").pk)
    line = PrescriptionLine.objects.get(prescription__reference=number)
    client.post(
        f"/prescriptions/{number}/lines/{line.pk}/",
        {f"line-{line.pk}-quantity": 1, f"line-{line.pk}-supply": "rent",
         f"line-{line.pk}-special_adaptation": "on"},
    )  # fmt: skip
    client.post(f"/prescriptions/{number}/submit/")
    assert Prescription.objects.get(reference=number).state == S.AWAITING_SIGNATURE
    assert "Sign the risk assessment" in page(client, number)
    response = client.post(f"/prescriptions/{number}/sign/", {"confirm": "on"})
    assert response.status_code == 302
    # Back to the prescription's page after step-up: a POST is never replayed.
    assert response["Location"] == "/protection/step-up/?" + urlencode(
        {"next": f"/prescriptions/{number}/"}
    )
    client.post("/protection/step-up/", {"password": "pw-for-tests-only"})
    assert client.post(f"/prescriptions/{number}/sign/", {"confirm": "on"}).status_code == 302
    assert Prescription.objects.get(reference=number).state == S.APPROVED


# --- PRESC-7: consultation activities on the patient's page ------------------------------------


def activities_url(patient: Patient, activity: ConsultationActivity | None = None) -> str:
    base = f"/prescriptions/patients/{patient.reference}/activities/"
    return f"{base}{activity.pk}/book/" if activity else base


def book(client: Client, patient: Patient, activity: ConsultationActivity, when: str) -> Any:
    return client.post(
        activities_url(patient, activity), {f"activity-{activity.pk}-booked_for": when}
    )


def in_an_hour() -> str:
    return timezone.localtime(timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


def test_presc_7_register_an_activity_from_the_patient_page(rx_client, rx, ordinary):
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert 'id="activities"' in content
    assert f'action="{activities_url(ordinary)}"' in content
    response = rx_client.post(activities_url(ordinary))
    assert response.status_code == 302
    assert response["Location"] == f"/prescriptions/patients/{ordinary.reference}/#activities"
    activity = ConsultationActivity.objects.get(patient=ordinary)
    assert (activity.prescriber, activity.state) == (rx, ActivityState.OPEN)
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    # The booking form: a labelled date-time field of its own per activity.
    assert f'<label for="id_activity-{activity.pk}-booked_for">Booked time</label>' in content
    assert 'type="datetime-local"' in content
    assert f'action="{activities_url(ordinary, activity)}"' in content


def test_presc_7_book_a_time_for_the_activity(rx_client, ordinary):
    rx_client.post(activities_url(ordinary))
    activity = ConsultationActivity.objects.get(patient=ordinary)
    when = in_an_hour()
    response = book(rx_client, ordinary, activity, when)
    assert response.status_code == 302
    assert response["Location"] == f"/prescriptions/patients/{ordinary.reference}/#activities"
    activity.refresh_from_db()
    assert activity.state == ActivityState.BOOKED
    assert timezone.localtime(activity.booked_for).strftime("%Y-%m-%dT%H:%M") == when
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert f"booked for {when.replace('T', ' ')}" in content
    # Booked: rebooking means a new activity, so no booking form any more.
    assert f'action="{activities_url(ordinary, activity)}"' not in content


def test_presc_7_a_time_past_is_refused_naming_the_field_and_keeping_what_was_typed(
    rx_client, ordinary
):
    rx_client.post(activities_url(ordinary))
    activity = ConsultationActivity.objects.get(patient=ordinary)
    response = book(rx_client, ordinary, activity, "2020-01-02T10:30")
    content = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary" role="alert"' in content
    assert (
        f'<a href="#id_activity-{activity.pk}-booked_for">'
        "Booked time: choose a time in the future.</a>"
    ) in content
    assert 'value="2020-01-02T10:30"' in content
    activity.refresh_from_db()
    assert (activity.state, activity.booked_for) == (ActivityState.OPEN, None)


def test_presc_7_a_time_that_is_no_time_is_refused_naming_the_field(rx_client, ordinary):
    rx_client.post(activities_url(ordinary))
    activity = ConsultationActivity.objects.get(patient=ordinary)
    response = book(rx_client, ordinary, activity, "next tuesday")
    content = response.content.decode()
    assert response.status_code == 400
    assert re.search(
        rf'<a href="#id_activity-{activity.pk}-booked_for">Booked time: [^<]+</a>', content
    ), content
    assert 'value="next tuesday"' in content
    assert ConsultationActivity.objects.get(pk=activity.pk).state == ActivityState.OPEN


def test_presc_7_denied_another_units_activity_is_not_found(client, rx, ordinary):
    """House style 5: another unit's activity, and an activity reached under another patient,
    answer as one that does not exist."""
    logged_in(client, rx)
    client.post(activities_url(ordinary))
    activity = ConsultationActivity.objects.get(patient=ordinary)
    other = PrescriberProfileFactory().user
    logged_in(client, other)
    assert book(client, ordinary, activity, in_an_hour()).status_code == 404
    content = client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert f'id="activity-{activity.pk}"' not in content  # not listed for another unit
    logged_in(client, rx)
    someone_else = PatientFactory()
    assert book(client, someone_else, activity, in_an_hour()).status_code == 404
    assert book(client, ordinary, activity, "x").status_code == 400  # the right one is found
    activity.refresh_from_db()
    assert (activity.state, activity.booked_for) == (ActivityState.OPEN, None)


def test_presc_7_denied_a_masked_patient_is_not_found(client, rx, protected_patient):
    """ACCESS-1: a same-unit colleague without a grant gets 404 for registering and for booking,
    like for a patient that does not exist; each refusal is logged once (AUDIT-1)."""
    logged_in(client, rx, stepped_up=True)
    assert client.post(activities_url(protected_patient)).status_code == 302
    activity = ConsultationActivity.objects.get(patient=protected_patient)
    colleague = PrescriberProfileFactory(
        user=UserFactory(role="prescriber", unit=rx.staff_profile.unit),
        units=[rx.prescriber_profile.units.get()],
    ).user
    logged_in(client, colleague)
    before = AccessEntry.objects.filter(patient=protected_patient, outcome="denied").count()
    assert client.post(activities_url(protected_patient)).status_code == 404
    assert book(client, protected_patient, activity, in_an_hour()).status_code == 404
    after = AccessEntry.objects.filter(patient=protected_patient, outcome="denied").count()
    assert after == before + 2
    assert ConsultationActivity.objects.filter(patient=protected_patient).count() == 1
    activity.refresh_from_db()
    assert activity.state == ActivityState.OPEN


def test_access_4_presc_7_a_grant_holder_steps_up_first_and_comes_back_to_the_page(
    client, rx, protected_patient
):
    logged_in(client, rx)
    response = client.post(activities_url(protected_patient))
    page_path = f"/prescriptions/patients/{protected_patient.reference}/"
    assert response["Location"] == "/protection/step-up/?" + urlencode({"next": page_path})
    assert not ConsultationActivity.objects.exists()


# --- denied -----------------------------------------------------------------------------------

POST_ACTIONS = ["lines/", "details/", "delivery/", "submit/", "agreement/", "sign/", "fitting/",
                "cancel/"]  # fmt: skip


@pytest.fixture
def draft(rx: Any, ordinary: Patient) -> Prescription:
    client = logged_in(Client(), rx)
    return Prescription.objects.get(reference=start(client, ordinary))


def every_url(prescription: Prescription) -> list[tuple[str, str]]:
    number, reference = prescription.reference, prescription.patient.reference
    line = prescription.lines.first()
    line_id = line.pk if line else 1
    return [
        ("get", "/prescriptions/"),
        ("get", f"/prescriptions/patients/{reference}/"),
        ("post", f"/prescriptions/patients/{reference}/new/"),
        ("post", f"/prescriptions/patients/{reference}/activities/"),
        ("post", f"/prescriptions/patients/{reference}/activities/1/book/"),
        ("get", f"/prescriptions/{number}/"),
        ("post", f"/prescriptions/{number}/lines/{line_id}/"),
        ("post", f"/prescriptions/{number}/lines/{line_id}/remove/"),
        ("post", f"/prescriptions/{number}/replacements/1/"),
        *[("post", f"/prescriptions/{number}/{action}") for action in POST_ACTIONS],
    ]


def test_denied_anonymous_is_sent_to_login(client, draft):
    for method, url in every_url(draft):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


@pytest.mark.parametrize("role", ["logistics", "technician", "billing", "unit_manager"])
def test_denied_roles_without_prescribing_get_403(client, draft, role):
    logged_in(client, UserFactory(role=role))
    for method, url in every_url(draft):
        assert getattr(client, method)(url).status_code == 403, url


def test_denied_superuser_gets_no_silent_access(client, draft):
    logged_in(client, UserFactory(is_superuser=True, is_staff=True))
    for method, url in every_url(draft):
        assert getattr(client, method)(url).status_code == 403, url


def test_denied_prescriber_of_another_unit_gets_404_for_the_prescription(client, draft):
    """House style 5: another unit's prescription answers as one that does not exist."""
    other = PrescriberProfileFactory().user
    logged_in(client, other)
    number = draft.reference
    assert client.get(f"/prescriptions/{number}/").status_code == 404
    assert client.get("/prescriptions/F-ZZZZZZZZ/").status_code == 404
    for action in POST_ACTIONS:
        assert client.post(f"/prescriptions/{number}/{action}").status_code == 404, action
    assert number not in client.get("/prescriptions/").content.decode()
    assert Prescription.objects.get(pk=draft.pk).state == S.DRAFT


def test_denied_get_on_a_post_only_action_changes_nothing(rx_client, draft):
    for action in POST_ACTIONS:
        assert rx_client.get(f"/prescriptions/{draft.reference}/{action}").status_code == 405
    reference = draft.patient.reference
    for action in ("new/", "activities/", "activities/1/book/"):
        assert rx_client.get(f"/prescriptions/patients/{reference}/{action}").status_code == 405
    assert not ConsultationActivity.objects.exists()


def test_audit_1_each_read_of_the_prescription_page_is_logged(rx_client, draft):
    before = AccessEntry.objects.filter(patient=draft.patient, action=AccessAction.READ).count()
    page(rx_client, draft.reference)
    after = AccessEntry.objects.filter(patient=draft.patient, action=AccessAction.READ).count()
    assert after == before + 1


# --- query counts -----------------------------------------------------------------------------


def test_prescription_page_query_count_does_not_grow_with_lines(
    rx_client, ordinary, django_assert_num_queries
):
    numbers = []
    for count in (1, 20):
        number = start(rx_client, ordinary)
        for _ in range(count):
            add(rx_client, number, article("900").pk)
        numbers.append(number)
    with django_assert_num_queries(PRESCRIPTION_PAGE_QUERIES):
        page(rx_client, numbers[0])
    with django_assert_num_queries(PRESCRIPTION_PAGE_QUERIES):
        content = page(rx_client, numbers[1])
    assert content.count('<li id="line-') == 20


def test_my_prescriptions_query_count_is_pinned(rx_client, ordinary, django_assert_num_queries):
    for _ in range(3):
        start(rx_client, ordinary)
    with django_assert_num_queries(MY_LIST_QUERIES):
        rx_client.get("/prescriptions/")
    for _ in range(5):
        start(rx_client, ordinary)
    with django_assert_num_queries(MY_LIST_QUERIES):
        content = rx_client.get("/prescriptions/").content.decode()
    assert content.count('<th scope="row"><a href="/prescriptions/F-') == 8


def test_patient_page_query_count_is_pinned(rx_client, ordinary, django_assert_num_queries):
    for _ in range(2):
        number = start(rx_client, ordinary)
        add(rx_client, number, article("900").pk)
        rx_client.post(f"/prescriptions/{number}/submit/")
        rx_client.post(activities_url(ordinary))
    booked = ConsultationActivity.objects.filter(patient=ordinary).first()
    assert booked is not None
    book(rx_client, ordinary, booked, in_an_hour())
    with django_assert_num_queries(PATIENT_PAGE_QUERIES):
        content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert content.count("Approved") == 2
    assert content.count('class="activity"') == 2  # one open, one booked: one query for both


# Pinned: session, user, the gate and its access entry, the prescription, lines, eligibility,
# replacements, history, agreements, the catalogue form's areas. Not one per line.
PRESCRIPTION_PAGE_QUERIES = 14
MY_LIST_QUERIES = 5
PATIENT_PAGE_QUERIES = 11  # and the activities of the user's units (PRESC-7)

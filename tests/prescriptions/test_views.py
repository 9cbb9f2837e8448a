"""The prescriber's pages through the test client: each flow and each refusal on the page, for
an ordinary, a protected and an out-of-region patient. PRESC-7's activities are in
test_activity_pages.py, the denied paths in test_views_denied.py, the pinned query counts in
test_views_query_counts.py. Identity numbers are Skatteverket's test numbers (IDENT-4)."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from prescriptions.models import (
    EligibilityRecord,
    HomeRegionAgreement,
    Prescription,
    PrescriptionLine,
    PrescriptionState,
    ReplacementGroup,
    ReplacementKind,
)
from prescriptions.presenters import CRITERION_LABELS
from prescriptions.services import eligibility
from tests.personas import PROTECTED_NUMBER, logged_in
from tests.prescriptions.conftest import OTHER_REGION, accessory, article
from tests.prescriptions.drafting import pdf_bytes
from tests.prescriptions.pages import add, page, start, submit

pytestmark = pytest.mark.django_db
S = PrescriptionState
PDF = pdf_bytes()


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
    # The page sends the whole draft form with every button.
    response = rx_client.post(
        f"/prescriptions/{number}/submit/",
        {"need": "Går osäkert utomhus", "urgency": "urgent", "fitting_note": "Höjd 85 cm"},
    )
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
    assert 'class="aksel-error-summary" role="alert"' in content
    assert re.search(r'<a class="aksel-link" href="#id_urgency[^"]*">Urgency: ', content), content


def test_presc_1_submit_without_lines_shows_every_reason(rx_client, ordinary):
    number = start(rx_client, ordinary)
    response = submit(rx_client, number)
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
        rx_client.post(
            f"/prescriptions/{number}/cancel/",
            {"cancel-reason": "Fel patient", "cancel-confirm": "on"},
        ).status_code
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
    assert submit(rx_client, number).status_code == 302
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
        table = re.search(r'<table class="[^"]*\beligibility\b[^"]*">.*?</table>', content, re.S)
        assert table, content
        shown = [
            html.unescape(cell) for cell in re.findall(r'<th [^>]*scope="row">(.*?)</th>', table[0])
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
    submit(client, number)
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
    assert submit(client, number).status_code == 404
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
    submit(rx_client, number)
    assert Prescription.objects.get(reference=number).state == S.AWAITING_AGREEMENT
    content = page(rx_client, number)
    assert "The prescription waits for the home region" in content
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
    submit(rx_client, number)
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


def test_presc_6_an_adapted_line_is_approved_and_the_page_asks_for_no_signature(
    client, rx, ordinary
):
    """PRESC-6 as the routine has it: the prescription with a specially adapted line is
    approved and ordered as usual; the page tells the prescriber the device waits for the
    adaptation's signature on its work order, and offers no signature of its own."""
    logged_in(client, rx)
    number = start(client, ordinary)
    add(client, number, article("2900").pk)
    line = PrescriptionLine.objects.get(prescription__reference=number)
    client.post(
        f"/prescriptions/{number}/lines/{line.pk}/",
        {f"line-{line.pk}-quantity": 1, f"line-{line.pk}-supply": "rent",
         f"line-{line.pk}-special_adaptation": "on"},
    )  # fmt: skip
    submit(client, number)
    assert Prescription.objects.get(reference=number).state == S.APPROVED
    content = page(client, number)
    assert "Sign the risk assessment" not in content
    assert 'id="adaptation-note"' in content
    assert client.post(f"/prescriptions/{number}/sign/", {"confirm": "on"}).status_code == 404

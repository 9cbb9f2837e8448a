"""The prescription page as one draft form (issue 15): nothing typed is lost to another button,
submit needs the need, step-up gives back what was typed, cancelling asks for a reason, the
outcome opens with a sentence and keeps rule ids in the auditors' detail, and the delivery shows
where the goods go. Identity numbers are Skatteverket's test numbers (IDENT-4)."""

from __future__ import annotations

import html
import logging
import re
import time
from typing import Any
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from prescriptions.models import Prescription, PrescriptionLine, PrescriptionState
from prescriptions.views.draft_form import typed_session_key
from protection.gate import STEP_UP_SESSION_KEY
from tests.personas import logged_in
from tests.prescriptions.conftest import article
from tests.prescriptions.pages import add, page, start, submit

pytestmark = pytest.mark.django_db
S = PrescriptionState
RULE_ID = re.compile(r"\b[A-Z]{2,8}-\d+\b")
NEED = "Går osäkert i trappan hemma"


def draft(need: str = NEED, urgency: str = "urgent", note: str = "Höjd 85 cm") -> dict[str, str]:
    """What the draft form sends with every button: its text fields as typed."""
    return {"need": need, "urgency": urgency, "fitting_note": note}


def textarea(content: str, name: str) -> str:
    match = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', content, re.S)
    assert match, content
    return html.unescape(match.group(1)).strip()


def visible_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


# --- nothing typed is lost ---------------------------------------------------------------------


def test_presc_1_submit_without_the_need_is_refused_next_to_the_field(rx_client, ordinary):
    """Submit with an empty need: refused, the message next to the need and in the summary,
    the prescription stays a draft; the urgency chosen with it is kept."""
    number = start(rx_client, ordinary)
    add(rx_client, number, article("900").pk)
    response = rx_client.post(f"/prescriptions/{number}/submit/", draft(need="  "))
    assert response.status_code == 400
    content = response.content.decode()
    message = "Describe the need the prescription meets."
    assert re.search(
        rf'<div class="aksel-form-field__error" id="id_need_error"><p class="aksel-error-message'
        rf' aksel-label">The need it meets: {message}',
        content,
    ), content
    assert re.search(
        rf'<a class="aksel-link" href="#id_need">The need it meets: {message}</a>', content
    )
    prescription = Prescription.objects.get(reference=number)
    assert prescription.state == S.DRAFT
    assert not prescription.eligibility_records.exists()
    assert prescription.urgency == "urgent"
    assert 'value="urgent" required checked' in content or re.search(
        r'value="urgent"[^>]*checked', content
    )


def test_presc_1_submit_with_the_need_typed_saves_it_and_is_approved(rx_client, ordinary):
    number = start(rx_client, ordinary)
    add(rx_client, number, article("900").pk)
    response = rx_client.post(f"/prescriptions/{number}/submit/", draft())
    assert response.status_code == 302
    prescription = Prescription.objects.get(reference=number)
    assert (prescription.state, prescription.need, prescription.urgency) == (
        S.APPROVED,
        NEED,
        "urgent",
    )


def test_typed_need_survives_adding_an_article(rx_client, ordinary):
    """The catalogue row's "Add" is a button of the draft form: the need, urgency and note
    typed above it are saved first, and the search stays on the page."""
    number = start(rx_client, ordinary)
    rollator = article("2900", name="Rollator Gloss")
    response = rx_client.post(
        f"/prescriptions/{number}/lines/",
        {**draft(), "q": "Rollator", "area": "", "article": str(rollator.pk)},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/prescriptions/{number}/?q=Rollator#lines"
    prescription = Prescription.objects.get(reference=number)
    assert (prescription.need, prescription.urgency, prescription.fitting_note) == (
        NEED,
        "urgent",
        "Höjd 85 cm",
    )
    assert prescription.lines.get().article == rollator
    content = rx_client.get(response["Location"]).content.decode()
    assert textarea(content, "need") == NEED
    assert "Add to the prescription" in content  # the search results are still there


def test_typed_need_survives_searching_the_catalogue(rx_client, ordinary):
    number = start(rx_client, ordinary)
    article("2900", name="Rollator Gloss")
    response = rx_client.post(
        f"/prescriptions/{number}/details/", {**draft(), "q": "Rollator", "area": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/prescriptions/{number}/?q=Rollator#catalogue"
    content = rx_client.get(response["Location"]).content.decode()
    assert textarea(content, "need") == NEED
    assert "Rollator Gloss" in content
    assert Prescription.objects.get(reference=number).need == NEED


def test_an_accessory_added_from_its_row_goes_under_the_chosen_line(rx_client, ordinary):
    """The row's button names the row; the row's own list names the main line."""
    number = start(rx_client, ordinary)
    rollator = article("2900", name="Rollator Gloss")
    from tests.prescriptions.conftest import accessory

    basket = accessory(rollator, "290")
    add(rx_client, number, rollator.pk)
    main = PrescriptionLine.objects.get(prescription__reference=number)
    row = f"{rollator.pk}-{basket.pk}"
    response = rx_client.post(
        f"/prescriptions/{number}/lines/",
        {**draft(), "article": row, f"main_line-{row}": str(main.pk)},
    )
    assert response.status_code == 302, response.content[:400]
    assert PrescriptionLine.objects.get(article=basket).main_line_id == main.pk


def test_a_form_with_errors_shows_everything_typed_and_does_nothing_else(rx_client, ordinary):
    """A line's quantity of 0 with a need typed: refused next to the quantity, the need on the
    page as typed, the article not added, nothing saved."""
    number = start(rx_client, ordinary)
    add(rx_client, number, article("900").pk)
    line = PrescriptionLine.objects.get(prescription__reference=number)
    other = article("500", name="Gånghjälpmedel")
    response = rx_client.post(
        f"/prescriptions/{number}/lines/",
        {
            **draft(),
            f"line-{line.pk}-quantity": "0",
            f"line-{line.pk}-supply": line.supply,
            "article": str(other.pk),
        },
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert textarea(content, "need") == NEED
    assert f'href="#id_line-{line.pk}-quantity"' in content
    assert f'id="id_line-{line.pk}-quantity_error"' in content
    assert Prescription.objects.get(reference=number).lines.count() == 1
    assert Prescription.objects.get(reference=number).need == ""


def test_a_line_changed_in_the_draft_form_is_saved_with_any_button(rx_client, ordinary):
    number = start(rx_client, ordinary)
    add(rx_client, number, article("900").pk)
    line = PrescriptionLine.objects.get(prescription__reference=number)
    response = rx_client.post(
        f"/prescriptions/{number}/details/",
        {**draft(), f"line-{line.pk}-quantity": "3", f"line-{line.pk}-supply": line.supply},
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.quantity == 3


def test_the_draft_page_is_one_form_whose_buttons_name_their_action(rx_client, ordinary):
    number = start(rx_client, ordinary)
    add(rx_client, number, article("900", name="Rollator Gloss").pk)
    content = rx_client.get(f"/prescriptions/{number}/", {"q": "Rollator"}).content.decode()
    form = re.search(r'<form id="draft-form".*?</form>', content, re.S)
    assert form, content
    # No form inside the draft form (HTML allows none), and every action is a button in it.
    assert "<form" not in form[0][len("<form") :]
    for action in ("lines/", "details/", "delivery/", "submit/"):
        assert f'formaction="/prescriptions/{number}/{action}' in form[0], action
    assert re.search(r'name="need"', form[0])
    assert re.search(r'name="article" value="\d+" formaction=', form[0])


# --- step-up interrupts an action --------------------------------------------------------------


def _window_ran_out(client: Client) -> None:
    session = client.session
    session[STEP_UP_SESSION_KEY] = time.time() - settings.PROTECTION_STEP_UP_SECONDS - 60
    session.save()


def test_access_4_step_up_interrupting_a_save_gives_back_what_was_typed(
    client, rx, protected_patient, caplog
):
    """ACCESS-4: the password window runs out while the prescriber types; the action is
    interrupted by step-up. The typed need waits in the (database) session, never in the URL or
    a log; after confirming, the page shows it again, not yet saved, to be sent again."""
    logged_in(client, rx, stepped_up=True)
    number = start(client, protected_patient)
    rollator = article("2900", name="Rollator Gloss")
    _window_ran_out(client)
    caplog.set_level(logging.DEBUG)
    response = client.post(
        f"/prescriptions/{number}/lines/",
        {**draft(), "q": "Rollator", "article": str(rollator.pk)},
    )
    assert response.status_code == 302
    location = unquote(response["Location"])
    assert location.startswith("/protection/step-up/")
    assert location.endswith(f"next=/prescriptions/{number}/")
    for text in (NEED, "Höjd 85 cm"):
        assert text not in location
        assert text not in caplog.text
    prescription = Prescription.objects.get(reference=number)
    assert (prescription.need, prescription.lines.count()) == ("", 0)
    assert client.session[typed_session_key(number)]["need"] == NEED

    response = client.post(
        "/protection/step-up/",
        {"password": "pw-for-tests-only", "next": f"/prescriptions/{number}/"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/prescriptions/{number}/"
    content = page(client, number)
    assert textarea(content, "need") == NEED
    assert textarea(content, "fitting_note") == "Höjd 85 cm"
    assert re.search(r'value="urgent"[^>]*checked', content)
    assert 'id="typed-restored"' in content
    assert NEED not in caplog.text
    # Given back once: the session no longer holds it, and nothing was saved behind the user.
    assert typed_session_key(number) not in client.session
    assert Prescription.objects.get(reference=number).need == ""
    assert 'id="typed-restored"' not in page(client, number)
    # Sent again, the action happens.
    response = client.post(
        f"/prescriptions/{number}/lines/", {**draft(), "article": str(rollator.pk)}
    )
    assert response.status_code == 302
    prescription = Prescription.objects.get(reference=number)
    assert (prescription.need, prescription.lines.count()) == (NEED, 1)


def test_access_4_a_cancel_interrupted_by_step_up_keeps_its_reason(client, rx, protected_patient):
    logged_in(client, rx, stepped_up=True)
    number = start(client, protected_patient)
    _window_ran_out(client)
    response = client.post(
        f"/prescriptions/{number}/cancel/", {"cancel-reason": "Dubblett", "cancel-confirm": "on"}
    )
    assert unquote(response["Location"]).startswith("/protection/step-up/")
    client.post("/protection/step-up/", {"password": "pw-for-tests-only"})
    content = page(client, number)
    assert re.search(r'name="cancel-reason" value="Dubblett"', content)
    assert Prescription.objects.get(reference=number).state == S.DRAFT


# --- cancelling --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "field", "message"),
    [
        ({"cancel-confirm": "on"}, "reason", "Write why the prescription is cancelled."),
        (
            {"cancel-reason": "   ", "cancel-confirm": "on"},
            "reason",
            "Write why the prescription is cancelled.",
        ),
        (
            {"cancel-reason": "Fel patient"},
            "confirm",
            "Tick the box to confirm that you want to cancel.",
        ),
    ],
)
def test_cancel_without_a_reason_or_confirmation_is_refused(
    rx_client, ordinary, sent, field, message
):
    number = start(rx_client, ordinary)
    response = rx_client.post(f"/prescriptions/{number}/cancel/", sent)
    assert response.status_code == 400
    content = html.unescape(response.content.decode())
    assert f'href="#id_cancel-{field}"' in content
    assert message in content
    assert Prescription.objects.get(reference=number).state == S.DRAFT


def test_cancel_records_the_reason_and_the_outcome_says_it(rx_client, ordinary):
    number = start(rx_client, ordinary)
    response = rx_client.post(
        f"/prescriptions/{number}/cancel/",
        {"cancel-reason": "Fel patient vald", "cancel-confirm": "on"},
    )
    assert response.status_code == 302
    prescription = Prescription.objects.get(reference=number)
    assert prescription.state == S.CANCELLED
    assert prescription.transitions.get(to_state=S.CANCELLED).note == "Fel patient vald"
    sentence = re.search(
        r'<p class="aksel-body-long" id="outcome-sentence">(.*?)</p>', page(rx_client, number), re.S
    )
    assert sentence
    assert "The prescription is cancelled. Reason: Fel patient vald" in visible_text(sentence[1])


def test_the_cancel_service_refuses_a_blank_reason(rx, ordinary):
    from prescriptions.services.errors import PrescriptionError
    from prescriptions.services.routing import prescription_cancel
    from tests.personas import ctx_for
    from tests.prescriptions.drafting import draft_with

    number = draft_with(rx, ordinary)
    with pytest.raises(PrescriptionError):
        prescription_cancel(ctx=ctx_for(rx), reference=number, reason=" ")
    assert Prescription.objects.get(reference=number).state == S.DRAFT


# --- plain language ----------------------------------------------------------------------------


def _outcome(content: str) -> str:
    section = re.search(r'<section id="outcome".*?</section>', content, re.S)
    assert section, content
    return section[0]


def test_the_outcome_opens_with_a_sentence_and_keeps_rule_ids_in_the_rules_detail(
    rx_client, ordinary
):
    """The outcome's text (sentence, folded criteria) has no rule id, no raw key and no
    True/False; the rules sit in their own detail for auditors. In Swedish."""
    number = start(rx_client, ordinary)
    add(rx_client, number, article("900").pk)
    submit(rx_client, number)
    rx_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    content = page(rx_client, number)
    outcome = _outcome(content)
    rules = re.search(r'<details class="eligibility-rules">.*?</details>', outcome, re.S)
    assert rules
    assert RULE_ID.search(visible_text(rules[0]))  # the auditors' detail has them
    text = visible_text(outcome.replace(rules[0], ""))
    assert not RULE_ID.search(text), RULE_ID.search(text)
    assert not re.search(r"\b(True|False|None)\b", text)
    assert "largest_device_cost_sek" not in text
    assert "protected_patient" not in text
    with translation.override("sv"):
        sentence = translation.gettext("The prescription is approved: every condition is met.")
    first = re.search(r'id="outcome-sentence"><strong>(.*?)</strong>', outcome)
    assert first
    assert html.unescape(first[1]) == sentence
    # The criteria are folded below the sentence.
    assert outcome.index("outcome-sentence") < outcome.index('<details class="eligibility-why">')
    # Nowhere else on the page a rule id either (comments never reach it).
    page_text = visible_text(
        re.search(r"<main.*?</main>", content, re.S)[0].replace(rules[0], "")  # type: ignore[index]
    )
    assert not RULE_ID.search(page_text), RULE_ID.search(page_text)


def test_the_outcome_of_a_prescription_waiting_for_the_agreement_says_so(rx_client, out_of_region):
    number = start(rx_client, out_of_region)
    add(rx_client, number, article("12500", name="Manuell rullstol aktiv").pk)
    submit(rx_client, number)
    rx_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    outcome = _outcome(page(rx_client, number))
    with translation.override("sv"):
        sentence = translation.gettext(
            "The prescription waits for the home region's agreement (betalningsförbindelse): "
            "record it below."
        )
    assert sentence in html.unescape(outcome)
    rules = re.compile(r'<details class="eligibility-rules">.*?</details>', re.S)
    assert not RULE_ID.search(visible_text(rules.sub("", outcome)))


def test_the_draft_page_text_has_no_rule_id(rx_client, protected_patient, client, rx):
    """The protected patient's draft (most notes about rules): none shows a rule id."""
    logged_in(client, rx, stepped_up=True)
    number = start(client, protected_patient)
    add(client, number, article("900").pk)
    content = page(client, number)
    main = re.search(r"<main.*?</main>", content, re.S)
    assert main
    assert not RULE_ID.search(visible_text(main[0])), RULE_ID.search(visible_text(main[0]))


# --- where the goods go -----------------------------------------------------------------------


def test_the_delivery_shows_the_ordinary_patients_registered_address(rx_client, ordinary):
    number = start(rx_client, ordinary)
    destination = re.search(
        r'<dd id="delivery-destination">(.*?)</dd>', page(rx_client, number), re.S
    )
    assert destination
    assert "Provgatan 1, 211 00 MALMÖ" in html.unescape(destination[1])


def test_presc_2_the_delivery_of_a_protected_patient_shows_the_unit_never_the_address(
    client: Client, rx: Any, protected_patient
):
    logged_in(client, rx, stepped_up=True)
    number = start(client, protected_patient)
    content = page(client, number)
    destination = re.search(r'<dd id="delivery-destination">(.*?)</dd>', content, re.S)
    assert destination
    unit = rx.prescriber_profile.units.get()
    assert unit.delivery_street in html.unescape(destination[1])
    identity = protected_patient.identity
    address = identity.registered_address or {}
    assert address.get("street2")
    assert address["street2"] not in content


def test_the_patients_prescriptions_page_and_my_prescriptions_have_no_rule_id(
    client: Client, rx: Any, protected_patient
):
    """The protected patient's devices page (with its links to residence abroad and the
    special delivery agreement) and my prescriptions: no rule id, no True/False."""
    logged_in(client, rx, stepped_up=True)
    number = start(client, protected_patient)
    add(client, number, article("900").pk)
    submit(client, number)
    for url in (f"/prescriptions/patients/{protected_patient.reference}/", "/prescriptions/"):
        response = client.get(url)
        assert response.status_code == 200
        main = re.search(r"<main.*?</main>", response.content.decode(), re.S)
        assert main
        text = visible_text(main[0])
        assert not RULE_ID.search(text), (url, RULE_ID.search(text))
        assert not re.search(r"\b(True|False)\b", text), url
    assert 'href="/prescriptions/patients/' in page(client, number)


def test_the_draft_page_with_every_section_has_unique_ids(rx_client, ordinary):
    """A draft with a specially adapted line (PRESC-6's note: the signature is asked for on the
    work order, before delivery) and the cancel box: every id is unique, so that every label
    and every summary link leads to its own field."""
    number = start(rx_client, ordinary)
    add(rx_client, number, article("900").pk)
    line = PrescriptionLine.objects.get(prescription__reference=number)
    fields = {f"line-{line.pk}-quantity": "1", f"line-{line.pk}-supply": line.supply}
    response = rx_client.post(
        f"/prescriptions/{number}/details/",
        {**draft(), **fields, f"line-{line.pk}-special_adaptation": "on"},
    )
    assert response.status_code == 302
    content = page(rx_client, number)
    assert 'id="adaptation-note"' in content
    assert "/sign/" not in content
    assert 'id="cancel"' in content
    ids = re.findall(r'\sid="([^"]+)"', content)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})

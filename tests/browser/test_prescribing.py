"""Prescribing in a real Chromium: the three flows of the prescriber's day, each page checked
with axe-core (no serious or critical violations).

1. An ordinary patient: from the patient page to an approved prescription (PRESC-1).
2. A protected patient: delivery forced to the prescriber's unit, shown with no address field
   (PRESC-2); special dietary food refused with the pharmacy message (PRESC-3).
3. An out-of-region patient over 10 000 SEK: blocked until the home-region agreement is
   recorded, then approved (REGION-1, REGION-2).
4. A consultation activity registered and booked from the patient's devices page (PRESC-7).

Every identity number here is one of Skatteverket's test personnummer (IDENT-4).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from django.utils import timezone, translation
from django.utils.text import capfirst
from playwright.sync_api import Page, expect

from prescriptions.models import (
    ActivityState,
    ArticleKind,
    ConsultationActivity,
    Prescription,
    PrescriptionState,
)
from tests.browser.test_first_pages import PASSWORD, html_lang, leaks, log_in, number_forms
from tests.factories import PatientIdentityFactory
from tests.personas import ORDINARY_NUMBER as ORDINARY
from tests.personas import PROTECTED_NUMBER as PROTECTED
from tests.personas import give_grant
from tests.prescriptions.drafting import pdf_bytes
from tests.prescriptions.factories import (
    ArticleFactory,
    CompetenceAreaFactory,
    PrescriberProfileFactory,
    ProductAreaFactory,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OUT_OF_REGION = "198912232397"
S = PrescriptionState


def swedish(label: Any) -> str:
    """What the page shows for a state label, in the browser's language (sv)."""
    with translation.override("sv"):
        return str(capfirst(str(label)))


@pytest.fixture
def prescriber() -> Any:
    """Anna, trained in mobility and in consumables (so that PRESC-3, not PRESC-5, refuses
    special dietary food for a protected patient)."""
    from tests.factories import UserFactory

    user = UserFactory(username="anna", role="prescriber")
    PrescriberProfileFactory(
        user=user,
        competences=[
            CompetenceAreaFactory(),
            CompetenceAreaFactory(code="consumables", name="Förbrukningsartiklar"),
        ],
    )
    return user


@pytest.fixture
def catalogue() -> dict[str, Any]:
    mobility = ProductAreaFactory()
    nutrition = ProductAreaFactory(
        code="nutrition",
        name="Speciallivsmedel och nutrition",
        competence_area=CompetenceAreaFactory(code="consumables", name="Förbrukningsartiklar"),
        medicine_related=True,
    )
    rollator = ArticleFactory(article_number="44001", name="Rollator Gloss", product_area=mobility)
    return {
        "rollator": rollator,
        "basket": ArticleFactory(
            article_number="44010",
            name="Rollatorkorg",
            product_area=mobility,
            kind=ArticleKind.ACCESSORY,
            main_article=rollator,
            price_sek=Decimal("290"),
        ),
        "wheelchair": ArticleFactory(
            article_number="46001",
            name="Manuell rullstol aktiv",
            product_area=mobility,
            price_sek=Decimal("12500"),
            assortment_days=17,
        ),
        "food": ArticleFactory(
            article_number="52001",
            name="Sondnäring standard",
            iso9999="",
            product_area=nutrition,
            kind=ArticleKind.CONSUMABLE,
            price_sek=Decimal("540"),
        ),
    }


def open_new_prescription(page: Page, reference: str) -> str:
    """From the patient page: the devices and prescriptions link, then a new prescription."""
    page.goto(f"/patients/{reference}/")
    with page.expect_navigation():
        page.locator(f"a[href='/prescriptions/patients/{reference}/']").click()
    with page.expect_navigation():
        page.locator(f"form[action='/prescriptions/patients/{reference}/new/'] button").click()
    number = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert number.startswith("F-"), page.url
    return number


def search_catalogue(page: Page, text: str) -> None:
    page.locator("#id_q").fill(text)
    with page.expect_navigation():
        page.locator("#catalogue [role=search] button[type=submit]").click()


def add_article(page: Page, article: Any) -> None:
    """The row's "Add" button (its value names the row; an accessory's ends in its own id)."""
    button = page.locator(
        f"#catalogue button[name=article][value='{article.pk}'], "
        f"#catalogue button[name=article][value$='-{article.pk}']"
    ).first
    with page.expect_navigation():
        button.click()


def fill_need(page: Page, need: str = "Går osäkert inomhus") -> None:
    page.locator("#id_need").fill(need)


def submit(page: Page) -> None:
    with page.expect_navigation():
        page.locator("#submit button[type=submit]").click()


def open_the_why(page: Page) -> None:
    """The criteria sit folded below the outcome's sentence."""
    page.locator("#outcome details.eligibility-why summary").click()


def test_presc_1_ordinary_patient_prescribed_to_approved_in_the_browser(
    page, axe_check, visited_urls, prescriber, catalogue
):
    patient = PatientIdentityFactory(
        personal_identity_number=ORDINARY, given_names="Karin", surname="Nilsson"
    ).patient
    log_in(page, "anna")
    number = open_new_prescription(page, patient.reference)
    assert html_lang(page) == "sv"
    expect(page.locator("h1")).to_contain_text(number)
    axe_check(page)

    # "Skicka in" with nothing typed: refused, the need named next to its field and in the
    # summary; nothing is approved.
    submit(page)
    with translation.override("sv"):
        need_message = translation.gettext("Describe the need the prescription meets.")
    expect(page.locator("#id_need_error")).to_contain_text(need_message)
    expect(page.locator(".aksel-error-summary a[href='#id_need']")).to_be_visible()
    axe_check(page)
    assert Prescription.objects.get(reference=number).state == S.DRAFT

    # What is typed survives the search and the additions (one form: every button saves it).
    page.locator("#id_need").fill("Går osäkert utomhus")
    page.locator("input[name=urgency][value=urgent]").check()
    page.locator("#id_fitting_note").fill("Handtagshöjd 85 cm")
    search_catalogue(page, "Rollator Gloss")
    expect(page.locator("#catalogue table.catalogue-results")).to_be_visible()
    expect(page.locator("#id_need")).to_have_value("Går osäkert utomhus")
    axe_check(page)
    add_article(page, catalogue["rollator"])
    expect(page.locator("#lines li[id^=line-]")).to_have_count(1)
    # The accessory goes under the rollator's line.
    search_catalogue(page, "Rollatorkorg")
    add_article(page, catalogue["basket"])
    expect(page.locator("#lines li[id^=line-]")).to_have_count(2)
    expect(page.locator("#id_need")).to_have_value("Går osäkert utomhus")
    expect(page.locator("input[name=urgency][value=urgent]")).to_be_checked()
    expect(page.locator("#id_fitting_note")).to_have_value("Handtagshöjd 85 cm")
    # The ordinary patient's delivery: chosen, never typed; the address itself is shown.
    expect(page.locator("#delivery input[name=kind]")).to_have_count(3)
    expect(page.locator("#delivery-destination")).to_contain_text("Provgatan 1")
    axe_check(page)

    submit(page)
    expect(page.locator("#state")).to_have_text(swedish(S.APPROVED.label))
    with translation.override("sv"):
        approved = translation.gettext("The prescription is approved: every condition is met.")
    expect(page.locator("#outcome-sentence")).to_have_text(approved)
    # The criteria are folded below the sentence; the rule ids only in the auditors' detail.
    expect(page.locator("#outcome table.eligibility")).not_to_be_visible()
    open_the_why(page)
    expect(page.locator("#outcome table.eligibility")).to_be_visible()
    expect(page.locator("#outcome table.eligibility")).not_to_contain_text("REGION-1")
    expect(page.locator("#outcome details.eligibility-rules")).to_contain_text("REGION-1")
    axe_check(page)
    prescription = Prescription.objects.get(reference=number)
    assert (prescription.state, prescription.need, prescription.urgency) == (
        S.APPROVED,
        "Går osäkert utomhus",
        "urgent",
    )

    page.goto("/prescriptions/")
    expect(page.locator(f"a[href='/prescriptions/{number}/']")).to_be_visible()
    axe_check(page)
    page.goto(f"/prescriptions/patients/{patient.reference}/")
    expect(page.locator("h2#devices-heading + .table-scroll table")).to_contain_text(
        "Rollator Gloss"
    )
    axe_check(page)
    assert not leaks(" ".join(visited_urls), *number_forms(ORDINARY)), visited_urls


def test_presc_2_presc_3_protected_patient_delivery_to_unit_and_no_dietary_food(
    page, axe_check, visited_urls, prescriber, catalogue, protected
):
    identity = protected
    give_grant(prescriber, identity)
    reference = identity.patient.reference
    log_in(page, "anna")

    # The grant holder confirms the password first (ACCESS-4), then comes back.
    page.goto(f"/prescriptions/patients/{reference}/")
    assert "/protection/step-up/" in page.url
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert page.url.endswith(f"/prescriptions/patients/{reference}/"), page.url
    with page.expect_navigation():
        page.locator(f"form[action='/prescriptions/patients/{reference}/new/'] button").click()
    number = page.url.rstrip("/").rsplit("/", 1)[-1]

    # PRESC-2: the unit's address and the prescriber as contact, shown; nothing to type or pick.
    unit = prescriber.prescriber_profile.units.get()
    expect(page.locator("#delivery-destination")).to_contain_text(unit.delivery_street)
    expect(page.locator("#delivery-contact")).to_contain_text("anna")
    expect(page.locator("#delivery input, #delivery textarea, #delivery select")).to_have_count(0)
    expect(page.locator("#delivery-destination")).not_to_contain_text("Gömdavägen")
    axe_check(page)

    # PRESC-3: special dietary food is refused with the pharmacy message, in the summary.
    search_catalogue(page, "Sondnäring")
    add_article(page, catalogue["food"])
    summary = page.locator(".aksel-error-summary[role=alert]")
    expect(summary).to_be_visible()
    with translation.override("sv"):
        message = translation.gettext(
            "Special dietary food cannot be prescribed here for a patient with protected "
            "identity: it is prescribed through a pharmacy."
        )
    expect(summary).to_contain_text(message)
    axe_check(page)
    assert not Prescription.objects.get(reference=number).lines.exists()

    # An ordinary device goes through; the order names the unit only.
    search_catalogue(page, "Rollator Gloss")
    add_article(page, catalogue["rollator"])
    fill_need(page)
    submit(page)
    expect(page.locator("#state")).to_have_text(swedish(S.APPROVED.label))
    # PRESC-4: the fitting asks for the journal note, never the liability form.
    expect(page.locator("#fitting input[name=confirm]")).to_have_count(1)
    axe_check(page)
    prescription = Prescription.objects.get(reference=number)
    assert (prescription.delivery_kind, prescription.delivery_contact_id) == ("unit", prescriber.pk)
    assert not leaks(" ".join(visited_urls), *number_forms(PROTECTED)), visited_urls


def test_region_2_out_of_region_over_the_limit_blocked_until_the_agreement_is_recorded(
    page, axe_check, prescriber, catalogue, tmp_path: Path
):
    identity = PatientIdentityFactory(
        personal_identity_number=OUT_OF_REGION, given_names="Olof", surname="Berg"
    )
    identity.patient.home_region_id = "01"
    identity.patient.save()
    log_in(page, "anna")
    number = open_new_prescription(page, identity.patient.reference)
    search_catalogue(page, "Manuell rullstol")
    add_article(page, catalogue["wheelchair"])
    fill_need(page, "Kan inte gå längre sträckor")
    submit(page)

    # 12 500 SEK for a patient of Region Stockholm: blocked, waiting for the agreement.
    expect(page.locator("#state")).to_have_text(swedish(S.AWAITING_AGREEMENT.label))
    with translation.override("sv"):
        waiting = translation.gettext(
            "The prescription waits for the home region's agreement (betalningsförbindelse): "
            "record it below."
        )
    expect(page.locator("#outcome-sentence")).to_have_text(waiting)
    assert Prescription.objects.get(reference=number).state == S.AWAITING_AGREEMENT
    form = page.locator("#agreement form")
    expect(form).to_be_visible()
    axe_check(page)

    # Sent without the document: the summary names the field; nothing moves.
    page.locator("#id_agreement_reference").fill("BF-2026-0117")
    page.locator("input[name=supply][value=rent]").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator(".aksel-error-summary a[href='#id_document']")).to_be_visible()
    axe_check(page)

    document = tmp_path / "betalningsforbindelse.pdf"
    document.write_bytes(pdf_bytes())
    page.locator("#id_agreement_reference").fill("BF-2026-0117")
    page.locator("input[name=supply][value=rent]").check()
    page.locator("#id_document").set_input_files(str(document))
    expect(page.locator("#id_issuing_region")).to_have_value("01")
    with page.expect_navigation():
        page.locator("#agreement form button[type=submit]").click()
    expect(page.locator("#state")).to_have_text(swedish(S.APPROVED.label))
    expect(page.locator("#outcome")).to_contain_text("BF-2026-0117")
    axe_check(page)
    assert Prescription.objects.get(reference=number).state == S.APPROVED


def test_presc_7_consultation_activity_registered_and_booked_in_the_browser(
    page, axe_check, prescriber
):
    patient = PatientIdentityFactory(personal_identity_number=ORDINARY).patient
    log_in(page, "anna")
    page.goto(f"/prescriptions/patients/{patient.reference}/")
    with page.expect_navigation():
        page.locator("#activities form[action$='/activities/'] button").click()
    activity = ConsultationActivity.objects.get(patient=patient)
    field = page.locator(f"#id_activity-{activity.pk}-booked_for")
    expect(field).to_be_visible()
    axe_check(page)

    # PRESC-7: the place, the service, the work order number and the prescriber's phone.
    for name, value in (
        ("place", "Hjälpmedelscentrum Lund"),
        ("service", "Utprovning av rullstol"),
        ("work_order_number", "AO-2026-0042"),
        ("phone", "046-123 45 67"),
    ):
        page.locator(f"#id_activity-{activity.pk}-{name}").fill(value)
    # A time past: refused on the page, the summary leads to the field, the time kept.
    field.fill("2020-01-02T10:30")
    with page.expect_navigation():
        page.locator(f"#activity-{activity.pk} button[type=submit]").click()
    summary = page.locator(".aksel-error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator(f"a[href='#id_activity-{activity.pk}-booked_for']")).to_contain_text(
        "Bokad tid"
    )
    expect(page.locator(f"#id_activity-{activity.pk}-booked_for")).to_have_value("2020-01-02T10:30")
    expect(page.locator(f"#id_activity-{activity.pk}-place")).to_have_value(
        "Hjälpmedelscentrum Lund"
    )
    axe_check(page)

    when = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.locator(f"#id_activity-{activity.pk}-booked_for").fill(when)
    with page.expect_navigation():
        page.locator(f"#activity-{activity.pk} button[type=submit]").click()
    expect(page.locator(f"#activity-{activity.pk}")).to_contain_text(when.replace("T", " "))
    axe_check(page)
    activity.refresh_from_db()
    assert activity.state == ActivityState.BOOKED

    # WCAG 1.4.10 reflow: at 320 CSS pixels the activities section needs no sideways scrolling.
    page.set_viewport_size({"width": 320, "height": 640})
    page.reload()
    section = page.locator("#activities")
    expect(section).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    box = section.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 320


def test_access_4_step_up_interrupting_the_draft_gives_back_what_was_typed_then_cancel(
    page, axe_check, visited_urls, prescriber, catalogue, protected
):
    """ACCESS-4: the password window runs out while the need is typed; "Spara utkastet" leads to
    step-up and back to the page with the need still in its field (never in a URL). Then
    cancelling asks for a reason and a confirmation, and the outcome says why."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    from protection.gate import STEP_UP_SESSION_KEY

    identity = protected
    give_grant(prescriber, identity)
    reference = identity.patient.reference
    log_in(page, "anna")
    page.goto(f"/prescriptions/patients/{reference}/")
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    with page.expect_navigation():
        page.locator(f"form[action='/prescriptions/patients/{reference}/new/'] button").click()
    number = page.url.rstrip("/").rsplit("/", 1)[-1]

    need = "Behöver gåstöd i trapphuset"
    fill_need(page, need)
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=cookie["value"])
    session[STEP_UP_SESSION_KEY] = 0  # the window ran out long ago
    session.save()
    with page.expect_navigation():
        page.locator("#details button[type=submit]").click()
    assert "/protection/step-up/" in page.url
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert page.url.endswith(f"/prescriptions/{number}/"), page.url
    expect(page.locator("#id_need")).to_have_value(need)
    expect(page.locator("#typed-restored")).to_be_visible()
    axe_check(page)
    with page.expect_navigation():
        page.locator("#details button[type=submit]").click()
    assert Prescription.objects.get(reference=number).need == need

    # Cancelling without a reason: refused next to the field; then with reason and the box.
    with page.expect_navigation():
        page.locator("#cancel button[type=submit]").click()
    expect(page.locator(".aksel-error-summary a[href='#id_cancel-reason']")).to_be_visible()
    expect(page.locator(".aksel-error-summary a[href='#id_cancel-confirm']")).to_be_visible()
    axe_check(page)
    assert Prescription.objects.get(reference=number).state == S.DRAFT
    page.locator("#id_cancel-reason").fill("Dubblett av en annan förskrivning")
    page.locator("#id_cancel-confirm").check()
    with page.expect_navigation():
        page.locator("#cancel button[type=submit]").click()
    expect(page.locator("#outcome-sentence")).to_contain_text("Dubblett av en annan förskrivning")
    axe_check(page)
    assert Prescription.objects.get(reference=number).state == S.CANCELLED
    typed = (need, quote(need), quote_plus(need))
    assert not leaks(" ".join(visited_urls), *typed, *number_forms(PROTECTED)), visited_urls

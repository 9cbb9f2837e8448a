"""The document pages in a real Chromium: browser print of pages about a protected patient
prints only the notice (PRINT-1), and the pages pass axe-core. Identity numbers are
Skatteverket's test personnummer (IDENT-4)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from protection.documents.services import document_request
from protection.documents.summary import SUMMARY_KIND
from tests.browser.test_first_pages import (
    PASSWORD,
    VISIBLE_OUTSIDE_PRINT_NOTICE,
    log_in,
)
from tests.factories import PatientIdentityFactory
from tests.personas import ORDINARY_NUMBER, ctx_for, give_grant

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def protected(protected, prescriber):
    """Here the prescriber holds a grant for the protected patient of tests/conftest.py."""
    give_grant(prescriber, protected)
    return protected


def step_up(page: Page, path: str) -> None:
    page.goto(path)
    if "/protection/step-up/" in page.url:
        page.locator("#id_password").fill(PASSWORD)
        with page.expect_navigation():
            page.locator("main button[type=submit]").click()


def assert_prints_only_the_notice(page: Page) -> None:
    page.emulate_media(media="print")
    expect(page.locator(".print-notice")).to_be_visible()
    assert not page.locator("h1").first.is_visible()
    assert page.evaluate(VISIBLE_OUTSIDE_PRINT_NOTICE) == []
    page.emulate_media(media="screen")


def test_print_1_pages_about_a_protected_patient_print_only_the_notice(
    page, axe_check, prescriber, protected
):
    """The patient page with its document actions, the letter form and the documents page."""
    log_in(page, "anna")
    reference = protected.patient.reference
    step_up(page, f"/patients/{reference}/")
    expect(page.locator("#documents-heading")).to_be_visible()
    assert_prints_only_the_notice(page)
    page.goto(f"/protection/patients/{reference}/letter/")
    expect(page.locator("#id_subject")).to_be_visible()
    axe_check(page)
    assert_prints_only_the_notice(page)
    document_request(
        ctx=ctx_for(prescriber, stepped_up=True),
        kind=SUMMARY_KIND,
        patients=[protected.patient],
        forward_to="Region Halland",
        forward_reason="Överköp vid 20 års ålder",
    )
    page.goto("/protection/documents/")
    expect(page.locator("table")).to_be_visible()
    axe_check(page)
    assert_prints_only_the_notice(page)


def test_the_documents_page_of_ordinary_patients_prints_normally(page, prescriber):
    ordinary = PatientIdentityFactory(personal_identity_number=ORDINARY_NUMBER)
    patients = [identity.patient for identity in (ordinary,)]
    document_request(ctx=ctx_for(prescriber, stepped_up=True), kind=SUMMARY_KIND, patients=patients)
    log_in(page, "anna")
    page.goto("/protection/documents/")
    page.emulate_media(media="print")
    expect(page.locator("table")).to_be_visible()
    expect(page.locator(".print-notice")).to_have_count(0)

"""REG-1 in Chromium, on the seeded demo: customer service registers by hand a person without a
number whom the register does not give. The first try leaves out the surname and the birth date:
the page comes back with the errors beside the fields and everything typed still there. Then
the patient is registered with a reservnummer and the patient page opens, headed by the name.
Every page on the way is Swedish, passes axe-core and reflows at 320 CSS pixels."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from patients.identity import parse_reserve_number
from patients.models import Notification, Patient, RegistrationSource
from tests.browser.test_daily_paths import AxeCheck, checked, demo, go, menu, start
from tests.browser.test_fault_report import reflows

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

__all__ = ["demo"]  # the fixture, used by name


def test_reg_1_customer_service_registers_a_person_without_a_number(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    start(page, "customer_service", axe_check)
    go(page, menu(page, "Registrera en patient manuellt"), axe_check)
    expect(page.locator("h1")).to_have_text("Registrera en patient manuellt")
    reflows(page)

    page.get_by_label("Personen saknar nummer: tilldela ett reservnummer").check()
    page.get_by_label("Förnamn", exact=True).fill("Amira")
    page.get_by_label("Gatuadress", exact=True).fill("Provgatan 3")
    page.get_by_label("Postnummer", exact=True).fill("211 42")
    page.get_by_label("Postort", exact=True).fill("Malmö")
    go(page, page.get_by_role("button", name="Sök och registrera"), axe_check)
    # Refused: the errors beside their fields, and nothing typed is lost.
    expect(page.locator("#id_surname_error")).to_be_visible()
    expect(page.locator("#id_birth_date_error")).to_be_visible()
    expect(page.get_by_label("Förnamn", exact=True)).to_have_value("Amira")
    expect(page.get_by_label("Gatuadress", exact=True)).to_have_value("Provgatan 3")
    assert Patient.objects.filter(registration_source=RegistrationSource.HAND).count() == 0
    reflows(page)

    page.get_by_label("Efternamn", exact=True).fill("Haddad")
    page.get_by_label("Födelsedatum", exact=True).fill("1990-04-17")
    go(page, page.get_by_role("button", name="Sök och registrera"), axe_check)
    patient = Patient.objects.get(registration_source=RegistrationSource.HAND)
    assert page.url.endswith(f"/patients/{patient.reference}/"), page.url
    expect(page.locator("h1")).to_contain_text("Amira Haddad")
    checked(page, axe_check)
    reserve = patient.identity.reserve_number
    assert parse_reserve_number(reserve, formats=["national"]).birth_year == 1990
    # The administration unit's notice in the product names the reference only (REG-2).
    notice = Notification.objects.filter(subject__contains=patient.reference).first()
    assert notice is not None
    assert "Haddad" not in notice.subject

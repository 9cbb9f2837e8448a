"""BILL-7: invoices to other regions are Peppol BIS Billing 3.0 UBL, checked by the official rules.

The rules are the published stylesheets in ../shared/specs/peppol (settings.PEPPOL_RULES_DIR);
nothing here is a copy of them. Negative cases use the shared negative examples and edits of
invoices this library renders, so each proves the rule would catch the product's own mistake.
"""

from __future__ import annotations

import dataclasses
import datetime
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from lxml import etree

from billing.peppol import (
    DocumentKind,
    PeppolRulesUnavailable,
    UblDocument,
    UblLine,
    UblParty,
    ValidationResult,
    peppol_validate,
    ubl_render,
)
from billing.peppol.ubl import CAC, CBC

NS = {"cac": CAC, "cbc": CBC}
EXEMPTION = "Momsfri sjukvård och hjälpmedel som tillhandahålls inom vården (3 kap. 4 § ML)"


def rules_dir() -> Path:
    assert settings.PEPPOL_RULES_DIR is not None
    return Path(settings.PEPPOL_RULES_DIR)


def fatal_ids(result: ValidationResult) -> set[str]:
    return {finding.rule_id for finding in result.fatal}


def skane() -> UblParty:
    return UblParty(
        name="Region Skåne",
        organisation_number="232100-0255",
        vat_number="SE232100025501",
        street="Hjälpmedelsvägen 4",
        city="Lund",
        postal_code="22185",
        country_code="SE",
        endpoint_id="0007:2321000255",
        f_skatt=True,
        contact_name="Hjälpmedelscentrum fakturering",
        contact_email="hjalpmedel.faktura@example.se",
    )


def stockholm() -> UblParty:
    return UblParty(
        name="Region Stockholm",
        organisation_number="2321000016",
        vat_number="SE232100001601",
        street="Box 22550",
        city="Stockholm",
        postal_code="10422",
        country_code="SE",
        endpoint_id="2321000016",
        f_skatt=False,
    )


def exempt_line(line_id: str, name: str, quantity: str, unit: str, price: str) -> UblLine:
    return UblLine(
        line_id=line_id,
        item_name=name,
        description=None,
        quantity=Decimal(quantity),
        unit_code=unit,
        unit_price=Decimal(price),
        net_amount=Decimal(quantity) * Decimal(price),
        vat_category="E",
        vat_percent=Decimal("0"),
    )


def region_invoice() -> UblDocument:
    """Skåne invoices Stockholm for an out-of-region patient's month (all VAT-exempt)."""
    rent = dataclasses.replace(
        exempt_line("1", "Hyra rullator", "30", "DAY", "4.35"),
        description="Hyresdagar enligt avtal",
        seller_item_id="HMC-10042",
        period_start=datetime.date(2026, 11, 1),
        period_end=datetime.date(2026, 11, 30),
    )
    return UblDocument(
        kind=DocumentKind.INVOICE,
        number="F2026-000017",
        issue_date=datetime.date(2026, 12, 1),
        due_date=datetime.date(2026, 12, 31),
        currency_code="SEK",
        buyer_reference="HMC-AVTAL-01",
        order_reference="ORD-4711",
        billing_reference_number=None,
        billing_reference_date=None,
        invoice_period_start=datetime.date(2026, 11, 1),
        invoice_period_end=datetime.date(2026, 11, 30),
        note="Utomlänsfakturering november",
        seller=skane(),
        buyer=stockholm(),
        lines=[
            rent,
            exempt_line("2", "Försäljning duschpall", "1", "EA", "1249.50"),
            exempt_line("3", "Arbete tekniker", "1.5", "HUR", "645.333"),
            exempt_line("4", "Akutavgift", "1", "EA", "500"),
        ],
        bankgiro="5050-1055",
        payment_terms="30 dagar netto",
        vat_exemption_reason=EXEMPTION,
    )


def region_credit_note() -> UblDocument:
    invoice = region_invoice()
    return dataclasses.replace(
        invoice,
        kind=DocumentKind.CREDIT_NOTE,
        number="K2026-000003",
        issue_date=datetime.date(2026, 12, 5),
        due_date=datetime.date(2027, 1, 4),
        billing_reference_number=invoice.number,
        billing_reference_date=invoice.issue_date,
        note="Kreditering av felaktig hyra",
        lines=[invoice.lines[0]],
    )


def edited(xml: bytes, xpath: str, text: str) -> bytes:
    root = etree.fromstring(xml)
    nodes = root.xpath(xpath, namespaces=NS)
    assert len(nodes) == 1, xpath
    nodes[0].text = text
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@pytest.mark.parametrize(
    "name",
    [
        "ex-base-example.xml",
        "ex-base-creditnote-correction.xml",
        "ex-vat-category-E.xml",
        "se-valid.xml",
    ],
)
def test_bill_7_official_examples_pass_the_official_rules(name):
    result = peppol_validate((rules_dir() / name).read_bytes())

    assert result.fatal == []
    assert result.is_valid


@pytest.mark.parametrize(
    ("name", "rule_id"),
    [
        ("se-fskatt-wrong.xml", "SE-R-005"),
        ("se-orgnr-luhn-wrong.xml", "SE-R-013"),
        ("se-total-wrong.xml", "BR-CO-16"),
    ],
)
def test_bill_7_shared_negative_examples_are_fatal(name, rule_id):
    result = peppol_validate((rules_dir() / name).read_bytes())

    # The organisation number is also checked by the Peppol-wide scheme 0007 rule
    # (PEPPOL-COMMON-R049); the Swedish rule must be among the findings either way.
    assert rule_id in fatal_ids(result)
    assert fatal_ids(result) <= {rule_id, "PEPPOL-COMMON-R049"}
    finding = next(f for f in result.fatal if f.rule_id == rule_id)
    assert finding.flag == "fatal"
    assert finding.text  # the assertion's own words, shown to the billing officer
    assert finding.location.startswith("/")


def test_bill_7_rendered_region_invoice_passes_with_exempt_lines():
    xml = ubl_render(region_invoice())

    result = peppol_validate(xml)

    assert result.fatal == [], result.fatal
    root = etree.fromstring(xml)
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
    # 130.50 + 1249.50 + 968.00 (1.5 x 645.333 = 967.9995, rounded half up) + 500.00
    assert (
        root.xpath("string(cac:LegalMonetaryTotal/cbc:PayableAmount)", namespaces=NS) == "2848.00"
    )
    assert root.xpath("string(cac:TaxTotal/cbc:TaxAmount)", namespaces=NS) == "0.00"
    assert (
        root.xpath(
            "string(cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReason)",
            namespaces=NS,
        )
        == EXEMPTION
    )
    assert (
        root.xpath(
            "string(cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='TAX']/cbc:CompanyID)",
            namespaces=NS,
        )
        == "Godkänd för F-skatt"
    )
    assert (
        root.xpath(
            "string(cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID)",
            namespaces=NS,
        )
        == "2321000255"
    )
    assert (
        root.xpath("string(cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID)", namespaces=NS)
        == "50501055"
    )
    assert (
        root.xpath(
            "string(cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID)",
            namespaces=NS,
        )
        == "SE:BANKGIRO"
    )
    assert root.xpath("string(cbc:BuyerReference)", namespaces=NS) == "HMC-AVTAL-01"


def test_bill_7_rendered_invoice_has_no_bankgiro_warnings():
    # SE-R-008/009 are warnings, so "0 fatal" alone would not notice a badly written Bankgiro.
    result = peppol_validate(ubl_render(region_invoice()))

    assert not {"SE-R-008", "SE-R-009", "SE-R-011"} & {w.rule_id for w in result.warnings}


def test_bill_7_line_period_is_written_only_where_it_differs_from_the_invoice():
    # BG-14 covers every line without its own period; repeating it costs validation time per line.
    doc = region_invoice()
    late = dataclasses.replace(
        doc.lines[0],
        line_id="5",
        period_start=datetime.date(2026, 11, 12),
        period_end=datetime.date(2026, 11, 30),
    )
    xml = ubl_render(dataclasses.replace(doc, lines=[*doc.lines, late]))

    root = etree.fromstring(xml)
    assert root.xpath("count(cac:InvoiceLine[cbc:ID = '1']/cac:InvoicePeriod)", namespaces=NS) == 0
    assert (
        root.xpath(
            "string(cac:InvoiceLine[cbc:ID = '5']/cac:InvoicePeriod/cbc:StartDate)", namespaces=NS
        )
        == "2026-11-12"
    )
    assert peppol_validate(xml).fatal == []


def test_bill_7_warnings_are_reported_apart_from_fatal_findings():
    # A Bankgiro number with its hyphen breaks SE-R-008 (digits only), a warning in the rules.
    xml = edited(
        ubl_render(region_invoice()),
        "//cac:PayeeFinancialAccount/cbc:ID",
        "5050-1055",
    )

    result = peppol_validate(xml)

    assert result.fatal == []
    warning = next(w for w in result.warnings if w.rule_id == "SE-R-008")
    assert warning.flag == "warning"
    assert warning.text
    assert warning.location.startswith("/")


def test_bill_7_rendered_credit_note_refers_to_its_invoice_and_passes():
    xml = ubl_render(region_credit_note())

    result = peppol_validate(xml)

    assert result.fatal == [], result.fatal
    root = etree.fromstring(xml)
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
    assert root.xpath("string(cbc:CreditNoteTypeCode)", namespaces=NS) == "381"
    assert (
        root.xpath(
            "string(cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID)", namespaces=NS
        )
        == "F2026-000017"
    )
    assert root.xpath("string(cac:CreditNoteLine/cbc:CreditedQuantity)", namespaces=NS) == "30"


def test_bill_7_standard_rated_lines_get_their_own_subtotal_and_pass():
    doc = region_invoice()
    taxed = dataclasses.replace(
        exempt_line("5", "Batteri (ej förskrivet)", "3", "EA", "99.90"),
        vat_category="S",
        vat_percent=Decimal("25"),
    )
    xml = ubl_render(dataclasses.replace(doc, lines=[*doc.lines, taxed]))

    result = peppol_validate(xml)

    assert result.fatal == [], result.fatal
    root = etree.fromstring(xml)
    assert root.xpath("count(cac:TaxTotal/cac:TaxSubtotal)", namespaces=NS) == 2
    # 299.70 x 25 % = 74.925, rounded half up to 74.93
    assert root.xpath("string(cac:TaxTotal/cbc:TaxAmount)", namespaces=NS) == "74.93"
    assert (
        root.xpath("string(cac:LegalMonetaryTotal/cbc:PayableAmount)", namespaces=NS) == "3222.63"
    )


def test_bill_7_render_is_deterministic():
    assert ubl_render(region_invoice()) == ubl_render(region_invoice())


def test_bill_7_rendered_invoice_with_wrong_total_is_caught():
    xml = edited(
        ubl_render(region_invoice()), "cac:LegalMonetaryTotal/cbc:PayableAmount", "2849.00"
    )

    assert "BR-CO-16" in fatal_ids(peppol_validate(xml))


def test_bill_7_line_amount_disagreeing_with_lines_sum_is_caught():
    doc = region_invoice()
    wrong = dataclasses.replace(doc.lines[0], net_amount=Decimal("131.00"))
    xml = edited(
        ubl_render(dataclasses.replace(doc, lines=[wrong, *doc.lines[1:]])),
        "cac:LegalMonetaryTotal/cbc:LineExtensionAmount",
        "2848.00",
    )

    assert "BR-CO-10" in fatal_ids(peppol_validate(xml))


def test_bill_7_rendered_invoice_with_wrong_f_skatt_text_is_caught():
    xml = edited(
        ubl_render(region_invoice()),
        "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='TAX']/cbc:CompanyID",
        "F-skatt",
    )

    assert fatal_ids(peppol_validate(xml)) == {"SE-R-005"}


def test_bill_7_seller_without_f_skatt_renders_no_tax_registration():
    doc = region_invoice()
    xml = ubl_render(
        dataclasses.replace(doc, seller=dataclasses.replace(doc.seller, f_skatt=False))
    )

    root = etree.fromstring(xml)
    assert root.xpath("count(//cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='TAX'])", namespaces=NS) == 0
    assert peppol_validate(xml).fatal == []


def test_bill_7_seller_with_bad_organisation_number_is_caught():
    doc = region_invoice()
    bad_seller = dataclasses.replace(doc.seller, organisation_number="2321000256")

    result = peppol_validate(ubl_render(dataclasses.replace(doc, seller=bad_seller)))

    assert "SE-R-013" in fatal_ids(result)


def test_bill_7_exempt_lines_without_exemption_reason_are_caught():
    doc = dataclasses.replace(region_invoice(), vat_exemption_reason=None)

    assert "BR-E-10" in fatal_ids(peppol_validate(ubl_render(doc)))


def test_bill_7_not_well_formed_xml_is_one_fatal_finding():
    result = peppol_validate(b"<Invoice><unclosed></Invoice>")

    assert len(result.fatal) == 1
    assert "not well-formed" in result.fatal[0].text


def test_bill_7_missing_rules_directory_refuses(settings, tmp_path):
    settings.PEPPOL_RULES_DIR = tmp_path / "not-installed"

    with pytest.raises(PeppolRulesUnavailable, match="not-installed"):
        peppol_validate(ubl_render(region_invoice()))


def test_bill_7_unconfigured_rules_refuse(settings):
    settings.PEPPOL_RULES_DIR = None

    with pytest.raises(PeppolRulesUnavailable, match="PEPPOL_RULES_DIR"):
        peppol_validate(ubl_render(region_invoice()))


def test_bill_7_missing_rule_file_is_named(settings, tmp_path):
    shutil.copy(rules_dir() / "EN16931-UBL-validation.xslt", tmp_path)
    settings.PEPPOL_RULES_DIR = tmp_path

    with pytest.raises(PeppolRulesUnavailable, match=r"PEPPOL-EN16931-UBL\.xslt"):
        peppol_validate(ubl_render(region_invoice()))


def test_bill_7_broken_stylesheet_refuses(settings, tmp_path):
    shutil.copy(rules_dir() / "EN16931-UBL-validation.xslt", tmp_path)
    broken = (rules_dir() / "PEPPOL-EN16931-UBL.xslt").read_text(encoding="utf-8")
    (tmp_path / "PEPPOL-EN16931-UBL.xslt").write_text(broken[: len(broken) // 2], encoding="utf-8")
    settings.PEPPOL_RULES_DIR = tmp_path

    with pytest.raises(PeppolRulesUnavailable, match="does not compile"):
        peppol_validate(ubl_render(region_invoice()))


def test_bill_7_rules_recover_once_the_directory_is_installed(settings, tmp_path):
    published = rules_dir()
    settings.PEPPOL_RULES_DIR = tmp_path
    with pytest.raises(PeppolRulesUnavailable):
        peppol_validate(ubl_render(region_invoice()))

    for name in ("EN16931-UBL-validation.xslt", "PEPPOL-EN16931-UBL.xslt"):
        shutil.copy(published / name, tmp_path)

    assert peppol_validate(ubl_render(region_invoice())).fatal == []

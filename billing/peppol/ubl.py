"""UBL 2.1 rendering of an invoice or credit note per Peppol BIS Billing 3.0 (BILL-7).

Element order follows the UBL 2.1 schema (a wrong order is a schema error even when every
business rule passes). Totals are computed here from the lines (BR-CO-10..16), each line's
net amount rounded to öre first, so the document is internally consistent by construction;
a line whose net amount disagrees with quantity times price is written as given, so validation
catches the billing floor's mistake instead of this module hiding it.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from billing.peppol.document import DocumentKind, UblDocument, UblLine, UblParty

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_ROOT_NS = {
    DocumentKind.INVOICE: "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    DocumentKind.CREDIT_NOTE: "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}

# Peppol participant scheme for a Swedish organisation number.
SCHEME_SE_ORGNR = "0007"
F_SKATT_TEXT = "Godkänd för F-skatt"
# SE-R-011: Bankgiro is credit transfer (30) with this branch id, never code 50/56.
BANKGIRO_BRANCH = "SE:BANKGIRO"
PAYMENT_CREDIT_TRANSFER = "30"
INVOICE_TYPE_COMMERCIAL = "380"
CREDIT_NOTE_TYPE = "381"

_CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """Round to öre, half up (as Swedish invoices and the BR-CO rules' round() do)."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _amount_text(value: Decimal) -> str:
    return f"{money(value):f}"


def _number_text(value: Decimal) -> str:
    """A quantity, price or percent without exponent and without trailing zeros."""
    text = f"{value.normalize():f}"
    return text if text not in ("-0", "") else "0"


def _date_text(value: datetime.date) -> str:
    return value.isoformat()


def _el(
    parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str
) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def _cbc(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
    return _el(parent, CBC, tag, text, **attrs)


def _cac(parent: etree._Element, tag: str) -> etree._Element:
    return _el(parent, CAC, tag)


def _endpoint(party: UblParty) -> tuple[str, str]:
    """``endpoint_id`` as "0007:2321000156" or the bare number (scheme 0007 assumed)."""
    scheme, sep, value = party.endpoint_id.partition(":")
    if sep:
        return scheme, value
    return SCHEME_SE_ORGNR, party.endpoint_id


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _party(parent: etree._Element, tag: str, party: UblParty, *, seller: bool) -> None:
    node = _cac(_cac(parent, tag), "Party")
    scheme, endpoint = _endpoint(party)
    _cbc(node, "EndpointID", endpoint, schemeID=scheme)
    _cbc(_cac(node, "PartyName"), "Name", party.name)
    address = _cac(node, "PostalAddress")
    _cbc(address, "StreetName", party.street)
    _cbc(address, "CityName", party.city)
    _cbc(address, "PostalZone", party.postal_code)
    _cbc(_cac(address, "Country"), "IdentificationCode", party.country_code)
    if party.vat_number:
        scheme_node = _cac(node, "PartyTaxScheme")
        _cbc(scheme_node, "CompanyID", party.vat_number)
        _cbc(_cac(scheme_node, "TaxScheme"), "ID", "VAT")
    if seller and party.f_skatt:
        # SE-R-005: the seller's tax registration (BT-32) under a scheme other than VAT.
        scheme_node = _cac(node, "PartyTaxScheme")
        _cbc(scheme_node, "CompanyID", F_SKATT_TEXT)
        _cbc(_cac(scheme_node, "TaxScheme"), "ID", "TAX")
    legal = _cac(node, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name)
    # SE-R-003/004/013: the organisation number, 10 digits with a Luhn check digit.
    _cbc(legal, "CompanyID", _digits(party.organisation_number), schemeID=SCHEME_SE_ORGNR)
    if party.contact_name or party.contact_email:
        contact = _cac(node, "Contact")
        if party.contact_name:
            _cbc(contact, "Name", party.contact_name)
        if party.contact_email:
            _cbc(contact, "ElectronicMail", party.contact_email)


def _period(parent: etree._Element, start: datetime.date | None, end: datetime.date | None) -> None:
    if start is None and end is None:
        return
    node = _cac(parent, "InvoicePeriod")
    if start is not None:
        _cbc(node, "StartDate", _date_text(start))
    if end is not None:
        _cbc(node, "EndDate", _date_text(end))


def _tax_category(
    parent: etree._Element, tag: str, category: str, percent: Decimal, reason: str | None
) -> None:
    node = _cac(parent, tag)
    _cbc(node, "ID", category)
    _cbc(node, "Percent", _number_text(percent))
    if reason is not None:
        _cbc(node, "TaxExemptionReason", reason)
    _cbc(_cac(node, "TaxScheme"), "ID", "VAT")


def _subtotals(lines: list[UblLine]) -> OrderedDict[tuple[str, Decimal], Decimal]:
    """Taxable amount per (category, rate) in first-seen order: BR-CO-18 wants one subtotal each."""
    groups: OrderedDict[tuple[str, Decimal], Decimal] = OrderedDict()
    for line in lines:
        key = (line.vat_category, line.vat_percent.normalize())
        groups[key] = groups.get(key, Decimal("0")) + money(line.net_amount)
    return groups


def _line(parent: etree._Element, doc: UblDocument, line: UblLine) -> None:
    invoice = doc.kind is DocumentKind.INVOICE
    node = _cac(parent, "InvoiceLine" if invoice else "CreditNoteLine")
    currency = doc.currency_code
    _cbc(node, "ID", line.line_id)
    _cbc(
        node,
        "InvoicedQuantity" if invoice else "CreditedQuantity",
        _number_text(line.quantity),
        unitCode=line.unit_code,
    )
    _cbc(node, "LineExtensionAmount", _amount_text(line.net_amount), currencyID=currency)
    # BG-26 only where the line's period differs from the invoice's (BG-14 covers every line):
    # each line period is three elements the rules check, about a fifth of validating a line.
    if (line.period_start, line.period_end) != (doc.invoice_period_start, doc.invoice_period_end):
        _period(node, line.period_start, line.period_end)
    item = _cac(node, "Item")
    if line.description:
        _cbc(item, "Description", line.description)
    _cbc(item, "Name", line.item_name)
    if line.seller_item_id:
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line.seller_item_id)
    _tax_category(item, "ClassifiedTaxCategory", line.vat_category, line.vat_percent, None)
    price = _cac(node, "Price")
    _cbc(price, "PriceAmount", _number_text(line.unit_price), currencyID=currency)


def ubl_render(doc: UblDocument) -> bytes:
    """The document as UBL 2.1 XML bytes (UTF-8); the same document gives the same bytes."""
    invoice = doc.kind is DocumentKind.INVOICE
    root_ns = _ROOT_NS[doc.kind]
    root = etree.Element(
        f"{{{root_ns}}}{'Invoice' if invoice else 'CreditNote'}",
        nsmap={None: root_ns, "cac": CAC, "cbc": CBC},
    )
    currency = doc.currency_code
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", doc.number)
    _cbc(root, "IssueDate", _date_text(doc.issue_date))
    if invoice:
        _cbc(root, "DueDate", _date_text(doc.due_date))
        _cbc(root, "InvoiceTypeCode", INVOICE_TYPE_COMMERCIAL)
    else:
        _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE)
    if doc.note:
        _cbc(root, "Note", doc.note)
    _cbc(root, "DocumentCurrencyCode", currency)
    # BT-10: the buyer reference from the home region's agreement (Peppol requires it).
    _cbc(root, "BuyerReference", doc.buyer_reference)
    _period(root, doc.invoice_period_start, doc.invoice_period_end)
    if doc.order_reference:
        _cbc(_cac(root, "OrderReference"), "ID", doc.order_reference)
    if doc.billing_reference_number:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", doc.billing_reference_number)
        if doc.billing_reference_date is not None:
            _cbc(reference, "IssueDate", _date_text(doc.billing_reference_date))
    _party(root, "AccountingSupplierParty", doc.seller, seller=True)
    _party(root, "AccountingCustomerParty", doc.buyer, seller=False)

    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", PAYMENT_CREDIT_TRANSFER)
    if not invoice:
        # UBL's CreditNote has no root DueDate: BT-9 lives here instead.
        _cbc(means, "PaymentDueDate", _date_text(doc.due_date))
    _cbc(means, "PaymentID", doc.number)
    account = _cac(means, "PayeeFinancialAccount")
    # SE-R-008/009: the Bankgiro number as 7-8 digits, without its hyphen.
    _cbc(account, "ID", _digits(doc.bankgiro))
    _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", BANKGIRO_BRANCH)
    if doc.payment_terms:
        _cbc(_cac(root, "PaymentTerms"), "Note", doc.payment_terms)

    groups = _subtotals(doc.lines)
    taxes = {key: money(taxable * key[1] / Decimal(100)) for key, taxable in groups.items()}
    tax_total = sum(taxes.values(), Decimal("0"))
    total_node = _cac(root, "TaxTotal")
    _cbc(total_node, "TaxAmount", _amount_text(tax_total), currencyID=currency)
    for key, taxable in groups.items():
        category, percent = key
        subtotal = _cac(total_node, "TaxSubtotal")
        _cbc(subtotal, "TaxableAmount", _amount_text(taxable), currencyID=currency)
        _cbc(subtotal, "TaxAmount", _amount_text(taxes[key]), currencyID=currency)
        # BR-E-10: an exempt subtotal states why (care and assistive devices given in care).
        reason = doc.vat_exemption_reason if category == "E" else None
        _tax_category(subtotal, "TaxCategory", category, percent, reason)

    line_total = sum(groups.values(), Decimal("0"))
    totals = _cac(root, "LegalMonetaryTotal")
    _cbc(totals, "LineExtensionAmount", _amount_text(line_total), currencyID=currency)
    _cbc(totals, "TaxExclusiveAmount", _amount_text(line_total), currencyID=currency)
    _cbc(totals, "TaxInclusiveAmount", _amount_text(line_total + tax_total), currencyID=currency)
    _cbc(totals, "PayableAmount", _amount_text(line_total + tax_total), currencyID=currency)

    for line in doc.lines:
        _line(root, doc, line)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))

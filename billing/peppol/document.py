"""The data an e-invoice is made from: plain frozen values, no Django, no database.

The billing floor snapshots an invoice into these dataclasses; ``ubl_render`` turns them into a
Peppol BIS Billing 3.0 UBL document and ``peppol_validate`` checks it against the official rules.
Keeping them free of models lets the same code render, validate and benchmark without a database.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from decimal import Decimal


class DocumentKind(enum.Enum):
    """UBL root element: an invoice (type code 380) or a credit note (type code 381)."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


@dataclass(frozen=True)
class UblParty:
    """A seller or buyer (for the regions: a Swedish public body).

    ``organisation_number`` is the 10 digits without hyphen (SE-R-003/013 check the Luhn digit);
    ``endpoint_id`` is the Peppol participant id under scheme 0007 (the organisation number).
    """

    name: str
    organisation_number: str
    vat_number: str | None
    street: str
    city: str
    postal_code: str
    country_code: str
    endpoint_id: str
    f_skatt: bool
    contact_name: str | None = None
    contact_email: str | None = None


@dataclass(frozen=True)
class UblLine:
    """One invoice line. ``net_amount`` is quantity times price as the billing floor computed it;
    the renderer writes it as given (rounded to öre) so a wrong amount is caught by validation
    rather than silently corrected."""

    line_id: str
    item_name: str
    description: str | None
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    net_amount: Decimal
    vat_category: str
    vat_percent: Decimal
    seller_item_id: str | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None


@dataclass(frozen=True)
class UblDocument:
    """An invoice or credit note as issued: every value the UBL file carries."""

    kind: DocumentKind
    number: str
    issue_date: datetime.date
    due_date: datetime.date
    currency_code: str
    buyer_reference: str
    order_reference: str | None
    billing_reference_number: str | None
    billing_reference_date: datetime.date | None
    invoice_period_start: datetime.date | None
    invoice_period_end: datetime.date | None
    note: str | None
    seller: UblParty
    buyer: UblParty
    lines: list[UblLine] = field(default_factory=list)
    bankgiro: str = ""
    payment_terms: str = ""
    vat_exemption_reason: str | None = None


@dataclass(frozen=True)
class Finding:
    """One failed assertion of the official rules (``flag`` is "fatal" or "warning")."""

    rule_id: str
    flag: str
    text: str
    location: str


@dataclass(frozen=True)
class ValidationResult:
    """Findings from both rule sets (EN 16931 and Peppol BIS 3.0)."""

    fatal: list[Finding]
    warnings: list[Finding]

    @property
    def is_valid(self) -> bool:
        return not self.fatal


class PeppolRulesUnavailable(Exception):
    """The official rules could not be loaded, so no invoice may be issued."""

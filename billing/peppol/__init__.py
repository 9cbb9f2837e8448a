"""Peppol BIS Billing 3.0: render UBL invoices and credit notes, validate them by the rules."""

from billing.peppol.document import (
    DocumentKind,
    Finding,
    PeppolRulesUnavailable,
    UblDocument,
    UblLine,
    UblParty,
    ValidationResult,
)
from billing.peppol.ubl import ubl_render
from billing.peppol.validation import peppol_validate

__all__ = [
    "DocumentKind",
    "Finding",
    "PeppolRulesUnavailable",
    "UblDocument",
    "UblLine",
    "UblParty",
    "ValidationResult",
    "peppol_validate",
    "ubl_render",
]

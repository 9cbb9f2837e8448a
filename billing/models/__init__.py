"""The billing floor's data: tariffs, billing accounts, charge events, invoices and runs."""

from billing.models.accounts import AccountKind, BillingAccount
from billing.models.charges import ChargeEvent, ChargeKind, PayerKind
from billing.models.finance import (
    ExportFormat,
    FinanceExport,
    FinanceExportInvoice,
    FinanceExportPatientInvoice,
)
from billing.models.invoices import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSeriesCounter,
    InvoiceState,
    InvoiceTransition,
    VatCategory,
)
from billing.models.patient_invoices import PatientInvoice, PatientInvoiceLine
from billing.models.protected import (
    ManualInvoiceItem,
    ManualReason,
    ProtectedAccountMove,
    ProtectedAccountReview,
    Withdrawal,
)
from billing.models.runs import BillingRun, LapsedClaim, RunState
from billing.models.tariffs import Tariff, TariffKind

__all__ = [
    "AccountKind",
    "BillingAccount",
    "BillingRun",
    "ChargeEvent",
    "ChargeKind",
    "ExportFormat",
    "FinanceExport",
    "FinanceExportInvoice",
    "FinanceExportPatientInvoice",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceSeriesCounter",
    "InvoiceState",
    "InvoiceTransition",
    "LapsedClaim",
    "ManualInvoiceItem",
    "ManualReason",
    "PatientInvoice",
    "PatientInvoiceLine",
    "PayerKind",
    "ProtectedAccountMove",
    "ProtectedAccountReview",
    "RunState",
    "Tariff",
    "TariffKind",
    "VatCategory",
    "Withdrawal",
]

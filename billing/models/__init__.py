"""The billing floor's data: tariffs, billing accounts, charge events, invoices and runs."""

from billing.models.accounts import AccountKind, BillingAccount
from billing.models.charges import ChargeEvent, ChargeKind, PayerKind
from billing.models.invoices import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSeriesCounter,
    InvoiceState,
    InvoiceTransition,
    VatCategory,
)
from billing.models.runs import BillingRun, LapsedClaim, RunState
from billing.models.tariffs import Tariff, TariffKind

__all__ = [
    "AccountKind",
    "BillingAccount",
    "BillingRun",
    "ChargeEvent",
    "ChargeKind",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceSeriesCounter",
    "InvoiceState",
    "InvoiceTransition",
    "LapsedClaim",
    "PayerKind",
    "RunState",
    "Tariff",
    "TariffKind",
    "VatCategory",
]

"""The finance file, fixed width (documented field by field in docs/billing.md, "Finance
export"). Records of 120 characters in ISO-8859-1, each ended by CR LF:

- ``00`` header: the seller, the file's day, the month, the export's number;
- ``10`` one per invoice or credit note: customer number, dates, the signed amount in öre;
- ``20`` one per line: the ledger account and the signed amount in öre;
- ``99`` totals: counts and the sum of the ``10`` records, which the ``20`` records also make.

Amounts are signed whole öre, sign first (``+`` or ``-``), zero-padded; a credit note is
negative. Text is cut to its field and padded with spaces; what ISO-8859-1 cannot carry becomes
``?``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

RECORD_LENGTH = 120
ENCODING = "iso-8859-1"
NEWLINE = "\r\n"
# Kundfordringar: the receivable each invoice debits.
RECEIVABLE_ACCOUNT = "1510"
# Revenue accounts per kind of charge (the region's chart of accounts, BAS-like).
REVENUE_ACCOUNTS = {
    "rent": "3041",
    "sale": "3051",
    "sale_with_return": "3052",
    "urgent_fee": "3061",
    "labour": "3071",
    "parts": "3072",
    "loss_debit": "3081",
    "patient_fee": "3091",
}
OTHER_REVENUE_ACCOUNT = "3099"


@dataclass(frozen=True)
class ExportLine:
    line_no: int
    account: str
    text: str
    amount: Decimal
    order_number: str
    period_start: datetime.date | None
    period_end: datetime.date | None


@dataclass(frozen=True)
class ExportInvoice:
    credit: bool
    series: str
    number: int
    customer_number: str
    issue_date: datetime.date
    due_date: datetime.date
    amount: Decimal
    currency: str
    buyer_reference: str
    credited_number: int | None
    lines: tuple[ExportLine, ...]


@dataclass(frozen=True)
class ExportFile:
    export_number: int
    seller_organisation_number: str
    seller_name: str
    file_date: datetime.date
    month: datetime.date
    invoices: tuple[ExportInvoice, ...]


def signed(invoice: ExportInvoice, amount: Decimal) -> Decimal:
    return -amount if invoice.credit else amount


def _text(value: str, width: int) -> str:
    clean = " ".join(value.split())
    clean = clean.encode(ENCODING, errors="replace").decode(ENCODING)
    return clean[:width].ljust(width)


def _number(value: int, width: int) -> str:
    text = str(value)
    if value < 0 or len(text) > width:
        raise ValueError(f"{value} does not fit {width} digits")
    return text.zfill(width)


def _ore(amount: Decimal, width: int) -> str:
    ore = int((amount * 100).to_integral_value())
    digits = str(abs(ore))
    if len(digits) > width - 1:
        raise ValueError(f"{amount} does not fit {width} characters")
    return ("-" if ore < 0 else "+") + digits.zfill(width - 1)


def _date(value: datetime.date | None) -> str:
    return f"{value:%Y%m%d}" if value else " " * 8


def _record(*fields: str) -> str:
    record = "".join(fields)
    if len(record) > RECORD_LENGTH:
        raise ValueError(f"record of {len(record)} characters")
    return record.ljust(RECORD_LENGTH)


def fixed_width_render(file: ExportFile) -> bytes:
    records = [
        _record(
            "00",
            _text(file.seller_organisation_number, 10),
            _text(file.seller_name, 40),
            _date(file.file_date),
            f"{file.month:%Y%m}",
            _number(file.export_number, 10),
            _text("HJMFAKT", 8),
        )
    ]
    total = Decimal(0)
    line_count = 0
    for invoice in file.invoices:
        amount = signed(invoice, invoice.amount)
        total += amount
        records.append(
            _record(
                "10",
                "K" if invoice.credit else "D",
                _text(invoice.series, 4),
                _number(invoice.number, 10),
                _text(invoice.customer_number, 16),
                _date(invoice.issue_date),
                _date(invoice.due_date),
                _ore(amount, 15),
                _text(invoice.currency, 3),
                _text(invoice.buyer_reference, 30),
                _number(invoice.credited_number, 10) if invoice.credited_number else " " * 10,
            )
        )
        for line in invoice.lines:
            line_count += 1
            records.append(
                _record(
                    "20",
                    _text(invoice.series, 4),
                    _number(invoice.number, 10),
                    _number(line.line_no, 4),
                    _text(line.account, 4),
                    _ore(signed(invoice, line.amount), 15),
                    _text(line.order_number, 16),
                    _date(line.period_start),
                    _date(line.period_end),
                    _text(line.text, 49),
                )
            )
    records.append(
        _record(
            "99",
            _number(len(file.invoices), 8),
            _number(line_count, 8),
            _ore(total, 15),
        )
    )
    return "".join(record + NEWLINE for record in records).encode(ENCODING)


def _sie_text(value: str) -> str:
    clean = " ".join(value.split()).replace('"', "'")
    return '"' + clean + '"'


def _sie_amount(amount: Decimal) -> str:
    return f"{amount:.2f}"


def sie_render(file: ExportFile) -> bytes:
    """SIE 4i (import of vouchers): one voucher per invoice, the receivable against the revenue
    accounts of its lines. PC8 (code page 437) as the SIE standard asks."""
    rows = [
        "#FLAGGA 0",
        "#FORMAT PC8",
        "#SIETYP 4",
        '#PROGRAM "HJM" "1"',
        f"#GEN {file.file_date:%Y%m%d}",
        f"#ORGNR {file.seller_organisation_number[:6]}-{file.seller_organisation_number[6:]}",
        f"#FNAMN {_sie_text(file.seller_name)}",
    ]
    for invoice in file.invoices:
        kind = "Kreditnota" if invoice.credit else "Faktura"
        rows.append(
            f'#VER "" "" {invoice.issue_date:%Y%m%d} '
            f"{_sie_text(f'{kind} {invoice.series}{invoice.number} {invoice.customer_number}')}"
        )
        rows.append("{")
        rows.append(
            f"   #TRANS {RECEIVABLE_ACCOUNT} {{}} {_sie_amount(signed(invoice, invoice.amount))}"
        )
        for line in invoice.lines:
            rows.append(
                f"   #TRANS {line.account} {{}} {_sie_amount(-signed(invoice, line.amount))}"
                f' "" {_sie_text(line.text)}'
            )
        rows.append("}")
    return "".join(row + "\r\n" for row in rows).encode("cp437", errors="replace")

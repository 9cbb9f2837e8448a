"""UBL 2.1 rendering of an invoice or credit note per Peppol BIS Billing 3.0."""

from __future__ import annotations

from billing.peppol.document import UblDocument


def ubl_render(doc: UblDocument) -> bytes:
    raise NotImplementedError("billing.peppol: ubl_render is being built (helper B2)")

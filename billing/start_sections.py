"""What the billing floor puts on the start page (``patients.startpage``): the billing role's
work in counts: invoices waiting to be sent, rejected ones, lapsed claims, and whether last
month's invoicing has been run. Counts and links only: no patient is named."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.selectors import billing_counts
from patients.startpage import StartItem, StartSection, start_section_register
from protection.permissions import holds_role_permission


def _billing(user: Any) -> Sequence[StartItem] | None:
    if not holds_role_permission(user, "billing.view_invoice"):
        return None
    counts = billing_counts(today=timezone.localdate())
    outbox = reverse("billing:outbox")
    items = [
        StartItem(
            _("Last month's invoicing is done")
            if counts.last_month_run
            else _("Last month is not yet invoiced (preview and issue it)"),
            reverse("billing:run"),
        ),
        StartItem(_("Invoices waiting to be sent"), outbox, counts.to_send),
        StartItem(
            _("Invoices rejected by the receiver"), f"{outbox}?state=rejected", counts.rejected
        ),
        StartItem(_("Lapsed claims"), reverse("billing:lapsed"), counts.lapsed),
        StartItem(_("Invoices and credit notes"), reverse("billing:invoices")),
        StartItem(_("Patient invoices"), reverse("billing:patient_invoices")),
        StartItem(_("Losses per care unit"), reverse("billing:losses")),
    ]
    # BILL-2, BILL-3, BILL-5, LEAK-4: the protected persons' lists and the finance exports
    # (links only: their counts would cost queries the start page does not need).
    if holds_role_permission(user, "billing.view_manualinvoiceitem"):
        items.append(StartItem(_("Manual invoicing"), reverse("billing:manual")))
    if holds_role_permission(user, "billing.view_protectedaccountmove"):
        items.append(
            StartItem(_("Accounts that became protected"), reverse("billing:protected_review"))
        )
    if holds_role_permission(user, "billing.view_financeexport"):
        items.append(StartItem(_("Finance exports"), reverse("billing:exports")))
    return items


def register_all() -> None:
    start_section_register(StartSection("billing", _("Invoicing"), 8, _billing))

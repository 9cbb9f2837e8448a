"""The billing floor's pages, under /billing/ (namespace ``billing``): the month's run, invoices
and credit notes, the outbox, lapsed claims and KPI-3; the protected persons' lists (the
manual-invoicing list, the review of protected accounts with the withdrawals by hand) and the
finance exports."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from billing.views import invoices, patient_invoices, protected

Patterns = tuple[list[URLPattern | URLResolver], str]

billing_patterns: Patterns = (
    [
        # BILL-2, BILL-5: what protected persons owe, invoiced by hand.
        path("manual/", protected.manual_list_view, name="manual"),
        path(
            "manual/<int:manual_item_id>/handled/",
            protected.manual_handle_view,
            name="manual_handle",
        ),
        # BILL-3, LEAK-4: accounts whose holder became protected; withdrawals from finance.
        path("protected-accounts/", protected.protected_review_view, name="protected_review"),
        path(
            "protected-accounts/<int:move_id>/reviewed/",
            protected.protected_reviewed_view,
            name="protected_reviewed",
        ),
        path(
            "withdrawals/<int:withdrawal_id>/done/",
            protected.withdrawal_done_view,
            name="withdrawal_done",
        ),
        # The finance exports and their files.
        path("finance-exports/", protected.exports_view, name="exports"),
        path(
            "finance-exports/<int:export_id>/file/", protected.export_file_view, name="export_file"
        ),
        # The month's run, invoices and credit notes, the outbox, lapsed claims, KPI-3.
        path("run/", invoices.run_view, name="run"),
        path("invoices/", invoices.invoices_view, name="invoices"),
        path("invoices/<int:invoice_id>/", invoices.invoice_view, name="invoice"),
        path(
            "invoices/<int:invoice_id>/credit/", invoices.invoice_credit_view, name="invoice_credit"
        ),
        path("invoices/<int:invoice_id>/xml/", invoices.invoice_xml_view, name="invoice_xml"),
        path(
            "invoices/<int:invoice_id>/replace/",
            invoices.invoice_replace_view,
            name="invoice_replace",
        ),
        path(
            "invoices/<int:invoice_id>/send/",
            invoices.invoice_send_again_view,
            name="invoice_send",
        ),
        path("outbox/", invoices.outbox_view, name="outbox"),
        # BILL-5: patient fees invoiced by letter to ordinary patients.
        path(
            "patient-invoices/",
            patient_invoices.patient_invoices_view,
            name="patient_invoices",
        ),
        path(
            "patient-invoices/issue/",
            patient_invoices.patient_invoices_issue_view,
            name="patient_invoices_issue",
        ),
        path("lapsed/", invoices.lapsed_view, name="lapsed"),
        path("losses/", invoices.losses_view, name="losses"),
    ],
    "billing",
)

"""The billing floor's pages under /billing/ (namespace ``billing``). B3's part: the
manual-invoicing list, the review of protected accounts with the withdrawals by hand, and the
finance exports; the billing landing page (B4) links them."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from billing import views

Patterns = tuple[list[URLPattern | URLResolver], str]

billing_patterns: Patterns = (
    [
        # BILL-2, BILL-5: what protected persons owe, invoiced by hand.
        path("manual/", views.manual_list_view, name="manual"),
        path(
            "manual/<int:manual_item_id>/handled/", views.manual_handle_view, name="manual_handle"
        ),
        # BILL-3, LEAK-4: accounts whose holder became protected; withdrawals from finance.
        path("protected-accounts/", views.protected_review_view, name="protected_review"),
        path(
            "protected-accounts/<int:move_id>/reviewed/",
            views.protected_reviewed_view,
            name="protected_reviewed",
        ),
        path(
            "withdrawals/<int:withdrawal_id>/done/",
            views.withdrawal_done_view,
            name="withdrawal_done",
        ),
        # The finance exports and their files.
        path("finance-exports/", views.exports_view, name="exports"),
        path("finance-exports/<int:export_id>/file/", views.export_file_view, name="export_file"),
    ],
    "billing",
)

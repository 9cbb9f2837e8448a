"""The billing floor's pages, under /billing/ (namespace ``billing``)."""

from django.urls import URLPattern, URLResolver, path

from billing import views

Patterns = tuple[list[URLPattern | URLResolver], str]

billing_patterns: Patterns = (
    [
        path("run/", views.run_view, name="run"),
        path("invoices/", views.invoices_view, name="invoices"),
        path("invoices/<int:invoice_id>/", views.invoice_view, name="invoice"),
        path("invoices/<int:invoice_id>/credit/", views.invoice_credit_view, name="invoice_credit"),
        path("invoices/<int:invoice_id>/xml/", views.invoice_xml_view, name="invoice_xml"),
        path(
            "invoices/<int:invoice_id>/replace/",
            views.invoice_replace_view,
            name="invoice_replace",
        ),
        path(
            "invoices/<int:invoice_id>/send/",
            views.invoice_send_again_view,
            name="invoice_send",
        ),
        path("outbox/", views.outbox_view, name="outbox"),
        path("lapsed/", views.lapsed_view, name="lapsed"),
        path("losses/", views.losses_view, name="losses"),
    ],
    "billing",
)

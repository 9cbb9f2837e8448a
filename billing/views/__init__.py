"""The billing floor's pages: the month's run, invoices, the outbox, lapsed claims and KPI-3
(``invoices``); protected persons' lists and the finance exports (``protected``)."""

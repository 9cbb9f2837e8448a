"""Pinned query counts of the prescriber's pages (the prescription, my prescriptions, the
patient's devices page): they do not grow with the lines, rows or activities."""

from __future__ import annotations

import pytest

from prescriptions.models import ConsultationActivity
from tests.prescriptions.conftest import article
from tests.prescriptions.pages import activities_url, add, book, in_an_hour, page, start, submit

pytestmark = pytest.mark.django_db


# --- query counts -----------------------------------------------------------------------------


def test_prescription_page_query_count_does_not_grow_with_lines(
    rx_client, ordinary, django_assert_num_queries
):
    numbers = []
    for count in (1, 20):
        number = start(rx_client, ordinary)
        for _ in range(count):
            add(rx_client, number, article("900").pk)
        numbers.append(number)
    with django_assert_num_queries(PRESCRIPTION_PAGE_QUERIES):
        page(rx_client, numbers[0])
    with django_assert_num_queries(PRESCRIPTION_PAGE_QUERIES):
        content = page(rx_client, numbers[1])
    assert content.count('<li id="line-') == 20


def test_my_prescriptions_query_count_is_pinned(rx_client, ordinary, django_assert_num_queries):
    for _ in range(3):
        start(rx_client, ordinary)
    with django_assert_num_queries(MY_LIST_QUERIES):
        rx_client.get("/prescriptions/")
    for _ in range(5):
        start(rx_client, ordinary)
    with django_assert_num_queries(MY_LIST_QUERIES):
        content = rx_client.get("/prescriptions/").content.decode()
    row_link = (
        '<th class="aksel-table__header-cell" scope="row">'
        '<a class="aksel-link" href="/prescriptions/F-'
    )
    assert content.count(row_link) == 8


def test_patient_page_query_count_is_pinned(rx_client, ordinary, django_assert_num_queries):
    for _ in range(2):
        number = start(rx_client, ordinary)
        add(rx_client, number, article("900").pk)
        submit(rx_client, number)
        rx_client.post(activities_url(ordinary))
    booked = ConsultationActivity.objects.filter(patient=ordinary).first()
    assert booked is not None
    book(rx_client, ordinary, booked, in_an_hour())
    with django_assert_num_queries(PATIENT_PAGE_QUERIES):
        content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert content.count("Approved") == 2
    assert content.count('class="activity"') == 2  # one open, one booked: two queries for both


# Pinned: session, user, the gate and its access entry, the prescription, lines, eligibility,
# replacements, history, agreements, the catalogue form's areas. Not one per line.
# + the active pickup points of the delivery choice (LOG-4), + the ordinary patient's registered
# address, which the delivery section shows when the goods go there.
# The role check and the menu's from one read of the permissions, the PROT-5 guards with the
# gate's read of the patient (issue 16: 15 to 13).
PRESCRIPTION_PAGE_QUERIES = 13  # was 16 (issue 16)
# + the patients as labels: guards, patients, the access log (the actor's unit comes with the
# user since issue 16: 9 to 8).
MY_LIST_QUERIES = 8
# + the activities of the user's units and their bookings, one query each (PRESC-7).
PATIENT_PAGE_QUERIES = 10  # was 12 (issue 16: the backend, the guards with the patient)

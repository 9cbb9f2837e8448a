"""PRESC-7: a consultation activity's booking records the place, the service, the work order
number, a phone number where the prescriber can be reached (encrypted) and, optionally, a
consultant; rebooking cancels the booking in force and books anew, keeping the history; an
activity with no booked time in three days is closed by the scheduled task."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from prescriptions.models import ActivityState, BookingState, ConsultationActivity
from tests.personas import logged_in
from tests.prescriptions.factories import PrescriberProfileFactory
from tests.prescriptions.pages import BOOKING, activities_url, book, in_an_hour

pytestmark = pytest.mark.django_db


def _activity(rx_client, patient) -> ConsultationActivity:
    assert rx_client.post(activities_url(patient)).status_code == 302
    return ConsultationActivity.objects.get(patient=patient)


def test_presc_7_a_booking_records_place_service_work_order_phone_and_consultant(
    rx_client, ordinary
):
    activity = _activity(rx_client, ordinary)
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    for name in ("place", "service", "work_order_number", "phone", "consultant"):
        assert f'id="id_activity-{activity.pk}-{name}"' in content
    assert book(rx_client, ordinary, activity, in_an_hour()).status_code == 302
    booking = activity.bookings.get()
    assert (booking.place, booking.service, booking.work_order_number, booking.consultant) == (
        BOOKING["place"],
        BOOKING["service"],
        BOOKING["work_order_number"],
        BOOKING["consultant"],
    )
    assert booking.phone == BOOKING["phone"]
    assert booking.state == BookingState.BOOKED
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    for value in BOOKING.values():
        assert value in content


def test_presc_7_the_phone_number_is_encrypted_at_rest(rx_client, ordinary):
    activity = _activity(rx_client, ordinary)
    book(rx_client, ordinary, activity, in_an_hour())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone FROM prescriptions_consultationbooking WHERE activity_id = %s",
            [activity.pk],
        )
        (stored,) = cursor.fetchone()
    assert "123 45 67" not in stored
    assert "1234567" not in stored.replace(" ", "")


def test_presc_7_rebooking_cancels_the_booking_in_force_and_books_anew(rx_client, ordinary):
    activity = _activity(rx_client, ordinary)
    first = in_an_hour()
    book(rx_client, ordinary, activity, first)
    later = "2099-05-04T09:15"
    response = book(rx_client, ordinary, activity, later, place="Vårdcentralen Ystad")
    assert response.status_code == 302
    bookings = list(activity.bookings.order_by("pk"))
    assert [b.state for b in bookings] == [BookingState.CANCELLED, BookingState.BOOKED]
    assert bookings[0].cancelled_at is not None
    assert bookings[1].place == "Vårdcentralen Ystad"
    activity.refresh_from_db()
    assert activity.state == ActivityState.BOOKED
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert "booked for 2099-05-04 09:15" in content
    assert f"{first.replace('T', ' ')} (cancelled" in content


def test_presc_7_a_missing_field_is_refused_naming_it_and_keeping_what_was_typed(
    rx_client, ordinary
):
    activity = _activity(rx_client, ordinary)
    response = book(rx_client, ordinary, activity, "2099-05-04T09:15", place="", phone="abc")
    content = response.content.decode()
    assert response.status_code == 400
    assert f'href="#id_activity-{activity.pk}-place">Place: ' in content
    assert f'href="#id_activity-{activity.pk}-phone">Phone number where you can be reached: ' in (
        content
    )
    assert 'value="2099-05-04T09:15"' in content
    assert f'value="{BOOKING["service"]}"' in content
    assert not activity.bookings.exists()


def test_presc_7_a_closed_activity_cannot_be_booked(rx_client, ordinary):
    activity = _activity(rx_client, ordinary)
    ConsultationActivity.objects.filter(pk=activity.pk).update(
        state=ActivityState.CLOSED, closed_at=timezone.now()
    )
    assert book(rx_client, ordinary, activity, in_an_hour()).status_code in (400, 404)
    assert not activity.bookings.exists()


def test_presc_7_another_units_prescriber_cannot_book_denied(client, rx_client, ordinary):
    activity = _activity(rx_client, ordinary)
    other = PrescriberProfileFactory().user
    logged_in(client, other)
    assert book(client, ordinary, activity, in_an_hour()).status_code == 404
    assert not activity.bookings.exists()


def test_presc_7_the_closing_task_is_scheduled_in_beat():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "prescriptions.tasks.close_stale_consultation_activities" in tasks

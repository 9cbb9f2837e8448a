"""PRESC-7's consultation activities on the patient's page: register, book, the refusals on the
page and the denied paths."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from patients.models import AccessEntry
from prescriptions.models import ActivityState, ConsultationActivity
from tests.factories import PatientFactory, UserFactory
from tests.personas import logged_in
from tests.prescriptions.factories import PrescriberProfileFactory
from tests.prescriptions.pages import activities_url, book, in_an_hour

pytestmark = pytest.mark.django_db


# --- PRESC-7: consultation activities on the patient's page ------------------------------------


def test_presc_7_register_an_activity_from_the_patient_page(rx_client, rx, ordinary):
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert 'id="activities"' in content
    assert f'action="{activities_url(ordinary)}"' in content
    response = rx_client.post(activities_url(ordinary))
    assert response.status_code == 302
    assert response["Location"] == f"/prescriptions/patients/{ordinary.reference}/#activities"
    activity = ConsultationActivity.objects.get(patient=ordinary)
    assert (activity.prescriber, activity.state) == (rx, ActivityState.OPEN)
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    # The booking form: a labelled date-time field of its own per activity.
    assert (
        '<label class="aksel-form-field__label aksel-label" '
        f'for="id_activity-{activity.pk}-booked_for">Booked time</label>'
    ) in content
    assert 'type="datetime-local"' in content
    assert f'action="{activities_url(ordinary, activity)}"' in content


def test_presc_7_book_a_time_for_the_activity(rx_client, ordinary):
    rx_client.post(activities_url(ordinary))
    activity = ConsultationActivity.objects.get(patient=ordinary)
    when = in_an_hour()
    response = book(rx_client, ordinary, activity, when)
    assert response.status_code == 302
    assert response["Location"] == f"/prescriptions/patients/{ordinary.reference}/#activities"
    activity.refresh_from_db()
    assert activity.state == ActivityState.BOOKED
    assert timezone.localtime(activity.booked_for).strftime("%Y-%m-%dT%H:%M") == when
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert f"booked for {when.replace('T', ' ')}" in content
    # Booked: the form now rebooks (cancels this time and books a new one).
    assert f'action="{activities_url(ordinary, activity)}"' in content
    assert "Rebook: cancel this time and book a new one" in content


def test_presc_7_a_time_past_is_refused_naming_the_field_and_keeping_what_was_typed(
    rx_client, ordinary
):
    rx_client.post(activities_url(ordinary))
    activity = ConsultationActivity.objects.get(patient=ordinary)
    response = book(rx_client, ordinary, activity, "2020-01-02T10:30")
    content = response.content.decode()
    assert response.status_code == 400
    assert 'class="aksel-error-summary" role="alert"' in content
    assert (
        f'<a class="aksel-link" href="#id_activity-{activity.pk}-booked_for">'
        "Booked time: choose a time in the future.</a>"
    ) in content
    assert 'value="2020-01-02T10:30"' in content
    activity.refresh_from_db()
    assert (activity.state, activity.booked_for) == (ActivityState.OPEN, None)


def test_presc_7_a_time_that_is_no_time_is_refused_naming_the_field(rx_client, ordinary):
    rx_client.post(activities_url(ordinary))
    activity = ConsultationActivity.objects.get(patient=ordinary)
    response = book(rx_client, ordinary, activity, "next tuesday")
    content = response.content.decode()
    assert response.status_code == 400
    assert re.search(
        rf'<a [^>]*href="#id_activity-{activity.pk}-booked_for">Booked time: [^<]+</a>',
        content,
    ), content
    assert 'value="next tuesday"' in content
    assert ConsultationActivity.objects.get(pk=activity.pk).state == ActivityState.OPEN


def test_presc_7_denied_another_units_activity_is_not_found(client, rx, ordinary):
    """House style 5: another unit's activity, and an activity reached under another patient,
    answer as one that does not exist."""
    logged_in(client, rx)
    client.post(activities_url(ordinary))
    activity = ConsultationActivity.objects.get(patient=ordinary)
    other = PrescriberProfileFactory().user
    logged_in(client, other)
    assert book(client, ordinary, activity, in_an_hour()).status_code == 404
    content = client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert f'id="activity-{activity.pk}"' not in content  # not listed for another unit
    logged_in(client, rx)
    someone_else = PatientFactory()
    assert book(client, someone_else, activity, in_an_hour()).status_code == 404
    assert book(client, ordinary, activity, "x").status_code == 400  # the right one is found
    activity.refresh_from_db()
    assert (activity.state, activity.booked_for) == (ActivityState.OPEN, None)


def test_presc_7_denied_a_masked_patient_is_not_found(client, rx, protected_patient):
    """ACCESS-1: a same-unit colleague without a grant gets 404 for registering and for booking,
    like for a patient that does not exist; each refusal is logged once (AUDIT-1)."""
    logged_in(client, rx, stepped_up=True)
    assert client.post(activities_url(protected_patient)).status_code == 302
    activity = ConsultationActivity.objects.get(patient=protected_patient)
    colleague = PrescriberProfileFactory(
        user=UserFactory(role="prescriber", unit=rx.staff_profile.unit),
        units=[rx.prescriber_profile.units.get()],
    ).user
    logged_in(client, colleague)
    before = AccessEntry.objects.filter(patient=protected_patient, outcome="denied").count()
    assert client.post(activities_url(protected_patient)).status_code == 404
    assert book(client, protected_patient, activity, in_an_hour()).status_code == 404
    after = AccessEntry.objects.filter(patient=protected_patient, outcome="denied").count()
    assert after == before + 2
    assert ConsultationActivity.objects.filter(patient=protected_patient).count() == 1
    activity.refresh_from_db()
    assert activity.state == ActivityState.OPEN


def test_access_4_presc_7_a_grant_holder_steps_up_first_and_comes_back_to_the_page(
    client, rx, protected_patient
):
    logged_in(client, rx)
    response = client.post(activities_url(protected_patient))
    page_path = f"/prescriptions/patients/{protected_patient.reference}/"
    assert response["Location"] == "/protection/step-up/?" + urlencode({"next": page_path})
    assert not ConsultationActivity.objects.exists()

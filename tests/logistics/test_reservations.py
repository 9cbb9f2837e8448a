"""LOG-1: a draft's lines hold goods reserved in the region's central store; the reservations
follow the lines, stay when the draft is submitted, go when it is cancelled, and lapse (the
prescriber told once) when it is never submitted."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from logistics.models import Reservation, ReservationState, StockLevel
from logistics.services.reservations import (
    reservation_release,
    reservations_lapse,
    reservations_release_all,
    reservations_sync_for_draft,
)
from patients.models import Notification
from prescriptions.services.lines import prescription_line_change, prescription_line_remove
from prescriptions.services.routing import prescription_cancel
from tests.factories import UserFactory
from tests.logistics.factories import StockLevelFactory
from tests.personas import ctx_for
from tests.prescriptions.drafting import draft_with, submit

pytestmark = pytest.mark.django_db
A = ReservationState.ACTIVE


def _level(article, central) -> StockLevel:
    return StockLevel.objects.get(article=article, location=central)


def _line(reference):
    from prescriptions.models import Prescription

    return Prescription.objects.get(reference=reference).lines.get()


def test_log_1_adding_a_line_reserves_in_the_central_store(rx, ordinary, central, rollator):
    StockLevelFactory(article=rollator, location=central, physical=3)
    reference = draft_with(rx, ordinary, rollator)
    reservation = Reservation.objects.get(state=A)
    assert reservation.holder == rx
    assert reservation.quantity == 1
    assert reservation.prescription_line == _line(reference)
    assert reservation.lapses_at is not None
    assert _level(rollator, central).available == 2


def test_log_1_nothing_is_reserved_without_a_central_store_or_stock(rx, ordinary, rollator):
    draft_with(rx, ordinary, rollator)
    assert not Reservation.objects.exists()


def test_log_1_changing_and_removing_the_line_adjusts_the_reservation(
    rx, ordinary, central, rollator
):
    StockLevelFactory(article=rollator, location=central, physical=3)
    reference = draft_with(rx, ordinary, rollator)
    line = _line(reference)
    prescription_line_change(ctx=ctx_for(rx), reference=reference, line_id=line.pk, quantity=5)
    # Partial: what is there (3) is reserved.
    assert [r.quantity for r in Reservation.objects.filter(state=A)] == [3]
    prescription_line_change(ctx=ctx_for(rx), reference=reference, line_id=line.pk, quantity=2)
    assert [r.quantity for r in Reservation.objects.filter(state=A)] == [2]
    assert _level(rollator, central).available == 1
    prescription_line_remove(ctx=ctx_for(rx), reference=reference, line_id=line.pk)
    assert not Reservation.objects.filter(state=A).exists()
    assert _level(rollator, central).available == 3


def test_log_1_cancel_releases_and_submit_keeps_without_lapse(
    rx, ordinary, central, rollator, pads
):
    StockLevelFactory(article=rollator, location=central, physical=3)
    StockLevelFactory(article=pads, location=central, physical=3)
    cancelled = draft_with(rx, ordinary, rollator)
    prescription_cancel(ctx=ctx_for(rx), reference=cancelled, reason="Fel artikel")
    assert Reservation.objects.get().state == ReservationState.RELEASED
    assert _level(rollator, central).available == 3
    sent = draft_with(rx, ordinary, pads)
    submit(rx, sent)
    kept = Reservation.objects.get(state=A)
    assert kept.article == pads
    assert kept.lapses_at is None


def test_log_1_sync_is_cheap(rx, ordinary, central, rollator, django_assert_max_num_queries):
    """Pinned: nothing changed costs three queries (the prescription with its store, the held
    reservations, the lines with their availability)."""
    StockLevelFactory(article=rollator, location=central, physical=3)
    reference = draft_with(rx, ordinary, rollator, rollator, rollator)
    prescription_id = _line_prescription(reference)
    with django_assert_max_num_queries(3):
        reservations_sync_for_draft(prescription_id)


def _line_prescription(reference):
    from prescriptions.models import Prescription

    return Prescription.objects.get(reference=reference).pk


def test_log_1_lapse_tells_the_prescriber_once_even_when_run_twice(
    rx, ordinary, central, rollator, pads
):
    StockLevelFactory(article=rollator, location=central, physical=3)
    StockLevelFactory(article=pads, location=central, physical=3)
    reference = draft_with(rx, ordinary, rollator, pads)
    later = timezone.now() + datetime.timedelta(hours=73)
    assert reservations_lapse(now=timezone.now()) == 0
    assert reservations_lapse(now=later) == 1
    assert reservations_lapse(now=later) == 0
    assert set(Reservation.objects.values_list("state", flat=True)) == {ReservationState.LAPSED}
    assert _level(rollator, central).available == 3
    notice = Notification.objects.get(user=rx)
    assert reference in notice.subject
    assert ordinary.reference not in notice.subject + notice.body
    assert rollator.article_number in notice.body
    assert pads.article_number in notice.body


def test_log_1_lapse_setting_is_read(settings, rx, ordinary, central, rollator):
    settings.RESERVATION_LAPSE_HOURS = 1
    StockLevelFactory(article=rollator, location=central, physical=3)
    draft_with(rx, ordinary, rollator)
    assert reservations_lapse(now=timezone.now() + datetime.timedelta(minutes=61)) == 1


def test_log_1_a_submitted_draft_does_not_lapse(rx, ordinary, central, rollator):
    StockLevelFactory(article=rollator, location=central, physical=3)
    submit(rx, draft_with(rx, ordinary, rollator))
    assert reservations_lapse(now=timezone.now() + datetime.timedelta(days=30)) == 0
    assert Reservation.objects.get().state == A


def test_log_1_the_prescriber_releases_their_own_only(rx, ordinary, central, rollator, pads):
    StockLevelFactory(article=rollator, location=central, physical=3)
    StockLevelFactory(article=pads, location=central, physical=3)
    draft_with(rx, ordinary, rollator, pads)
    first, second = Reservation.objects.order_by("pk")
    other = UserFactory(username="annan", role="prescriber")
    assert not reservation_release(user=other, reservation_id=first.pk)
    assert reservations_release_all(user=other) == 0
    assert reservation_release(user=rx, reservation_id=first.pk)
    assert reservations_release_all(user=rx) == 1
    assert not Reservation.objects.filter(state=A).exists()
    assert Reservation.objects.get(pk=second.pk).ended_by == rx


# --- the prescriber's page ----------------------------------------------------------------------


def test_log_1_the_page_lists_by_prescription_number_and_releases(
    rx_client, rx, hidden, central, rollator
):
    """A protected patient's draft is named by its number only; release per line and all."""
    StockLevelFactory(article=rollator, location=central, physical=3)
    reference = draft_with(rx, hidden, rollator, stepped_up=True)
    content = rx_client.get("/logistics/reservations/").content.decode()
    assert reference in content
    assert rollator.article_number in content
    assert hidden.reference not in content
    reservation = Reservation.objects.get(state=A)
    response = rx_client.post(f"/logistics/reservations/{reservation.pk}/release/")
    assert response.status_code == 302
    assert not Reservation.objects.filter(state=A).exists()
    assert rx_client.post("/logistics/reservations/release-all/").status_code == 302


def test_log_1_denied_another_prescribers_reservation_and_other_roles(
    client, rx, ordinary, central, rollator, store_worker
):
    from tests.personas import logged_in

    StockLevelFactory(article=rollator, location=central, physical=3)
    draft_with(rx, ordinary, rollator)
    reservation = Reservation.objects.get(state=A)
    other = UserFactory(username="annan", role="prescriber")
    logged_in(client, other)
    assert client.post(f"/logistics/reservations/{reservation.pk}/release/").status_code == 404
    assert client.post("/logistics/reservations/99999/release/").status_code == 404
    client.post("/logistics/reservations/release-all/")
    assert Reservation.objects.get(pk=reservation.pk).state == A
    assert reservation.prescription_line is not None
    page = client.get("/logistics/reservations/").content.decode()
    assert reservation.prescription_line.prescription.reference not in page
    logged_in(client, store_worker)
    assert client.get("/logistics/reservations/").status_code in (403, 404)
    assert client.post(f"/logistics/reservations/{reservation.pk}/release/").status_code in (
        403,
        404,
    )
    assert Reservation.objects.get(pk=reservation.pk).state == A


def test_log_1_the_page_query_count_is_pinned(
    rx_client, rx, ordinary, central, rollator, pads, django_assert_max_num_queries
):
    StockLevelFactory(article=rollator, location=central, physical=9)
    StockLevelFactory(article=pads, location=central, physical=9)
    for _ in range(3):
        draft_with(rx, ordinary, rollator, pads)
    reservations_lapse(now=timezone.now() + datetime.timedelta(days=4))
    draft_with(rx, ordinary, rollator, pads)
    rx_client.get("/logistics/reservations/")
    with django_assert_max_num_queries(PAGE_QUERIES):
        content = rx_client.get("/logistics/reservations/").content.decode()
    assert content.count('<th class="aksel-table__header-cell" scope="row">') == 8
    # People, not references: each row names the draft's patient, name first (ACCESS-1).
    assert content.count('<span class="patient-label__name">Testa Testsson</span>') == 8


# Session, user, role permissions, the two lists, the menu's permissions (and slack of 2); the
# patients as labels: the actor's unit, the guards, the patients, the access log (AUDIT-1).
PAGE_QUERIES = 12

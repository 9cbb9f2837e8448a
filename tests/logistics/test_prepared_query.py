"""The device card's queries are compiled once per process (``PreparedQuery``, issue 10's
speed): the same SQL runs for every card with only the id changed, and what it builds is what
the queryset itself builds (related objects and annotations included)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

from logistics.models import Device
from logistics.selectors.devices import device_card_for_user
from patients.prepared import PLACEHOLDER, PreparedQuery
from tests.logistics.devices_helpers import lent
from tests.logistics.factories import DeviceFactory
from tests.personas import ctx_for

pytestmark = pytest.mark.django_db


def _with_article(device_id: int) -> QuerySet[Device]:
    return Device.objects.select_related("article", "location").filter(pk=device_id)


def test_device_1_a_prepared_query_runs_its_compiled_sql_for_each_id(
    rollator, central, django_assert_num_queries
) -> None:
    first = DeviceFactory(article=rollator, location=central)
    second = DeviceFactory(article=rollator, location=central)
    prepared = PreparedQuery(_with_article)
    with django_assert_num_queries(1):
        [found] = prepared.rows(first.pk)
        # Related objects came with the row, as select_related builds them.
        assert found.location is not None
        assert (found.article.article_number, found.location.name) == (
            rollator.article_number,
            central.name,
        )
    compiled = list(prepared._compiled.values())
    with django_assert_num_queries(1):
        [again] = prepared.rows(second.pk)
    # Compiled once: the second id ran the same statement object, not a new compilation.
    assert list(prepared._compiled.values()) == compiled
    assert (found.pk, found.serial_number) == (first.pk, first.serial_number)
    assert (again.pk, again.serial_number) == (second.pk, second.serial_number)
    assert prepared.rows(second.pk + 10_000) == []


def test_device_1_a_query_that_does_not_take_the_id_once_is_refused() -> None:
    def twice(device_id: int) -> QuerySet[Device]:
        return Device.objects.filter(pk=device_id) | Device.objects.filter(article_id=device_id)

    with pytest.raises(ValueError, match="placeholder"):
        PreparedQuery(twice).rows(1)
    assert PLACEHOLDER < 0


def test_device_1_the_card_from_the_compiled_queries_matches_the_querysets(
    store_worker, rx, ordinary, rollator, central
) -> None:
    """Two cards one after the other: each its own device, lines, history and lists."""
    on_loan = lent(rx, ordinary, rollator, central)
    in_store = DeviceFactory(article=rollator, location=central)
    ctx = ctx_for(store_worker)
    loan_card = device_card_for_user(ctx=ctx, device_id=on_loan.pk)
    store_card = device_card_for_user(ctx=ctx, device_id=in_store.pk)
    assert loan_card.device.serial_number == on_loan.serial_number
    assert [line.pk for line in loan_card.lines] == list(
        on_loan.order_lines.order_by("-pk").values_list("pk", flat=True)
    )
    assert [event.pk for event in loan_card.events] == list(
        on_loan.events.order_by("at", "pk").values_list("pk", flat=True)
    )
    assert loan_card.lines[0].order.unit.unit.pk == rx.staff_profile.unit.pk
    assert store_card.device.pk == in_store.pk
    assert store_card.lines == []
    assert store_card.work_orders == []
    assert store_card.loss_cases == []
    with pytest.raises(Device.DoesNotExist):
        device_card_for_user(ctx=ctx, device_id=in_store.pk + 10_000)


def _statements(prepared: PreparedQuery[Device]) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE name LIKE %s",
            [f"{prepared._prefix}%"],
        )
        return [row[0] for row in cursor.fetchall()]


def test_device_1_the_query_is_a_prepared_statement_of_the_session_and_recovers_when_lost(
    rollator, central, django_assert_num_queries
) -> None:
    """Planned once per session (a prepared statement), prepared in the first card's own
    round trip; if the session loses it, the failing card is refused and the next one
    prepares it again."""
    device = DeviceFactory(article=rollator, location=central)
    prepared = PreparedQuery(_with_article)
    with django_assert_num_queries(1):
        [found] = prepared.rows(device.pk)
    assert found.pk == device.pk
    [statement] = _statements(prepared)
    # Only the id is a parameter; the constants are written into the statement.
    assert "$1" in statement
    assert str(PLACEHOLDER) not in statement
    with django_assert_num_queries(1):
        assert [d.pk for d in prepared.rows(device.pk)] == [device.pk]
    assert len(_statements(prepared)) == 1

    # Lost, as a DISCARD ALL would lose it (only this one: the device card's own
    # statements stay for the tests after this one, on the same session).
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {prepared._sessions[connection.connection]}")
    with pytest.raises(DatabaseError), transaction.atomic():
        prepared.rows(device.pk)
    # The next card prepares a statement again, in its own round trip.
    with django_assert_num_queries(1):
        assert [d.pk for d in prepared.rows(device.pk)] == [device.pk]
    with django_assert_num_queries(1):
        assert [d.pk for d in prepared.rows(device.pk)] == [device.pk]
    assert len(_statements(prepared)) == 1


def test_device_1_a_literal_percent_in_the_constants_is_not_a_parameter(rollator, central) -> None:
    def named(device_id: int) -> QuerySet[Device]:
        return Device.objects.filter(pk=device_id).exclude(serial_number__contains="50%")

    device = DeviceFactory(article=rollator, location=central, serial_number="SN-1")
    assert [d.pk for d in PreparedQuery(named).rows(device.pk)] == [device.pk]

"""A package's delivery attempts are history: the application adds them and can change or
remove none (the trigger of migration logistics 0006), while the key rotation may still
re-encrypt "received by" (tests/patients/test_encryption_keys.py)."""

from __future__ import annotations

import pytest
from django.db import ProgrammingError, connection, transaction

from logistics.models import DeliveryAttempt
from tests.logistics.conftest import approved
from tests.logistics.picking_setup import allocated_order
from tests.logistics.test_delivery import _through, route  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("route")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE logistics_deliveryattempt SET note = 'changed' WHERE id = %s",
        "DELETE FROM logistics_deliveryattempt WHERE id = %s",
    ],
)
def test_a_delivery_attempt_cannot_be_changed_or_removed_by_the_application(
    sql, rx, ordinary, central, rollator, store_worker
):
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    _through(order, central, store_worker)
    attempt = DeliveryAttempt.objects.get(package__order=order)
    with pytest.raises(ProgrammingError) as failure, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, [attempt.pk])
    assert "Cannot update or delete" in str(failure.value)
    attempt.refresh_from_db()
    assert attempt.note == ""

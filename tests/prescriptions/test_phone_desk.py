"""Customer service's desk for phone orders and withdrawals (issue 14): a caller served by the
consumable prescription's number without the person ever shown (LEAK-5, PRESC-2), phone orders
for a prescriber, cancelling a withdrawal before its order is picked, and the period's quantity
held under two withdrawals at once. Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from logistics.models import CustomerOrder, CustomerOrderLine, LineState
from logistics.services.orders.create import order_create_from_release
from patients.models import AccessAction, AccessEntry, AccessOutcome
from prescriptions.models import (
    ConsumableWithdrawal,
    DeliveryKind,
    OrderRelease,
    Prescription,
    PrescriptionState,
    WithdrawalState,
    WithdrawalTransition,
)
from prescriptions.selectors.consumable import PhoneDeskCounts, phone_desk_counts
from prescriptions.services.consumables import (
    consumable_status,
    consumable_withdrawal_cancel,
)
from prescriptions.services.errors import FieldRefused, RuleRefused, StateNotAllowed
from tests.audit_log import access_log_cleared  # noqa: F401 (a fixture, used by name)
from tests.factories import UserFactory
from tests.logistics.factories import StockLocationFactory
from tests.patients.test_audit_chain_concurrency import start_thread
from tests.personas import PROTECTED_NUMBER, ctx_for, logged_in
from tests.prescriptions.conftest import article
from tests.prescriptions.test_consumables import consumable, strips, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def test_leak_5_presc_2_customer_service_without_a_grant_withdraws_by_number_seeing_nobody(
    client, rx, protected_patient, customer_service
):
    """The caller gives the consumable prescription's number: customer service, holding no
    grant, opens it from the desk, sees "protected identity", the article, what remains and
    the next day, and registers a withdrawal delivered to the prescriber's unit with the
    prescriber as contact. No name, personnummer, address or birth year on any page; the
    reads and the order are in the access log."""
    c = consumable(rx, protected_patient, strips(interval=25))
    identity = protected_patient.identity
    logged_in(client, customer_service)
    found = client.post("/prescriptions/phone/", {"consumable_number": c.reference.lower()})
    assert found.status_code == 302
    assert found["Location"] == f"/prescriptions/consumables/{c.reference}/"
    page = client.get(found["Location"])
    posted = client.post(found["Location"], {"quantity": "30"}, follow=True)
    assert page.status_code == 200
    assert posted.status_code == 200
    w = ConsumableWithdrawal.objects.get()
    order = w.order
    assert (order.delivery_kind, order.delivery_contact_id) == (DeliveryKind.UNIT, rx.pk)
    assert order.delivery_unit_id == c.unit_id
    for response in (page, posted):
        content = response.content.decode()
        assert "Protected identity" in content
        assert c.article.name in content
        assert "90 remaining" in content or "60 remaining" in content
        for secret in (
            identity.given_names,
            identity.surname,
            PROTECTED_NUMBER,
            PROTECTED_NUMBER[2:],
            "Provgatan",
            "21100",
            str(protected_patient.birth_year),
            protected_patient.reference,
        ):
            assert secret not in content, secret
    content = posted.content.decode()
    assert "60 remaining" in content
    assert order.reference in content
    assert "To the unit" in content
    assert rx.get_full_name() in content  # the prescriber as contact
    entries = AccessEntry.objects.filter(user=customer_service, patient=protected_patient)
    assert entries.filter(action=AccessAction.READ, outcome=AccessOutcome.DENIED).exists()
    assert entries.filter(object_type="phone_order", outcome=AccessOutcome.ALLOWED).exists()


def test_leak_5_the_desk_refuses_a_malformed_or_unknown_number_next_to_the_field(
    client, customer_service
):
    logged_in(client, customer_service)
    bad = client.post("/prescriptions/phone/", {"consumable_number": "L-12"})
    assert bad.status_code == 400
    assert "Write the number as L- and eight letters or digits." in bad.content.decode()
    unknown = client.post("/prescriptions/phone/", {"consumable_number": "L-NOSUCH00"})
    assert unknown.status_code == 400
    content = unknown.content.decode()
    assert "No consumable prescription has that number." in content
    assert 'value="L-NOSUCH00"' in content  # what was typed is kept


def test_leak_1_the_desk_posts_the_consumable_number_and_never_reads_it_from_the_address(
    client, rx, protected_patient, customer_service
):
    """LEAK-1: the desk's consumable-number form was a GET form, right below the personnummer
    search: whatever was typed into it (a personnummer or a name in the wrong field) travelled
    in the URL, into the browser's history and the logs of any proxy on the way. It posts now,
    and an address carrying the field is not acted on."""
    c = consumable(rx, protected_patient, strips(interval=25))
    logged_in(client, customer_service)
    page = client.get("/prescriptions/phone/").content.decode()
    number_form = page.split('name="consumable_number"', 1)[0].rsplit("<form", 1)[1]
    assert 'method="post"' in number_form
    assert 'name="csrfmiddlewaretoken"' in number_form
    in_address = client.get("/prescriptions/phone/", {"consumable_number": c.reference})
    assert in_address.status_code == 200  # the desk itself, not the prescription
    assert c.reference not in in_address.content.decode()


def test_presc_2_customer_service_enters_a_phone_order_for_a_prescriber(
    client, rx, ordinary, customer_service
):
    item = article("1200.00")
    logged_in(client, customer_service)
    url = f"/prescriptions/phone/patients/{ordinary.reference}/"
    assert client.get(url).status_code == 200
    data = {
        "prescriber": str(rx.pk),
        "unit": str(rx.prescriber_profile.units.first().pk),
        "article_number": item.article_number,
        "quantity": "1",
        "need": "",
        "urgency": "normal",
    }
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "The need it meets:" in refused.content.decode()
    assert item.article_number in refused.content.decode()  # nothing typed is lost
    response = client.post(url, data | {"need": "Går inte längre utan stöd"})
    assert response.status_code == 302
    assert response["Location"] == "/prescriptions/phone/"
    order = Prescription.objects.get()
    assert order.phone_order
    assert order.entered_by_id == customer_service.pk
    assert order.prescriber_id == rx.pk
    assert order.state != PrescriptionState.DRAFT
    desk = client.get("/prescriptions/phone/").content.decode()
    assert order.reference in desk
    assert "1 phone order entered today" in desk


def test_phone_desk_denied_routes(client, rx, ordinary, protected_patient, customer_service):
    c = consumable(rx, ordinary, strips())
    phone_order = f"/prescriptions/phone/patients/{ordinary.reference}/"
    cancel = f"/prescriptions/consumables/{c.reference}/cancel/"
    # Not logged in: the login page.
    assert client.get("/prescriptions/phone/").status_code == 302
    # A prescriber and a technician have no desk, phone orders or cancelling.
    for user in (rx, UserFactory(role="technician")):
        logged_in(client, user)
        assert client.get("/prescriptions/phone/").status_code == 403
        assert client.get(phone_order).status_code == 403
        assert client.post(cancel, {"withdrawal": "1", "reason": "x"}).status_code in (403, 404)
    # Customer service: a protected patient's phone order page is not found (no grant), and a
    # cancel is POST only.
    logged_in(client, customer_service)
    assert (
        client.get(f"/prescriptions/phone/patients/{protected_patient.reference}/").status_code
        == 404
    )
    assert client.get(cancel).status_code == 405
    assert client.post("/prescriptions/consumables/L-NOSUCH00/cancel/", {}).status_code == 404
    assert not Prescription.objects.exists()


def test_consumables_cancel_a_withdrawal_before_picking_returns_it_to_the_period(
    client, rx, ordinary, customer_service
):
    c = consumable(rx, ordinary, strips(interval=25))
    w = withdraw(customer_service, c, 30)
    logged_in(client, customer_service)
    url = f"/prescriptions/consumables/{c.reference}/cancel/"
    empty = client.post(url, {"withdrawal": str(w.pk), "reason": ""})
    assert empty.status_code == 400
    assert "Reason:" in empty.content.decode()
    response = client.post(url, {"withdrawal": str(w.pk), "reason": "Fel antal, ringer igen"})
    assert response.status_code == 302
    w.refresh_from_db()
    assert w.state == WithdrawalState.CANCELLED
    history = WithdrawalTransition.objects.filter(withdrawal=w).order_by("pk").last()
    assert history is not None
    assert (history.to_state, history.note, history.by_id) == (
        WithdrawalState.CANCELLED,
        "Fel antal, ringer igen",
        customer_service.pk,
    )
    # The release was claimed: logistics never makes an order of it.
    assert OrderRelease.objects.get(prescription=w.order).taken_at is not None
    assert order_create_from_release(prescription_id=w.order_id) is None
    c.refresh_from_db()
    status = consumable_status(c)
    assert (status.remaining, status.next_possible) == (90, None)
    page = client.get(f"/prescriptions/consumables/{c.reference}/").content.decode()
    assert "Withdrawal cancelled" in page
    # Cancelled once: the form offers it no more, the service refuses it again.
    assert "Cancel a withdrawal" not in page
    with pytest.raises(StateNotAllowed):
        consumable_withdrawal_cancel(ctx=ctx_for(customer_service), withdrawal_id=w.pk, reason="x")


def test_audit_1_cancelling_a_protected_patients_withdrawal_is_logged_as_a_change(
    client, rx, protected_patient, customer_service
):
    """AUDIT-1: customer service, holding no grant, cancels the withdrawal of a protected
    patient's consumable prescription by its number. Only the page's denied read was logged,
    so the log review could not see that the patient's order was changed, nor by whom."""
    c = consumable(rx, protected_patient, strips(interval=25))
    w = withdraw(customer_service, c, 30)
    logged_in(client, customer_service)
    response = client.post(
        f"/prescriptions/consumables/{c.reference}/cancel/",
        {"withdrawal": str(w.pk), "reason": "Fel antal, ringer igen"},
    )
    assert response.status_code == 302
    entry = AccessEntry.objects.get(
        user=customer_service, action=AccessAction.CHANGE, object_id=w.order.reference
    )
    assert (entry.patient_id, entry.outcome, entry.object_type) == (
        protected_patient.pk,
        AccessOutcome.ALLOWED,
        "phone_order",
    )


def test_consumables_cancel_stops_the_customer_order_until_it_is_picked(
    rx, ordinary, customer_service
):
    StockLocationFactory()  # the central store the orders are supplied from
    c = consumable(rx, ordinary, strips(interval=0))
    first = withdraw(customer_service, c, 10)
    second = withdraw(customer_service, c, 10)
    made = [order_create_from_release(prescription_id=w.order_id) for w in (first, second)]
    assert all(made)
    consumable_withdrawal_cancel(
        ctx=ctx_for(customer_service), withdrawal_id=first.pk, reason="Dubbel"
    )
    assert CustomerOrder.objects.get(prescription=first.order).state == LineState.CANCELLED
    # The second order's line is on a pick wave: the withdrawal stays, with the reason why.
    CustomerOrderLine.objects.filter(order__prescription=second.order).update(
        state=LineState.PICKING
    )
    with pytest.raises(StateNotAllowed) as refused:
        consumable_withdrawal_cancel(
            ctx=ctx_for(customer_service), withdrawal_id=second.pk, reason="För sent"
        )
    assert "already being picked" in str(refused.value)
    second.refresh_from_db()
    assert second.state == WithdrawalState.ORDERED


def test_consumables_denied_only_customer_service_cancels_a_withdrawal(
    rx, ordinary, customer_service
):
    c = consumable(rx, ordinary, strips())
    w = withdraw(customer_service, c, 5)
    with pytest.raises(RuleRefused):
        consumable_withdrawal_cancel(ctx=ctx_for(rx), withdrawal_id=w.pk, reason="Nej")
    w.refresh_from_db()
    assert w.state == WithdrawalState.ORDERED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("access_log_cleared")
def test_consumables_two_withdrawals_at_once_never_exceed_the_period(
    rx, ordinary, customer_service
):
    """Two customer service agents take 60 each of a 90 per month prescription at the same
    moment, on two connections: the lock makes the second see the first, so one is refused."""
    c = consumable(rx, ordinary, strips(interval=0))
    other_agent = UserFactory(username="kundtjanst2", role="customer_service")
    start = threading.Barrier(2)
    taken: list[int] = []

    def agent(user: Any) -> None:
        start.wait(10)
        taken.append(withdraw(user, c, 60).quantity)

    errors: list[BaseException] = []
    threads = [start_thread(lambda u=u: agent(u), errors) for u in (customer_service, other_agent)]
    for thread in threads:
        thread.join(60)
    assert taken == [60]
    assert len(errors) == 1
    assert isinstance(errors[0], FieldRefused)
    assert "30 återstår av perioden" in str(errors[0])  # the worker threads speak Swedish
    assert ConsumableWithdrawal.objects.filter(consumable=c).count() == 1


def test_phone_desk_counts_on_the_start_page_are_exact_and_name_nobody(
    client, rx, ordinary, protected_patient, customer_service
):
    open_one = consumable(rx, ordinary, strips(interval=25))
    consumable(rx, protected_patient, strips(interval=25))
    assert phone_desk_counts() == PhoneDeskCounts(due=2, withdrawals_today=0, phone_orders_today=0)
    withdraw(customer_service, open_one, 30)  # its time lock now runs: no longer open
    assert phone_desk_counts() == PhoneDeskCounts(due=1, withdrawals_today=1, phone_orders_today=0)
    logged_in(client, customer_service)
    start = client.get("/start/").content.decode()
    assert "Consumable prescriptions open for a withdrawal" in start
    assert "/prescriptions/phone/" in start
    assert protected_patient.reference not in start
    assert ordinary.reference not in start

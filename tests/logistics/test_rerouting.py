"""PRESC-2 on the supply side: a patient who becomes protected (or linked to a protected
person, PROT-5) has their open orders moved to the prescriber's unit, off the supplier (LOG-3),
and their ordinary delivery papers withdrawn (PRINT-3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from logistics.models import CustomerOrder, CustomerOrderTransition, DestinationKind, OrderState
from logistics.services.orders import (
    order_cancel,
    order_create_from_release,
    orders_reroute_for_protected,
    orders_reroute_sweep,
)
from patients.models import Notification, Patient
from protection.documents import kinds, services
from protection.models import DocumentState
from tests.logistics.conftest import approved
from tests.personas import ctx_for
from tests.prescriptions.conftest import article
from tests.protection.documents.test_kinds import delivery_note

pytestmark = pytest.mark.django_db


def make(rx: Any, patient: Patient, *articles: Any) -> CustomerOrder:
    order = order_create_from_release(prescription_id=approved(rx, patient, *articles).pk)
    assert order is not None
    return order


def protect(patient: Patient) -> None:
    Patient.objects.filter(pk=patient.pk).update(protected_registration=True)


def test_presc_2_log_3_open_orders_move_to_the_unit_when_the_patient_is_protected(
    rx, ordinary, central
):
    order = make(rx, ordinary, article("900", supplier_delivers=True))
    assert (order.destination_kind, order.supplier_direct) == (
        DestinationKind.PATIENT_ADDRESS,
        True,
    )
    protect(ordinary)
    assert orders_reroute_for_protected(patient_id=ordinary.pk) == 1
    order.refresh_from_db()
    assert order.patient_protected
    assert (order.destination_kind, order.delivery_unit_id, order.delivery_contact_id) == (
        DestinationKind.UNIT,
        order.unit_id,
        rx.pk,
    )
    assert order.supplier_direct is False
    note = CustomerOrderTransition.objects.filter(order=order).last()
    assert note is not None
    assert (note.from_state, note.to_state) == (order.state, order.state)
    assert note.note.startswith("PRESC-2")
    assert order.number in note.note
    told = Notification.objects.get(user=rx)
    assert order.number in told.subject
    # Safe twice: nothing moves again, nobody is told again.
    assert orders_reroute_for_protected(patient_id=ordinary.pk) == 0
    assert Notification.objects.filter(user=rx).count() == 1


def test_presc_2_the_sweep_catches_a_lost_event(rx, ordinary, central, pads):
    order = make(rx, ordinary, pads)
    protect(ordinary)
    assert orders_reroute_sweep() == 1
    order.refresh_from_db()
    assert order.destination_kind == DestinationKind.UNIT
    assert orders_reroute_sweep() == 0


def test_presc_2_closed_orders_are_left_alone(rx, ordinary, central, pads):
    order = make(rx, ordinary, pads)
    order_cancel(by=rx, number=order.number, reason="Behövs inte")
    protect(ordinary)
    assert orders_reroute_for_protected(patient_id=ordinary.pk) == 0
    order.refresh_from_db()
    assert (order.state, order.destination_kind) == (
        OrderState.CANCELLED,
        DestinationKind.PATIENT_ADDRESS,
    )


@pytest.fixture
def order_paper() -> Iterator[str]:
    """A delivery paper about an order (subject ORDER), registered for this test only."""
    code = "tests.order_delivery_note"
    kinds.register(
        kinds.DocumentKind(
            code=code,
            label=code,
            template="documents/patient_summary.html",
            build_snapshot=delivery_note,
            subject=kinds.Subject.ORDER,
            permission="patients.view_unit",
            protected_form=kinds.ProtectedForm.IDENTITY_FREE,
        )
    )
    yield code
    kinds.unregister(code)


def test_print_3_the_ordinary_delivery_paper_is_withdrawn_when_re_routed(
    rx, ordinary, central, pads, store_worker, order_paper
):
    make(rx, ordinary, pads)
    job = services.document_request(
        ctx=ctx_for(store_worker, stepped_up=True), kind=order_paper, patients=[ordinary]
    )
    protect(ordinary)
    assert orders_reroute_for_protected(patient_id=ordinary.pk) == 1
    assert services.documents_withdraw_for_patient(patient_id=ordinary.pk) == 1
    job.refresh_from_db()
    assert job.state in (DocumentState.WITHDRAWN, DocumentState.CANCELLED)

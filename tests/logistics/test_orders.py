"""Customer orders from approved prescriptions: one order however often the release is taken,
the destination from the computed delivery (PRESC-2, LOG-3, LOG-4), the promises on the
working-day calendar and the urgent fee recorded for billing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from logistics.calendar import working_days_after
from logistics.models import CustomerOrder, DestinationKind, LineState, UrgentFee
from logistics.services.orders import order_create_from_release, order_releases_sweep
from logistics.services.orders.create import promise_for
from logistics.tasks import order_released, protection_added
from prescriptions.models import DeliveryKind, OrderRelease, PickupPoint, Prescription
from prescriptions.registry import order_released_handlers
from prescriptions.services.delivery import prescription_delivery_set
from prescriptions.services.errors import PrescriptionError, RuleRefused
from protection.registry import protection_added_handlers
from tests.logistics.conftest import approved
from tests.personas import ctx_for
from tests.prescriptions.conftest import article
from tests.prescriptions.drafting import draft_with

pytestmark = pytest.mark.django_db


def take(prescription: Prescription) -> CustomerOrder:
    order = order_create_from_release(prescription_id=prescription.pk)
    assert order is not None
    return order


def test_the_handlers_are_registered():
    assert order_released in order_released_handlers
    assert protection_added in protection_added_handlers


def test_the_release_taken_twice_makes_one_order(rx, ordinary, central, pads):
    prescription = approved(rx, ordinary, pads)
    order = take(prescription)
    assert order_create_from_release(prescription_id=prescription.pk) is None
    assert CustomerOrder.objects.filter(prescription=prescription).count() == 1
    assert OrderRelease.objects.get(prescription=prescription).taken_at is not None
    assert (order.number, order.patient_id, order.orderer_id) == (
        prescription.reference,
        ordinary.pk,
        rx.pk,
    )
    assert order.from_location_id == central.pk


def test_a_lost_release_is_found_by_the_sweep(rx, ordinary, central, pads):
    prescription = approved(rx, ordinary, pads)
    OrderRelease.objects.filter(prescription=prescription).update(
        released_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )
    assert order_releases_sweep() == [prescription.pk]
    take(prescription)
    assert order_releases_sweep() == []


def test_a_serial_numbered_article_is_one_line_per_device(rx, ordinary, central, rollator):
    prescription = approved(rx, ordinary, rollator)
    prescription.lines.update(quantity=2)
    order = take(prescription)
    assert [(line.quantity, line.position) for line in order.lines.all()] == [(1, 1), (1, 2)]


def test_presc_2_an_ordinary_patient_goes_to_their_address_which_is_not_copied(
    rx, ordinary, central, pads
):
    prescription = approved(rx, ordinary, pads)
    assert prescription.delivery_kind == DeliveryKind.PATIENT_ADDRESS
    order = take(prescription)
    assert order.destination_kind == DestinationKind.PATIENT_ADDRESS
    assert (order.delivery_unit_id, order.pickup_point_id, order.patient_protected) == (
        None,
        None,
        False,
    )


def test_log_4_a_pickup_point_is_the_destination(rx, ordinary, central, pads):
    point = PickupPoint.objects.create(
        name="Apoteket Hjärtat", street="Storgatan 1", postal_code="21120", town="Malmö"
    )
    prescription = approved(rx, ordinary, pads)
    Prescription.objects.filter(pk=prescription.pk).update(
        delivery_kind=DeliveryKind.PICKUP_POINT, pickup_point=point
    )
    order = take(prescription)
    assert (order.destination_kind, order.pickup_point_id) == (
        DestinationKind.PICKUP_POINT,
        point.pk,
    )


def test_presc_2_log_3_a_protected_patients_order_goes_to_the_unit_by_the_region(
    rx, protected_patient, central
):
    direct = article("900", supplier_delivers=True)
    prescription = approved(rx, protected_patient, direct, stepped_up=True)
    order = take(prescription)
    assert order.patient_protected
    assert (order.destination_kind, order.delivery_unit_id, order.delivery_contact_id) == (
        DestinationKind.UNIT,
        prescription.unit_id,
        rx.pk,
    )
    assert order.supplier_direct is False


def test_log_3_an_ordinary_patients_supplier_article_goes_direct(rx, ordinary, central):
    order = take(approved(rx, ordinary, article("900", supplier_delivers=True)))
    assert order.supplier_direct is True


def test_presc_2_the_database_refuses_a_protected_order_to_an_address_as_the_app_role(
    rx, protected_patient, central, pads
):
    order = take(approved(rx, protected_patient, pads, stepped_up=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hjm.context', '', true)")
        with pytest.raises(IntegrityError, match="PRESC-2"):
            cursor.execute(
                "UPDATE logistics_customerorder SET destination_kind = 'patient_address', "
                "delivery_unit_id = NULL, delivery_contact_id = NULL, patient_protected = false "
                "WHERE id = %s",
                [order.pk],
            )


def test_promises_count_working_days_over_julafton_and_midsommar():
    # Monday 21 December 2026: 7 working days skip 24-27 Dec, 31 Dec and 1 Jan.
    assert promise_for(
        day=datetime.date(2026, 12, 21), assortment_days=7, urgent=False
    ) == datetime.date(2027, 1, 5)
    # Thursday 18 June 2026, urgent: midsommarafton (19th) is off: Monday 22 June.
    assert promise_for(
        day=datetime.date(2026, 6, 18), assortment_days=17, urgent=True
    ) == datetime.date(2026, 6, 22)
    assert promise_for(
        day=datetime.date(2026, 6, 1), assortment_days=17, urgent=False
    ) == datetime.date(2026, 6, 25)


def test_an_urgent_order_is_promised_the_next_working_day_with_its_fee(
    rx, ordinary, central, pads, settings
):
    settings.URGENT_FEE_SEK = 650
    prescription = approved(rx, ordinary, pads)
    Prescription.objects.filter(pk=prescription.pk).update(urgency="urgent")
    order = take(prescription)
    assert order.urgent
    assert UrgentFee.objects.get(order=order).amount_sek == Decimal("650.00")
    today = timezone.localdate()
    assert order.lines.get().promised_on == working_days_after(today, 1)


def test_an_ordinary_order_has_no_fee_and_waits_for_stock(rx, ordinary, central, pads):
    order = take(approved(rx, ordinary, pads))
    assert not UrgentFee.objects.filter(order=order).exists()
    assert order.lines.get().state == LineState.BACKORDERED


# --- LOG-4 / PRESC-2 on the prescriptions floor: choosing a pickup point ------------------------


def test_log_4_the_prescriber_chooses_an_active_pickup_point(rx, ordinary):
    point = PickupPoint.objects.create(
        name="Ica Kvantum", street="Torget 2", postal_code="22100", town="Lund"
    )
    closed = PickupPoint.objects.create(
        name="Stängt", street="Gränden 1", postal_code="22100", town="Lund", active=False
    )
    reference = draft_with(rx, ordinary)
    with pytest.raises(PrescriptionError):
        prescription_delivery_set(
            ctx=ctx_for(rx), reference=reference, kind="pickup_point", pickup_point_id=closed.pk
        )
    chosen = prescription_delivery_set(
        ctx=ctx_for(rx), reference=reference, kind="pickup_point", pickup_point_id=point.pk
    )
    assert (chosen.delivery_kind, chosen.pickup_point_id) == (DeliveryKind.PICKUP_POINT, point.pk)
    again = prescription_delivery_set(ctx=ctx_for(rx), reference=reference, kind="unit")
    assert again.pickup_point_id is None


def test_presc_2_log_4_a_guarded_patient_gets_no_pickup_point(rx, protected_patient):
    point = PickupPoint.objects.create(
        name="Ica Kvantum", street="Torget 2", postal_code="22100", town="Lund"
    )
    reference = draft_with(rx, protected_patient, stepped_up=True)
    with pytest.raises(RuleRefused):
        prescription_delivery_set(
            ctx=ctx_for(rx, stepped_up=True),
            reference=reference,
            kind="pickup_point",
            pickup_point_id=point.pk,
        )

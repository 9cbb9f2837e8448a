"""PRESC-6 as the routine describes it (seed 004, digital signing): a specially adapted device
is approved and ordered as usual, adapted on a work order, and neither packed, dispatched,
delivered nor handed over before the prescriber has made the risk assessment and signed (after
confirming the password), in the services and in the database. The request has a validity
date, is reminded about (LEAK-5: by work order number only), can be declined with a reason;
signing on paper is recorded; the signed adaptation is filed with the device, append-only; its
document is never handed out for a protected patient (PRINT-1)."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pypdf
import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone, translation

from logistics.models import (
    AdaptationRecord,
    AdaptationSigningRequest,
    CustomerOrderLine,
    Device,
    DeviceStatus,
    LineState,
    PickItem,
    SigningMethod,
    SigningState,
    WorkOrder,
    WorkOrderKind,
    WorkOrderState,
)
from logistics.services.adaptations import (
    adaptation_document_read,
    adaptation_paper_record,
    signing_reminders_send,
    signing_request_decline,
    signing_request_send,
    signing_request_sign,
)
from logistics.services.delivery import package_deliver, package_dispatch, package_pack
from logistics.services.errors import LogisticsError, StateNotAllowed
from logistics.services.picking import item_pick, waves_create
from logistics.services.state import device_move
from logistics.services.workorders import work_order_create
from patients.models import AccessAction, AccessEntry, AccessOutcome, Notification, Patient
from prescriptions.models import Prescription
from prescriptions.services.lines import prescription_line_change
from protection.documents.services.ban import DocumentRefused
from protection.refusals import PatientNotFound, StepUpRequired
from tests.factories import UserFactory
from tests.logistics.conftest import approved
from tests.logistics.devices_helpers import lent
from tests.logistics.factories import DeviceFactory
from tests.logistics.picking_setup import allocated_order, area_all_week, stocked
from tests.personas import ctx_for
from tests.prescriptions.drafting import draft_with, pdf_bytes, submit

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture
def technician() -> Any:
    return UserFactory(username="tekniker", role="technician")


def adapted_prescription(rx: Any, patient: Patient, article: Any) -> Prescription:
    """Approved as usual with its one line specially adapted (PRESC-6 waits no longer here)."""
    stepped_up = patient.is_protected
    reference = draft_with(rx, patient, article, stepped_up=stepped_up)
    line = Prescription.objects.get(reference=reference).lines.get()
    prescription_line_change(
        ctx=ctx_for(rx, stepped_up=stepped_up),
        reference=reference,
        line_id=line.pk,
        special_adaptation=True,
    )
    return submit(rx, reference, stepped_up=stepped_up)


def picked_adapted(rx: Any, patient: Patient, rollator: Any, central: Any, by: Any) -> Any:
    """An allocated order of an adapted prescription, its device picked (and so marked)."""
    stocked(rollator, central, 3)
    area_all_week()
    prescription = adapted_prescription(rx, patient, rollator)
    order = allocated_order(prescription, central, rollator, protected=patient.is_protected)
    CustomerOrderLine.objects.filter(order=order).update(prescription_line=prescription.lines.get())
    wave = waves_create(store_id=central.pk, delivery_on=MONDAY, by=by, today=MONDAY).waves[0]
    for item in PickItem.objects.filter(wave=wave, line__order=order):
        serial = str(DeviceFactory(article=rollator, location=central).serial_number)
        item_pick(wave_id=wave.pk, item_id=item.pk, by=by, serial=serial)
    return order


def adaptation_order(device: Device, rx: Any, patient: Patient, technician: Any) -> WorkOrder:
    return work_order_create(
        kind=WorkOrderKind.SPECIAL_ADAPTATION,
        by=technician,
        device_id=device.pk,
        patient_id=patient.pk,
        prescriber=rx,
        technician=technician,
        description="Förhöjd sits",
    )


def sent(device: Device, rx: Any, patient: Patient, technician: Any) -> AdaptationSigningRequest:
    work_order = adaptation_order(device, rx, patient, technician)
    return signing_request_send(
        work_order_id=work_order.pk,
        document=pdf_bytes(),
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
        by=technician,
    )


def sign(rx: Any, request: AdaptationSigningRequest, **kwargs: Any) -> AdaptationRecord:
    return signing_request_sign(
        ctx=ctx_for(rx, stepped_up=kwargs.pop("stepped_up", True)),
        request_id=request.pk,
        risks=kwargs.pop("risks", ["stability", "pressure"]),
        conclusion=kwargs.pop("conclusion", "safe"),
        **kwargs,
    )


def test_presc_6_an_adapted_device_is_neither_packed_nor_delivered_before_it_is_signed(
    rx, ordinary, rollator, central, store_worker, technician
):
    order = picked_adapted(rx, ordinary, rollator, central, store_worker)
    line = CustomerOrderLine.objects.select_related("device").get(order=order)
    device = line.device
    assert device is not None
    assert line.state == LineState.PICKED
    assert device.adaptation_unsigned_since is not None
    with pytest.raises(LogisticsError, match="cannot be delivered or put to use"):
        package_pack(order_id=order.pk, by=store_worker, today=MONDAY)
    # Nor by any other way: every move towards use asks the same (hand-over included).
    for status in (DeviceStatus.IN_TRANSIT, DeviceStatus.ON_LOAN, DeviceStatus.IN_USE_AT_UNIT):
        with pytest.raises(LogisticsError, match="signed the adaptation"):
            device_move(device=device, to_state=status)
    request = sent(device, rx, ordinary, technician)
    assert request.work_order.state == WorkOrderState.WAITING_FOR_SIGNATURE
    record = sign(rx, request)
    assert record.method == SigningMethod.DIGITAL
    device.refresh_from_db()
    assert device.adaptation_unsigned_since is None
    package = package_pack(order_id=order.pk, by=store_worker, today=MONDAY)
    package_dispatch(package_id=package.pk, by=store_worker)
    package_deliver(package_id=package.pk, received_by="Anna", by=store_worker, today=MONDAY)
    device.refresh_from_db()
    assert device.status == DeviceStatus.ON_LOAN


def test_presc_6_the_database_keeps_an_unsigned_adapted_device_out_of_use(central, rollator):
    device = DeviceFactory(article=rollator, location=central)
    Device.objects.filter(pk=device.pk).update(adaptation_unsigned_since=timezone.now())
    with connection.cursor() as cursor:
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute(
                "UPDATE logistics_device SET status = 'in_transit', location_id = NULL "
                "WHERE id = %s",
                [device.pk],
            )
        # The mark goes only with a signed adaptation recorded since it was set.
        with pytest.raises(IntegrityError, match="PRESC-6"), transaction.atomic():
            cursor.execute(
                "UPDATE logistics_device SET adaptation_unsigned_since = NULL WHERE id = %s",
                [device.pk],
            )


def test_presc_6_signing_needs_the_prescribers_password_and_the_prescriber_only(
    rx, ordinary, rollator, central, technician
):
    device = DeviceFactory(article=rollator, location=central)
    request = sent(device, rx, ordinary, technician)
    with pytest.raises(StepUpRequired):
        sign(rx, request, stepped_up=False)
    colleague = UserFactory(username="kollega", role="prescriber")
    with pytest.raises(PatientNotFound):
        sign(colleague, request)
    with pytest.raises(LogisticsError, match="Risks considered"):
        sign(rx, request, risks=[])
    with pytest.raises(LogisticsError, match="Measures"):
        sign(rx, request, conclusion="safe_with_measures")
    record = sign(rx, request, conclusion="safe_with_measures", measures="Bromsen låst vid sits")
    assert (record.signed_by, record.conclusion) == (rx, "safe_with_measures")
    assert record.risks_considered == ["pressure", "stability"]
    # The document as signed is filed with the device.
    assert adaptation_document_read(ctx=ctx_for(rx), document=record) == pdf_bytes()
    request.refresh_from_db()
    assert request.state == SigningState.SIGNED
    assert request.work_order.state == WorkOrderState.IN_PROGRESS
    with pytest.raises(StateNotAllowed):
        sign(rx, request)


def test_presc_6_declined_with_a_reason_back_to_the_technician_by_number(
    rx, protected_patient, rollator, central, technician
):
    """LEAK-5: the request and the decline refer to the protected person by work order number."""
    device = DeviceFactory(article=rollator, location=central)
    request = sent(device, rx, protected_patient, technician)
    with pytest.raises(LogisticsError, match="Reason"):
        signing_request_decline(ctx=ctx_for(rx), request_id=request.pk, reason=" ")
    signing_request_decline(ctx=ctx_for(rx), request_id=request.pk, reason="Fel höjd på sitsen")
    request.refresh_from_db()
    assert (request.state, request.declined_reason) == (SigningState.DECLINED, "Fel höjd på sitsen")
    work_order = WorkOrder.objects.get(pk=request.work_order_id)
    assert work_order.state == WorkOrderState.IN_PROGRESS
    told = Notification.objects.get(user=technician)
    assert work_order.number in told.subject
    # LEAK-5: the protected person is referred to by the work order number only.
    for note in Notification.objects.all():
        assert protected_patient.reference not in note.subject + note.body
        assert "Hemlig" not in note.subject + note.body
    # A new request may be sent after a decline.
    again = signing_request_send(
        work_order_id=work_order.pk, document=pdf_bytes(), valid_until=None, by=technician
    )
    assert again.valid_until == timezone.localdate() + datetime.timedelta(days=30)


def test_presc_6_a_request_past_its_validity_date_cannot_be_signed(
    rx, ordinary, rollator, central, technician
):
    device = DeviceFactory(article=rollator, location=central)
    request = sent(device, rx, ordinary, technician)
    with pytest.raises(LogisticsError, match="Valid until"):
        signing_request_send(
            work_order_id=request.work_order_id,
            document=pdf_bytes(),
            valid_until=timezone.localdate(),
            by=technician,
        )
    AdaptationSigningRequest.objects.filter(pk=request.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    with pytest.raises(StateNotAllowed, match="send a new one"):
        sign(rx, request)


def test_presc_6_reminded_once_a_day_by_work_order_number_only(
    rx, protected_patient, ordinary, rollator, central, technician
):
    """LEAK-5: the reminders, once a day each and claimed by a conditional UPDATE, name the work
    order number only, also for a protected patient."""
    for patient in (protected_patient, ordinary):
        sent(DeviceFactory(article=rollator, location=central), rx, patient, technician)
    Notification.objects.all().delete()
    assert signing_reminders_send() == 0  # sent today: not yet due
    later = timezone.now() + datetime.timedelta(days=1, minutes=1)
    assert signing_reminders_send(now=later) == 2
    assert signing_reminders_send(now=later) == 0  # run twice: one reminder each
    numbers = set(WorkOrder.objects.values_list("number", flat=True))
    for note in Notification.objects.filter(user=rx):
        assert any(number in note.subject for number in numbers)
        assert protected_patient.reference not in note.subject + note.body
    assert signing_reminders_send(now=later + datetime.timedelta(days=1, minutes=1)) == 2


def test_presc_6_signing_on_paper_is_recorded_with_day_signer_and_scan(
    rx, ordinary, rollator, central, technician
):
    device = DeviceFactory(article=rollator, location=central)
    request = sent(device, rx, ordinary, technician)
    with pytest.raises(LogisticsError, match="Signed on"):
        adaptation_paper_record(
            work_order_id=request.work_order_id,
            signed_on=timezone.localdate() + datetime.timedelta(days=1),
            scan=pdf_bytes(),
            by=technician,
        )
    record = adaptation_paper_record(
        work_order_id=request.work_order_id,
        signed_on=timezone.localdate(),
        scan=pdf_bytes(),
        by=technician,
    )
    assert (record.method, record.signed_by, record.recorded_by) == ("paper", rx, technician)
    request.refresh_from_db()
    assert request.state == SigningState.SIGNED_ON_PAPER
    device.refresh_from_db()
    assert device.adaptation_unsigned_since is None


def test_presc_6_the_signed_adaptation_filed_with_the_device_is_append_only(
    rx, ordinary, rollator, central, technician
):
    device = DeviceFactory(article=rollator, location=central)
    record = sign(rx, sent(device, rx, ordinary, technician))
    with connection.cursor() as cursor:
        for sql in (
            "UPDATE logistics_adaptationrecord SET conclusion = '' WHERE id = %s",
            "DELETE FROM logistics_adaptationrecord WHERE id = %s",
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                cursor.execute(sql, [record.pk])
            assert AdaptationRecord.objects.filter(pk=record.pk, conclusion="safe").exists()


@pytest.mark.parametrize(
    "content", [b"not a pdf", b"%PDF-1.4 nothing more", b""], ids=["text", "header", "empty"]
)
def test_presc_6_the_document_is_checked_by_its_content(
    content, rx, ordinary, rollator, central, technician
):
    device = DeviceFactory(article=rollator, location=central)
    work_order = adaptation_order(device, rx, ordinary, technician)
    with pytest.raises(LogisticsError, match="Document"):
        signing_request_send(
            work_order_id=work_order.pk, document=content, valid_until=None, by=technician
        )
    with pytest.raises(LogisticsError, match="larger than"):
        signing_request_send(
            work_order_id=work_order.pk,
            document=pdf_bytes() + b"\0" * (5 * 1024 * 1024),
            valid_until=None,
            by=technician,
        )


def test_presc_6_only_a_special_adaptation_work_order_asks_for_a_signature(
    rx, ordinary, rollator, central, technician
):
    device = DeviceFactory(article=rollator, location=central)
    repair = work_order_create(
        kind=WorkOrderKind.REPAIR, by=technician, device_id=device.pk, prescriber=rx
    )
    with pytest.raises(StateNotAllowed, match="no special adaptation"):
        signing_request_send(
            work_order_id=repair.pk, document=pdf_bytes(), valid_until=None, by=technician
        )


def test_print_1_the_adaptation_document_is_refused_for_a_protected_patient_and_audited(
    rx, protected_patient, ordinary, rollator, central, technician
):
    ordinary_request = sent(
        DeviceFactory(article=rollator, location=central), rx, ordinary, technician
    )
    content = adaptation_document_read(ctx=ctx_for(technician), document=ordinary_request)
    assert len(pypdf.PdfReader(io.BytesIO(content)).pages) == 1  # read back: the PDF itself
    request = sent(
        DeviceFactory(article=rollator, location=central), rx, protected_patient, technician
    )
    with pytest.raises(DocumentRefused):
        adaptation_document_read(ctx=ctx_for(rx, stepped_up=True), document=request)
    assert AccessEntry.objects.filter(
        patient=protected_patient, action=AccessAction.PRINT, outcome=AccessOutcome.DENIED
    ).exists()


def test_presc_6_an_approved_adapted_prescription_still_gets_its_order(rx, ordinary, rollator):
    prescription = adapted_prescription(rx, ordinary, rollator)
    assert prescription.state == "approved"
    assert approved(rx, ordinary, rollator).state == "approved"


def test_presc_6_a_lent_device_is_taken_in_before_its_adaptation_is_sent(
    rx, ordinary, rollator, central, technician
):
    device = lent(rx, ordinary, rollator, central)
    work_order = adaptation_order(device, rx, ordinary, technician)
    with pytest.raises(StateNotAllowed, match="take it in to the workshop"):
        signing_request_send(
            work_order_id=work_order.pk, document=pdf_bytes(), valid_until=None, by=technician
        )
    assert not AdaptationSigningRequest.objects.exists()

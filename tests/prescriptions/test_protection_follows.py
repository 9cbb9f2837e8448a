"""PROT-5, PRESC-2, LEAK-1: the prescriptions floor treats a patient as protected by
the gate's guard (the patient, or a protected person the register links to them, PROT-5),
follows a patient who becomes protected, and never lets the database's refusal leak."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.logging import RedactIdentityNumbers
from patients.models import (
    AccessAction,
    AccessEntry,
    AccessOutcome,
    Notification,
    Patient,
    PatientIdentity,
)
from prescriptions.models import (
    DeliveryKind,
    Prescription,
    PrescriptionState,
    PrescriptionTransition,
    SpecialDeliveryAgreement,
    Supply,
    SupplyRegistration,
)
from prescriptions.services.delivery import presc2_enforced, prescription_delivery_set
from prescriptions.services.drafts import prescription_details_set
from prescriptions.services.eligibility import eligibility_evaluate
from prescriptions.services.errors import PrescriptionError, RuleRefused
from prescriptions.services.lines import prescription_line_add
from prescriptions.services.phone_orders import PhoneOrderLine, prescription_phone_order_create
from prescriptions.services.region import (
    home_region_agreement_record,
    special_delivery_agreement_record,
    supply_registration_clear,
    supply_registration_request,
)
from prescriptions.services.rerouting import (
    REROUTED_NOTE,
    prescriptions_reroute_for_protected,
    prescriptions_reroute_sweep,
)
from prescriptions.services.routing import prescription_cancel, prescription_submit
from prescriptions.services.signing import prescription_fitting_record
from prescriptions.tasks import protection_added
from protection import refusals
from protection.gate import guarding_patient_ids
from protection.registry import protection_added_handlers
from protection.rls import patient_guard_ids
from tests.factories import PatientIdentityFactory, PatientRelationFactory
from tests.personas import PROTECTED_NUMBER, ctx_for, give_grant
from tests.prescriptions.conftest import OTHER_NUMBER, accessory, article
from tests.prescriptions.drafting import draft_with, pdf, submit

S = PrescriptionState
pytestmark = pytest.mark.django_db
RELATIVE_NUMBER = "198912222398"


def protected_with_relative() -> tuple[Any, Any]:
    """A protected person whose register entry names an unprotected relative (PROT-5)."""
    protected: Any = PatientIdentityFactory(personal_identity_number=PROTECTED_NUMBER)
    Patient.objects.filter(pk=protected.patient_id).update(protected_registration=True)
    relative: Any = PatientIdentityFactory(personal_identity_number=RELATIVE_NUMBER)
    PatientRelationFactory(patient=protected.patient, related_identity_number=RELATIVE_NUMBER)
    return protected, relative


def waiting_for_registration(rx: Any, patient: Patient, *, area_code: str = "incontinence"):
    ctx = ctx_for(rx)
    reference = draft_with(rx, patient, article("300", area_code=area_code, iso9999=""))
    prescription = prescription_submit(ctx=ctx, reference=reference)
    assert prescription.state == S.AWAITING_REGISTRATION
    registration = supply_registration_request(
        ctx=ctx,
        reference=reference,
        identity_number=OTHER_NUMBER,
        name="Testa Testsson",
        street="Provgatan 1",
        postal_code="21100",
        town="Malmö",
        phone="0701234567",
        door_code="1234",
    )
    return prescription, registration


# --- PROT-5: relatives of a protected person ------------------------------------------------------


def test_prot_5_the_floor_guard_is_the_gates_guard(rx):
    protected, relative = protected_with_relative()
    ordinary: Any = PatientIdentityFactory(personal_identity_number=OTHER_NUMBER)
    for identity in (protected, relative, ordinary):
        patient = Patient.objects.get(pk=identity.patient_id)
        expected = sorted(guarding_patient_ids(patient, identity))
        assert patient_guard_ids(identity.patient_id) == expected
    assert patient_guard_ids(relative.patient_id) == [protected.patient_id]


def test_presc_2_prot_5_an_order_for_a_protected_persons_relative_goes_to_the_unit(rx):
    protected, relative = protected_with_relative()
    give_grant(rx, protected)
    reference = draft_with(rx, relative.patient, article(), stepped_up=True)
    prescription = submit(rx, reference, stepped_up=True)
    assert prescription.delivery_kind == DeliveryKind.UNIT
    assert prescription.delivery_contact_id == rx.pk
    assert prescription.patient_protected is True
    with pytest.raises(RuleRefused):
        prescription_delivery_set(
            ctx=ctx_for(rx, stepped_up=True),
            reference=draft_with(rx, relative.patient, article(), stepped_up=True),
            kind=DeliveryKind.PATIENT_ADDRESS,
        )


def test_presc_2_prot_5_no_phone_order_for_a_relative_by_a_prescriber_without_grant(
    rx, customer_service
):
    """AUDIT-1 too: the refusal is audited as a denied access, with the same not-found answer."""
    _protected, relative = protected_with_relative()
    with pytest.raises(refusals.PatientNotFound) as refused:
        prescription_phone_order_create(
            ctx=ctx_for(customer_service),
            patient_reference=relative.patient.reference,
            prescriber_id=rx.pk,
            unit_id=rx.staff_profile.unit_id,
            lines=[PhoneOrderLine(article_id=article().pk)],
            need="Behöver rollator inomhus",
        )
    assert not Prescription.objects.filter(patient=relative.patient).exists()
    entry = AccessEntry.objects.get(patient_id=relative.patient_id, object_type="phone_order")
    assert (entry.action, entry.outcome) == (AccessAction.CHANGE, AccessOutcome.DENIED)
    # House style 5: a patient that does not exist gets the very same answer, and no entry.
    with pytest.raises(refusals.PatientNotFound) as missing:
        prescription_phone_order_create(
            ctx=ctx_for(customer_service),
            patient_reference="P-NOSUCHONE",
            prescriber_id=rx.pk,
            unit_id=rx.staff_profile.unit_id,
            lines=[PhoneOrderLine(article_id=article().pk)],
            need="Behöver rollator inomhus",
        )
    assert str(missing.value) == str(refused.value)
    assert AccessEntry.objects.filter(object_type="phone_order").count() == 1


def test_leak_1_a_phone_order_cannot_carry_the_protected_patients_name_or_address(
    rx, customer_service
):
    """Customer service holds no grant, so row-level security hides the identity from them;
    the free-text check still compares with it (read for the check only), and refuses the
    name, the street and the postal code of a protected patient in the need."""
    protected, _relative = protected_with_relative()
    PatientIdentity.objects.filter(pk=protected.pk).update(
        surname="Gömdasson",
        registered_address={"street2": "Gömdavägen 7", "postal_code": "21120", "city": "MALMÖ"},
    )
    give_grant(rx, protected)
    for need in ("Hämtas av Gömdasson", "Till Gömdavägen", "postnummer 211 20"):
        with transaction.atomic(), connection.cursor() as cursor:
            # As the middleware leaves a request of customer service: no system context.
            cursor.execute("SELECT set_config('hjm.context', '', true)")
            cursor.execute("SELECT set_config('hjm.user_id', %s, true)", [str(customer_service.pk)])
            refused = pytest.raises(PrescriptionError, match=r"namn eller adress|name or address")
            with refused, transaction.atomic():
                prescription_phone_order_create(
                    ctx=ctx_for(customer_service),
                    patient_reference=protected.patient.reference,
                    prescriber_id=rx.pk,
                    unit_id=rx.staff_profile.unit_id,
                    lines=[PhoneOrderLine(article_id=article().pk)],
                    need=need,
                )
    assert not Prescription.objects.filter(patient=protected.patient).exists()


def test_presc_2_prot_5_a_phone_order_for_a_relative_with_a_grant_goes_to_the_unit(
    rx, customer_service
):
    protected, relative = protected_with_relative()
    give_grant(rx, protected)
    prescription = prescription_phone_order_create(
        ctx=ctx_for(customer_service),
        patient_reference=relative.patient.reference,
        prescriber_id=rx.pk,
        unit_id=rx.staff_profile.unit_id,
        lines=[PhoneOrderLine(article_id=article().pk)],
        need="Behöver rollator inomhus",
    )
    assert (prescription.state, prescription.delivery_kind) == (S.APPROVED, DeliveryKind.UNIT)


def test_presc_2_prot_5_the_trigger_refuses_an_address_for_a_relative_as_the_app_role(rx):
    """Raw SQL as the application role, without the test's system context: the trigger asks
    hjm_patient_guards, which reads the relation the role itself cannot see."""
    protected, relative = protected_with_relative()
    give_grant(rx, protected)
    prescription = submit(
        rx, draft_with(rx, relative.patient, article(), stepped_up=True), stepped_up=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hjm.context', '', true)")
        cursor.execute("SELECT count(*) FROM patients_patientrelation")
        assert cursor.fetchone() == (0,)  # the app role sees no relation here
        with pytest.raises(IntegrityError, match="PRESC-2"):
            cursor.execute(
                "UPDATE prescriptions_prescription SET delivery_kind = 'patient_address', "
                "delivery_unit_id = NULL, delivery_contact_id = NULL, patient_protected = false "
                "WHERE id = %s",
                [prescription.pk],
            )


# --- PRESC-2: a patient who becomes protected -----------------------------------------------------


def test_presc_2_protection_added_is_announced_to_this_floor():
    assert protection_added in protection_added_handlers


def test_presc_2_an_approved_address_order_moves_to_the_unit_when_protected(rx, ordinary):
    reference = draft_with(rx, ordinary, article())
    prescription = submit(rx, reference)
    assert prescription.delivery_kind == DeliveryKind.PATIENT_ADDRESS
    Patient.objects.filter(pk=ordinary.pk).update(protected_registration=True)

    assert prescriptions_reroute_for_protected(patient_id=ordinary.pk) == 1
    prescription.refresh_from_db()
    assert prescription.delivery_kind == DeliveryKind.UNIT
    assert prescription.delivery_contact_id == rx.pk
    assert prescription.patient_protected is True
    note = PrescriptionTransition.objects.get(prescription=prescription, note=REROUTED_NOTE)
    assert note.from_state == note.to_state == S.APPROVED
    (message,) = Notification.objects.filter(user=rx)
    assert reference in message.subject
    assert ordinary.reference not in message.subject + message.body  # LEAK-2
    # Idempotent: a second run moves and sends nothing.
    assert prescriptions_reroute_for_protected(patient_id=ordinary.pk) == 0
    assert Notification.objects.filter(user=rx).count() == 1


def test_presc_2_protecting_a_person_reroutes_their_relatives_orders_and_registrations(
    rx, out_of_region
):
    """LEAK-3: the supply registration loses address, phone and door code."""
    prescription, registration = waiting_for_registration(rx, out_of_region)
    # out_of_region's identity number is named by a person who now becomes protected.
    protected = PatientIdentityFactory(personal_identity_number=PROTECTED_NUMBER)
    PatientRelationFactory(patient=protected.patient, related_identity_number=OTHER_NUMBER)
    Patient.objects.filter(pk=protected.patient_id).update(protected_registration=True)

    assert prescriptions_reroute_for_protected(patient_id=protected.patient_id) == 1
    prescription.refresh_from_db()
    assert prescription.delivery_kind == DeliveryKind.UNIT
    registration = SupplyRegistration.objects.get(pk=registration.pk)
    assert (registration.address, registration.phone, registration.door_code) == (None,) * 3


def test_presc_2_clearing_a_registration_after_protection_routes_to_the_unit(
    rx, out_of_region, customer_service
):
    """No IntegrityError (500) from the trigger; the waiting order moves on to the unit."""
    prescription, registration = waiting_for_registration(rx, out_of_region)
    Patient.objects.filter(pk=out_of_region.pk).update(protected_registration=True)
    supply_registration_clear(ctx=ctx_for(customer_service), registration_id=registration.pk)
    prescription.refresh_from_db()
    assert (prescription.state, prescription.delivery_kind) == (S.APPROVED, DeliveryKind.UNIT)
    registration = SupplyRegistration.objects.get(pk=registration.pk)
    assert (registration.address, registration.phone, registration.door_code) == (None,) * 3


def test_presc_3_no_dietary_food_approved_for_a_patient_protected_while_waiting(
    rx, out_of_region, customer_service
):
    prescription, registration = waiting_for_registration(rx, out_of_region, area_code="nutrition")
    Patient.objects.filter(pk=out_of_region.pk).update(protected_registration=True)
    with pytest.raises(PrescriptionError, match=r"pharmacy|apotek"):
        supply_registration_clear(ctx=ctx_for(customer_service), registration_id=registration.pk)
    prescription.refresh_from_db()
    assert prescription.state == S.AWAITING_REGISTRATION
    evaluation = eligibility_evaluate(prescription=prescription, prescriber_profile=None)
    assert any(c.rule == "PRESC-3" and c.effect == "block" for c in evaluation.criteria)


# --- LEAK-1: the database's refusal is neither a 500 nor a leak -----------------------------------


def test_presc_4_fitting_after_protection_recomputes_delivery_instead_of_a_500(rx, ordinary):
    ctx = ctx_for(rx)
    reference = draft_with(rx, ordinary, article())
    prescription_details_set(ctx=ctx, reference=reference, need="Behöver rollator ute")
    submit(rx, reference)
    Patient.objects.filter(pk=ordinary.pk).update(protected_registration=True)
    give_grant(rx, ordinary.identity)
    fitted = prescription_fitting_record(
        ctx=ctx_for(rx, stepped_up=True), reference=reference, journal_note_confirmed=True
    )
    assert (fitted.delivery_kind, fitted.patient_protected) == (DeliveryKind.UNIT, True)
    assert fitted.liability_form_signed is False


def test_presc_2_a_database_refusal_becomes_a_domain_error_with_the_number_only(rx, ordinary):
    reference = draft_with(rx, ordinary, article())
    prescription_details_set(ctx=ctx_for(rx), reference=reference, need="Rollator, Lånegatan 9")
    prescription = Prescription.objects.get(reference=reference)
    with (
        pytest.raises(RuleRefused) as refused,
        presc2_enforced(prescription),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE prescriptions_prescription SET patient_protected = true WHERE id = %s",
            [prescription.pk],
        )
    assert refused.value.rule == "PRESC-2"
    assert reference in str(refused.value)
    assert "Lånegatan" not in str(refused.value)
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__  # the row's DETAIL is not chained


def test_leak_1_a_failing_rows_detail_never_reaches_a_log(rx, ordinary):
    """LEAK-1: psycopg's DETAIL repeats the row, free text included; the log filter drops it."""
    reference = draft_with(rx, ordinary, article())
    prescription_details_set(ctx=ctx_for(rx), reference=reference, need="Rollator, Lånegatan 9")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE prescriptions_prescription SET patient_protected = true "
                "WHERE reference = %s",
                [reference],
            )
    except IntegrityError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    assert "Lånegatan" in logging.Formatter().formatException(record.exc_info)
    RedactIdentityNumbers().filter(record)
    assert "Lånegatan" not in logging.Formatter().format(record)


# --- free text, special agreements, adapted devices, region limits --------------------------------


def test_leak_1_free_text_refuses_the_patients_name(rx, ordinary):
    surname = ordinary.identity.surname
    reference = draft_with(rx, ordinary, article())
    with pytest.raises(PrescriptionError, match=r"name|namn"):
        prescription_details_set(
            ctx=ctx_for(rx), reference=reference, need=f"Hämtas av {surname} själv"
        )


def test_presc_2_an_ended_special_agreement_falls_back_to_the_unit(rx, protected_patient):
    ctx = ctx_for(rx, stepped_up=True)
    agreement = special_delivery_agreement_record(
        ctx=ctx, patient_reference=protected_patient.reference, details={"address": "Gränd 3"}
    )
    reference = draft_with(rx, protected_patient, article(), stepped_up=True)
    prescription_delivery_set(
        ctx=ctx,
        reference=reference,
        kind=DeliveryKind.SPECIAL_AGREEMENT,
        special_agreement_id=agreement.pk,
    )
    SpecialDeliveryAgreement.objects.filter(pk=agreement.pk).update(ended_at=timezone.now())
    prescription = submit(rx, reference, stepped_up=True)
    assert (prescription.delivery_kind, prescription.special_agreement_id) == (
        DeliveryKind.UNIT,
        None,
    )


def test_presc_2_the_trigger_refuses_another_patients_or_an_ended_agreement(
    rx, protected_patient, ordinary
):
    ctx = ctx_for(rx, stepped_up=True)
    agreement = special_delivery_agreement_record(
        ctx=ctx, patient_reference=protected_patient.reference, details={"address": "Gränd 3"}
    )
    other = submit(rx, draft_with(rx, ordinary, article()))
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hjm.context', '', true)")
        with pytest.raises(IntegrityError, match="PRESC-2"):
            cursor.execute(
                "UPDATE prescriptions_prescription SET delivery_kind = 'special_agreement', "
                "special_agreement_id = %s WHERE id = %s",
                [agreement.pk, other.pk],
            )


def test_region_1_the_limit_is_per_device_with_its_accessories(rx, out_of_region):
    # Two devices of 6 000 SEK: 12 000 in all, but each under the limit: straight through.
    two = submit(rx, draft_with(rx, out_of_region, article("6000"), article("6000")))
    assert two.state == S.APPROVED
    # One device of 6 000 with two accessories of 2 500 each: 11 000 for the device.
    main = article("6000")
    ctx = ctx_for(rx)
    reference = draft_with(rx, out_of_region, main)
    line = Prescription.objects.get(reference=reference).lines.get()
    prescription_line_add(
        ctx=ctx,
        reference=reference,
        article_id=accessory(main, "2500").pk,
        main_line_id=line.pk,
        quantity=2,
    )
    assert submit(rx, reference).state == S.AWAITING_AGREEMENT


def test_region_2_the_agreements_rent_or_buy_must_match_the_devices(rx, out_of_region):
    reference = draft_with(rx, out_of_region, article("12000", supply=Supply.RENT))
    submit(rx, reference)
    with pytest.raises(RuleRefused) as refused:
        home_region_agreement_record(
            ctx=ctx_for(rx),
            reference=reference,
            issuing_region_code=out_of_region.home_region_id,
            agreement_reference="BF-2026-17",
            issued_on=timezone.localdate(),
            supply=Supply.BUY,
            document=pdf(),
        )
    assert refused.value.rule == "REGION-2"


def test_presc_2_cancelling_a_waiting_order_after_protection_is_no_500(rx, out_of_region):
    prescription, _registration = waiting_for_registration(rx, out_of_region)
    Patient.objects.filter(pk=out_of_region.pk).update(protected_registration=True)
    give_grant(rx, out_of_region.identity)
    cancelled = prescription_cancel(
        ctx=ctx_for(rx, stepped_up=True), reference=prescription.reference, reason="Behövs inte"
    )
    assert (cancelled.state, cancelled.delivery_kind) == (S.CANCELLED, DeliveryKind.UNIT)


def test_presc_2_the_sweep_reroutes_what_no_announcement_reached(rx, ordinary, out_of_region):
    """A patient protected without an event (a lost message) and a relative newly linked to a
    person who was already protected (PROT-5): the hourly sweep moves both; a second run
    nothing."""
    address_order = submit(rx, draft_with(rx, ordinary, article()))
    relative_order = submit(rx, draft_with(rx, out_of_region, article()))
    assert address_order.delivery_kind == relative_order.delivery_kind
    assert address_order.delivery_kind == DeliveryKind.PATIENT_ADDRESS
    bystander: Any = PatientIdentityFactory(personal_identity_number="200307052399")
    untouched = submit(rx, draft_with(rx, bystander.patient, article()))
    Patient.objects.filter(pk=ordinary.pk).update(protected_registration=True)
    protected = PatientIdentityFactory(personal_identity_number=PROTECTED_NUMBER)
    Patient.objects.filter(pk=protected.patient_id).update(protected_registration=True)
    PatientRelationFactory(patient=protected.patient, related_identity_number=OTHER_NUMBER)

    assert prescriptions_reroute_sweep() == 2
    for order in (address_order, relative_order, untouched):
        order.refresh_from_db()
    assert address_order.delivery_kind == DeliveryKind.UNIT
    assert relative_order.delivery_kind == DeliveryKind.UNIT
    assert untouched.delivery_kind == DeliveryKind.PATIENT_ADDRESS
    assert prescriptions_reroute_sweep() == 0

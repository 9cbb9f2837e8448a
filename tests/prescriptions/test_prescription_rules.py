"""The prescription's rules, each test named by the rule it proves (PRESC-*, REGION-*)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from patients.models import AccessEntry, Patient
from patients.transitions import transition_apply
from prescriptions.models import (
    Certificate,
    CountryGroup,
    DeliveryKind,
    EligibilityRecord,
    InvoiceMark,
    Payer,
    Prescription,
    PrescriptionState,
    RegistrationState,
    SupplyRegistration,
)
from prescriptions.services.delivery import prescription_delivery_set
from prescriptions.services.drafts import prescription_details_set, prescription_draft_start
from prescriptions.services.errors import (
    RuleRefused,
    StateNotAllowed,
    SubmitRefused,
)
from prescriptions.services.lines import prescription_line_add, prescription_line_change
from prescriptions.services.phone_orders import PhoneOrderLine, prescription_phone_order_create
from prescriptions.services.region import (
    home_region_agreement_record,
    residence_abroad_record,
    special_delivery_agreement_record,
    supply_registration_clear,
    supply_registration_request,
)
from prescriptions.services.routing import prescription_cancel, prescription_submit
from prescriptions.services.signing import (
    prescription_fitting_record,
    prescription_risk_assessment_sign,
)
from prescriptions.services.state import REGISTRATION_MACHINE, prescription_transition_apply
from protection import refusals
from protection.refusals import PatientNotFound, StepUpRequired
from tests.factories import UserFactory
from tests.personas import ctx_for
from tests.prescriptions.conftest import OTHER_REGION, accessory, article
from tests.prescriptions.factories import PrescriberProfileFactory

S = PrescriptionState
pytestmark = pytest.mark.django_db
# REGION-3: the refusal to clear a registration that is not waiting, in English or Swedish.
NOT_WAITING = r"not waiting to be cleared|väntar inte på klartecken"


def draft_with(user: Any, patient: Patient, *articles: Any, stepped_up: bool = False) -> str:
    ctx = ctx_for(user, stepped_up=stepped_up)
    prescription = prescription_draft_start(ctx=ctx, patient_reference=patient.reference)
    for item in articles:
        prescription_line_add(ctx=ctx, reference=prescription.reference, article_id=item.pk)
    return prescription.reference


def submit(user: Any, reference: str, *, stepped_up: bool = False) -> Prescription:
    return prescription_submit(ctx=ctx_for(user, stepped_up=stepped_up), reference=reference)


def pdf(name: str = "bf.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, b"%PDF-1.4 betalningsforbindelse", content_type="application/pdf"
    )


def criteria(prescription: Prescription) -> dict[str, Any]:
    record = EligibilityRecord.objects.filter(prescription=prescription).latest("pk")
    return {c["criterion"]: c for c in record.criteria}


# --- PRESC-1, state machine -------------------------------------------------------------------


def test_presc_1_ordinary_patient_draft_submit_approved_with_history_and_why(rx, ordinary):
    reference = draft_with(rx, ordinary, article())
    prescription_details_set(
        ctx=ctx_for(rx), reference=reference, need="Går osäkert inomhus", urgency="urgent"
    )
    prescription = submit(rx, reference)
    assert prescription.state == S.APPROVED
    history = list(prescription.transitions.values_list("from_state", "to_state", "actor_id"))
    assert history == [
        ("", S.DRAFT, rx.pk),
        (S.DRAFT, S.SUBMITTED, rx.pk),
        (S.SUBMITTED, S.APPROVED, rx.pk),
    ]
    why = criteria(prescription)
    assert why["competence"]["value"] is True
    assert why["competence"]["rule"] == "PRESC-5"
    assert why["out_of_region"]["value"] is False
    assert why["total_cost_sek"]["value"] == "2900.00"
    assert not InvoiceMark.objects.filter(prescription=prescription).exists()


def test_presc_1_state_machine_refuses_a_move_not_in_the_table(rx, ordinary):
    prescription = submit(rx, draft_with(rx, ordinary, article()))
    with pytest.raises(StateNotAllowed):
        prescription_transition_apply(prescription=prescription, to_state=S.DRAFT, actor=rx)
    with pytest.raises(StateNotAllowed):
        prescription_cancel(ctx=ctx_for(rx), reference=prescription.reference)


def test_presc_1_lines_change_only_in_draft(rx, ordinary):
    prescription = submit(rx, draft_with(rx, ordinary, article()))
    with pytest.raises(StateNotAllowed):
        prescription_line_add(
            ctx=ctx_for(rx), reference=prescription.reference, article_id=article().pk
        )


def test_presc_1_denied_other_units_prescriber_gets_not_found(rx, ordinary):
    reference = draft_with(rx, ordinary, article())
    stranger = PrescriberProfileFactory().user
    with pytest.raises(PatientNotFound) as forbidden:
        prescription_submit(ctx=ctx_for(stranger), reference=reference)
    with pytest.raises(PatientNotFound) as missing:
        prescription_submit(ctx=ctx_for(stranger), reference="F-NOSUCH00")
    assert str(forbidden.value) == str(missing.value)


def test_presc_1_denied_user_without_the_prescriber_role(ordinary):
    clerk = UserFactory(username="clerk", role="logistics")
    with pytest.raises(RuleRefused):
        prescription_draft_start(ctx=ctx_for(clerk), patient_reference=ordinary.reference)


# --- PRESC-2 delivery ------------------------------------------------------------------------


def test_presc_2_protected_patient_delivery_computed_to_unit_with_prescriber(rx, protected_patient):
    reference = draft_with(rx, protected_patient, article(), stepped_up=True)
    ctx = ctx_for(rx, stepped_up=True)
    with pytest.raises(RuleRefused) as refused:
        prescription_delivery_set(ctx=ctx, reference=reference, kind=DeliveryKind.PATIENT_ADDRESS)
    assert refused.value.rule == "PRESC-2"
    prescription = submit(rx, reference, stepped_up=True)
    assert prescription.patient_protected
    assert prescription.delivery_kind == DeliveryKind.UNIT
    assert prescription.delivery_unit_id == prescription.unit_id
    assert prescription.delivery_contact_id == rx.pk


def test_presc_2_denied_prescriber_without_grant_gets_the_same_not_found(protected_patient):
    other = PrescriberProfileFactory(user__username="nogrant").user
    with pytest.raises(PatientNotFound) as masked:
        prescription_draft_start(ctx=ctx_for(other), patient_reference=protected_patient.reference)
    with pytest.raises(PatientNotFound) as missing:
        prescription_draft_start(ctx=ctx_for(other), patient_reference="P-NOSUCHONE")
    assert str(masked.value) == str(missing.value)
    assert not Prescription.objects.exists()


def test_presc_2_grant_holder_must_step_up_first(rx, protected_patient):
    with pytest.raises(StepUpRequired):
        prescription_draft_start(ctx=ctx_for(rx), patient_reference=protected_patient.reference)


def test_presc_2_check_constraint_refuses_address_for_protected_snapshot_raw_sql(rx, ordinary):
    prescription = submit(rx, draft_with(rx, ordinary, article()))
    with (
        pytest.raises(IntegrityError, match="presc2"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE prescriptions_prescription SET patient_protected = true, "
            "delivery_kind = 'patient_address', delivery_unit_id = NULL, "
            "delivery_contact_id = NULL WHERE id = %s",
            [prescription.pk],
        )


def test_presc_2_trigger_refuses_a_stale_snapshot_raw_sql(rx, ordinary):
    """The row still says "not protected"; the patient is protected now. The trigger reads the
    patient, not the snapshot."""
    reference = draft_with(rx, ordinary, article())
    prescription = Prescription.objects.get(reference=reference)
    assert prescription.delivery_kind == DeliveryKind.PATIENT_ADDRESS
    Patient.objects.filter(pk=ordinary.pk).update(protected_registration=True)
    with (
        pytest.raises(IntegrityError, match="PRESC-2"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE prescriptions_prescription SET state = 'submitted' WHERE id = %s",
            [prescription.pk],
        )
    with (
        pytest.raises(IntegrityError, match="PRESC-2"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO prescriptions_prescription (reference, patient_id, episode_id, "
            "prescriber_id, unit_id, state, need, urgency, fitting_note, patient_protected, "
            "delivery_kind, phone_order, liability_form_signed, journal_note_confirmed) "
            "SELECT 'F-RAWSQL01', patient_id, episode_id, prescriber_id, unit_id, 'draft', "
            "'', 'normal', '', false, 'patient_address', false, false, false "
            "FROM prescriptions_prescription WHERE id = %s",
            [prescription.pk],
        )


def test_presc_2_submit_recomputes_delivery_when_patient_became_protected(rx, ordinary):
    reference = draft_with(rx, ordinary, article())
    Patient.objects.filter(pk=ordinary.pk).update(protected_registration=True)
    # Without a grant the patient is masked now: the same not-found answer.
    with pytest.raises(PatientNotFound):
        submit(rx, reference)


def test_presc_2_special_agreement_is_encrypted_and_used_for_delivery(rx, protected_patient):
    ctx = ctx_for(rx, stepped_up=True)
    agreement = special_delivery_agreement_record(
        ctx=ctx,
        patient_reference=protected_patient.reference,
        details={"address": "Hemliga gränd 3", "contact": "via syster"},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT details FROM prescriptions_specialdeliveryagreement WHERE id = %s",
            [agreement.pk],
        )
        (stored,) = cursor.fetchone()
    assert "Hemliga" not in stored
    reference = draft_with(rx, protected_patient, article(), stepped_up=True)
    prescription = prescription_delivery_set(
        ctx=ctx,
        reference=reference,
        kind=DeliveryKind.SPECIAL_AGREEMENT,
        special_agreement_id=agreement.pk,
    )
    assert prescription.delivery_kind == DeliveryKind.SPECIAL_AGREEMENT
    assert prescription.delivery_contact_id is None


def test_presc_2_phone_order_for_protected_patient_goes_to_unit(
    rx, protected_patient, customer_service
):
    item = article()
    prescription = prescription_phone_order_create(
        ctx=ctx_for(customer_service),
        patient_reference=protected_patient.reference,
        prescriber_id=rx.pk,
        unit_id=rx.staff_profile.unit_id,
        lines=[PhoneOrderLine(article_id=item.pk)],
    )
    assert prescription.state == S.APPROVED
    assert prescription.phone_order
    assert prescription.entered_by_id == customer_service.pk
    assert prescription.delivery_kind == DeliveryKind.UNIT
    assert prescription.delivery_contact_id == rx.pk
    assert AccessEntry.objects.filter(
        user=customer_service, patient=protected_patient, object_type="phone_order"
    ).exists()


def test_presc_2_denied_phone_order_for_prescriber_without_grant(
    protected_patient, customer_service
):
    other = PrescriberProfileFactory(user__username="nogrant2").user
    with pytest.raises(refusals.PatientNotFound):
        prescription_phone_order_create(
            ctx=ctx_for(customer_service),
            patient_reference=protected_patient.reference,
            prescriber_id=other.pk,
            unit_id=other.staff_profile.unit_id,
            lines=[PhoneOrderLine(article_id=article().pk)],
        )


def test_presc_2_denied_phone_order_by_a_prescriber(rx, ordinary):
    from prescriptions.services.errors import PrescriptionError

    with pytest.raises(PrescriptionError):
        prescription_phone_order_create(
            ctx=ctx_for(rx),
            patient_reference=ordinary.reference,
            prescriber_id=rx.pk,
            unit_id=rx.staff_profile.unit_id,
            lines=[PhoneOrderLine(article_id=article().pk)],
        )


# --- PRESC-3..7 ------------------------------------------------------------------------------


def test_presc_3_special_dietary_food_refused_for_protected_patient(rx, protected_patient):
    reference = draft_with(rx, protected_patient, stepped_up=True)
    food = article("400", area_code="nutrition", iso9999="")
    with pytest.raises(RuleRefused) as refused:
        prescription_line_add(
            ctx=ctx_for(rx, stepped_up=True), reference=reference, article_id=food.pk
        )
    assert refused.value.rule == "PRESC-3"
    assert "apotek" in str(refused.value) or "pharmacy" in str(refused.value)


def test_presc_3_special_dietary_food_allowed_for_ordinary_patient(rx, ordinary):
    food = article("400", area_code="nutrition", iso9999="")
    assert submit(rx, draft_with(rx, ordinary, food)).state == S.APPROVED


def test_presc_4_fitting_protected_patient_asks_for_journal_note_not_liability_form(
    rx, protected_patient
):
    reference = submit(
        rx, draft_with(rx, protected_patient, article(), stepped_up=True), stepped_up=True
    ).reference
    ctx = ctx_for(rx, stepped_up=True)
    with pytest.raises(RuleRefused):
        prescription_fitting_record(ctx=ctx, reference=reference, liability_form_signed=True)
    with pytest.raises(RuleRefused):
        prescription_fitting_record(ctx=ctx, reference=reference)
    fitted = prescription_fitting_record(ctx=ctx, reference=reference, journal_note_confirmed=True)
    assert fitted.journal_note_confirmed
    assert not fitted.liability_form_signed
    with (
        pytest.raises(IntegrityError, match="presc4"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE prescriptions_prescription SET liability_form_signed = true WHERE id = %s",
            [fitted.pk],
        )


def test_presc_4_ordinary_patient_signs_liability_form(rx, ordinary):
    reference = submit(rx, draft_with(rx, ordinary, article())).reference
    with pytest.raises(RuleRefused):
        prescription_fitting_record(ctx=ctx_for(rx), reference=reference)
    fitted = prescription_fitting_record(
        ctx=ctx_for(rx), reference=reference, liability_form_signed=True
    )
    assert fitted.liability_form_signed


def test_presc_5_denied_without_registered_competence(ordinary):
    untrained = PrescriberProfileFactory(competences=[]).user
    reference = draft_with(untrained, ordinary)
    with pytest.raises(RuleRefused) as refused:
        prescription_line_add(ctx=ctx_for(untrained), reference=reference, article_id=article().pk)
    assert refused.value.rule == "PRESC-5"


def test_presc_5_denied_unit_orderer_cannot_prescribe_personal_devices(ordinary):
    orderer = PrescriberProfileFactory(authorisation="unit_orderer").user
    with pytest.raises(RuleRefused) as refused:
        prescription_draft_start(ctx=ctx_for(orderer), patient_reference=ordinary.reference)
    assert refused.value.rule == "PRESC-5"


def test_presc_6_special_adaptation_blocks_until_signed_after_step_up(rx, ordinary):
    reference = draft_with(rx, ordinary, article())
    line = Prescription.objects.get(reference=reference).lines.get()
    prescription_line_change(
        ctx=ctx_for(rx), reference=reference, line_id=line.pk, special_adaptation=True
    )
    prescription = submit(rx, reference)
    assert prescription.state == S.AWAITING_SIGNATURE
    # ACCESS-4: the signature asks for a fresh password, the one refusal path's step-up.
    with pytest.raises(refusals.StepUpRequired):
        prescription_risk_assessment_sign(ctx=ctx_for(rx), reference=reference)
    colleague = PrescriberProfileFactory(
        user__username="colleague", units=list(rx.prescriber_profile.units.all())
    ).user
    with pytest.raises(RuleRefused):
        prescription_risk_assessment_sign(
            ctx=ctx_for(colleague, stepped_up=True), reference=reference
        )
    signed = prescription_risk_assessment_sign(
        ctx=ctx_for(rx, stepped_up=True), reference=reference
    )
    assert signed.state == S.APPROVED
    assert criteria(signed)["special_adaptation_signed"]["value"] is True


# --- REGION ----------------------------------------------------------------------------------


def test_region_1_home_region_kept_for_the_episode_after_a_move(rx, out_of_region):
    first = Prescription.objects.get(reference=draft_with(rx, out_of_region))
    Patient.objects.filter(pk=out_of_region.pk).update(home_region_id="12")
    second = Prescription.objects.get(reference=draft_with(rx, out_of_region))
    assert first.episode_id == second.episode_id
    assert second.episode.home_region_id == OTHER_REGION


def test_region_1_under_limit_goes_straight_through_and_is_marked_for_invoicing(rx, out_of_region):
    prescription = submit(rx, draft_with(rx, out_of_region, article("9999.99")))
    assert prescription.state == S.APPROVED
    mark = InvoiceMark.objects.get(prescription=prescription)
    assert (mark.payer, mark.region_id, mark.amount_sek) == (
        Payer.HOME_REGION,
        OTHER_REGION,
        Decimal("9999.99"),
    )
    assert criteria(prescription)["over_limit"]["value"] is False


def test_region_2_accessories_count_towards_the_limit_and_agreement_is_needed(rx, out_of_region):
    main = article("8000")
    extra = accessory(main, "2000")
    ctx = ctx_for(rx)
    reference = draft_with(rx, out_of_region, main)
    line = Prescription.objects.get(reference=reference).lines.get()
    prescription_line_add(ctx=ctx, reference=reference, article_id=extra.pk, main_line_id=line.pk)
    prescription = submit(rx, reference)
    assert prescription.state == S.AWAITING_AGREEMENT
    assert criteria(prescription)["total_cost_sek"]["value"] == "10000.00"
    assert not InvoiceMark.objects.exists()
    with pytest.raises(RuleRefused):
        home_region_agreement_record(
            ctx=ctx,
            reference=reference,
            issuing_region_code="13",
            agreement_reference="BF-1",
            issued_on=datetime.date(2026, 1, 2),
            supply="rent",
            document=pdf(),
        )
    agreement = home_region_agreement_record(
        ctx=ctx,
        reference=reference,
        issuing_region_code=OTHER_REGION,
        agreement_reference="BF-2026-17",
        issued_on=datetime.date(2026, 1, 2),
        supply="rent",
        # LEAK-1: the upload's own name may name the patient; it is never stored.
        document=pdf("Betalningsforbindelse Olle 19891222-2398.pdf"),
    )
    assert agreement.document_name == "betalningsforbindelse.pdf"
    prescription.refresh_from_db()
    assert prescription.state == S.APPROVED
    assert InvoiceMark.objects.get(prescription=prescription).region_id == OTHER_REGION
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT document FROM prescriptions_homeregionagreement WHERE id = %s", [agreement.pk]
        )
        (stored,) = cursor.fetchone()
    assert "JVBERi" not in stored  # base64 of "%PDF": the document is encrypted at rest


def test_region_2_advanced_service_needs_agreement_even_under_limit(rx, out_of_region):
    prescription = submit(rx, draft_with(rx, out_of_region, article("900", advanced_service=True)))
    assert prescription.state == S.AWAITING_AGREEMENT


def test_region_2_hearing_always_needs_agreement(rx, out_of_region):
    prescription = submit(rx, draft_with(rx, out_of_region, article("500", area_code="hearing")))
    assert prescription.state == S.AWAITING_AGREEMENT
    assert criteria(prescription)["hearing"]["value"] is True


def test_region_2_in_region_patient_needs_no_agreement(rx, ordinary):
    assert submit(rx, draft_with(rx, ordinary, article("25000"))).state == S.APPROVED


def test_region_3_medicine_related_waits_for_registration_cleared_by_customer_service(
    rx, out_of_region, customer_service
):
    reference = draft_with(rx, out_of_region, article("300", area_code="diabetes", iso9999=""))
    prescription = submit(rx, reference)
    assert prescription.state == S.AWAITING_REGISTRATION
    registration = supply_registration_request(
        ctx=ctx_for(rx),
        reference=reference,
        identity_number="198912232397",
        name="Testa Testsson",
        care_of="c/o Berg",
        street="Provgatan 1",
        postal_code="21100",
        town="Malmö",
        phone="0701234567",
        door_code="1234",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT identity_number, address, door_code FROM prescriptions_supplyregistration "
            "WHERE id = %s",
            [registration.pk],
        )
        row = cursor.fetchone()
    assert "198912232397" not in row[0]
    assert "Provgatan" not in row[1]
    assert "1234" not in row[2]
    with pytest.raises(Exception, match=r"customer service|kundtjänst"):
        supply_registration_clear(ctx=ctx_for(rx), registration_id=registration.pk)
    supply_registration_clear(ctx=ctx_for(customer_service), registration_id=registration.pk)
    prescription.refresh_from_db()
    assert prescription.state == S.APPROVED
    registration.refresh_from_db()
    assert registration.state == RegistrationState.CLEARED
    mark = InvoiceMark.objects.get(prescription=prescription)
    assert mark.deactivate_after_invoicing  # REGION-4 data for the billing floor
    # House style 4: each move of the registration is a history row, who and from where to.
    history = list(registration.transitions.values_list("from_state", "to_state", "by_id"))
    assert history == [
        ("", RegistrationState.REQUESTED, rx.pk),
        (RegistrationState.REQUESTED, RegistrationState.CLEARED, customer_service.pk),
    ]


def test_region_3_a_registration_is_cleared_once_the_table_refuses_a_second_time(
    rx, out_of_region, customer_service
):
    reference = draft_with(rx, out_of_region, article("300", area_code="diabetes", iso9999=""))
    submit(rx, reference)
    registration = supply_registration_request(
        ctx=ctx_for(rx), reference=reference, name="T", street="G 1", postal_code="1", town="M"
    )
    supply_registration_clear(ctx=ctx_for(customer_service), registration_id=registration.pk)
    with pytest.raises(StateNotAllowed, match=NOT_WAITING):
        supply_registration_clear(ctx=ctx_for(customer_service), registration_id=registration.pk)
    assert registration.transitions.count() == 2
    # The table itself: a deactivated registration never comes back (REGION-4, a returning
    # patient gets a new one), and the refusal is the floor's StateNotAllowed.
    SupplyRegistration.objects.filter(pk=registration.pk).update(
        state=RegistrationState.DEACTIVATED
    )
    registration.refresh_from_db()
    for to_state in (RegistrationState.REQUESTED, RegistrationState.CLEARED):
        with pytest.raises(StateNotAllowed):
            transition_apply(machine=REGISTRATION_MACHINE, obj=registration, to_state=to_state)
    registration.refresh_from_db()
    assert registration.state == RegistrationState.DEACTIVATED
    assert registration.transitions.count() == 2


def test_region_3_protected_registration_carries_no_locating_data(rx, customer_service):
    from tests.factories import PatientIdentityFactory
    from tests.personas import give_grant

    identity = PatientIdentityFactory(personal_identity_number="200307052381")
    Patient.objects.filter(pk=identity.patient_id).update(
        protected_registration=True, home_region_id=OTHER_REGION
    )
    give_grant(rx, identity)
    reference = draft_with(
        rx,
        identity.patient,
        article("300", area_code="incontinence", iso9999=""),
        stepped_up=True,
    )
    with pytest.raises(RuleRefused):
        supply_registration_request(
            ctx=ctx_for(rx, stepped_up=True),
            reference=reference,
            identity_number="200307052381",
            name="X",
            street="Gatan 1",
        )
    registration = supply_registration_request(
        ctx=ctx_for(rx, stepped_up=True),
        reference=reference,
        identity_number="200307052381",
        name="X",
    )
    assert registration.address is None
    assert registration.door_code is None
    assert SupplyRegistration.objects.count() == 1


def test_region_5_resident_abroad_without_certificate_pays_the_prescribing_unit(rx, ordinary):
    reference = draft_with(rx, ordinary, article("1200"))
    Patient.objects.filter(pk=ordinary.pk).update(home_region_id=None)
    prescription = Prescription.objects.get(reference=reference)
    prescription.episode.home_region_id = None
    prescription.episode.save()
    residence_abroad_record(
        ctx=ctx_for(rx),
        reference=reference,
        country="US",
        country_group=CountryGroup.OTHER,
        certificate=Certificate.NONE,
    )
    prescription = submit(rx, reference)
    mark = InvoiceMark.objects.get(prescription=prescription)
    assert (mark.payer, mark.payee_unit_id) == (Payer.PATIENT_AT_UNIT, prescription.unit_id)
    assert criteria(prescription)["patient_pays_prescribing_unit"]["value"] is True


def test_region_5_eu_certificate_holder_does_not_pay_in_full(rx, ordinary):
    reference = draft_with(rx, ordinary, article("1200"))
    residence_abroad_record(
        ctx=ctx_for(rx),
        reference=reference,
        country="DE",
        country_group=CountryGroup.EU_EEA_CH,
        certificate=Certificate.EHIC,
    )
    prescription = submit(rx, reference)
    assert criteria(prescription)["certificate_valid"]["value"] is True
    assert not InvoiceMark.objects.filter(prescription=prescription).exists()


def test_region_5_swede_abroad_outside_eu_tied_to_last_registered_region(rx, ordinary):
    reference = draft_with(rx, ordinary, article("1200"))
    residence_abroad_record(
        ctx=ctx_for(rx),
        reference=reference,
        country="TH",
        country_group=CountryGroup.OTHER,
        certificate=Certificate.NONE,
        swedish_citizen=True,
        last_registered_region_code="01",
    )
    prescription = submit(rx, reference)
    assert InvoiceMark.objects.get(prescription=prescription).region_id == "01"


def test_presc_1_submit_refused_lists_every_reason(rx, ordinary):
    reference = draft_with(rx, ordinary)
    with pytest.raises(SubmitRefused) as refused:
        submit(rx, reference)
    assert refused.value.reasons
    assert Prescription.objects.get(reference=reference).state == S.DRAFT

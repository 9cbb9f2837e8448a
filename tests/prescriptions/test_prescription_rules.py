"""The prescription's rules PRESC-1 to PRESC-7 at the service level, each test named by the rule
it proves. The region rules are in test_region_rules.py."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from patients.models import AccessEntry, Patient
from prescriptions.models import (
    DeliveryKind,
    EligibilityRecord,
    InvoiceMark,
    OrderRelease,
    Prescription,
    PrescriptionState,
)
from prescriptions.services.delivery import prescription_delivery_set
from prescriptions.services.drafts import prescription_details_set, prescription_draft_start
from prescriptions.services.errors import (
    FieldRefused,
    RuleRefused,
    StateNotAllowed,
    SubmitRefused,
)
from prescriptions.services.lines import prescription_line_add, prescription_line_change
from prescriptions.services.phone_orders import PhoneOrderLine, prescription_phone_order_create
from prescriptions.services.region import special_delivery_agreement_record
from prescriptions.services.routing import prescription_cancel, prescription_submit
from prescriptions.services.signing import prescription_fitting_record
from prescriptions.services.state import prescription_transition_apply
from protection import refusals
from protection.refusals import PatientNotFound, StepUpRequired
from tests.factories import UserFactory
from tests.personas import ctx_for
from tests.prescriptions.conftest import article
from tests.prescriptions.drafting import criteria, draft_with, submit
from tests.prescriptions.factories import PrescriberProfileFactory

pytestmark = pytest.mark.django_db
S = PrescriptionState


# --- PRESC-1, state machine -------------------------------------------------------------------


def test_presc_1_ordinary_patient_draft_submit_approved_with_history_and_why(rx, ordinary):
    reference = draft_with(rx, ordinary, article())
    prescription_details_set(
        ctx=ctx_for(rx), reference=reference, need="Går osäkert inomhus", urgency="urgent"
    )
    prescription = submit(rx, reference)
    assert prescription.state == S.APPROVED
    history = list(prescription.transitions.values_list("from_state", "to_state", "by_id"))
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


# The refusal as the prescriber reads it, next to the need field: it names the need.
NEED_MISSING_SV = "Beskriv behovet som förskrivningen ska tillgodose."


@pytest.mark.parametrize("need", ["", "  \n  "])
def test_presc_1_submit_without_the_need_is_refused_by_the_service_and_stays_a_draft(
    rx, ordinary, need
):
    """The service itself refuses (not only the page): no need described, nothing moves. The
    refusal names the field, so every caller can show it next to the need."""
    reference = draft_with(rx, ordinary, article(), need="")
    prescription_details_set(ctx=ctx_for(rx), reference=reference, need=need)
    with translation.override("sv"), pytest.raises(FieldRefused) as refused:
        submit(rx, reference)
    assert (refused.value.field, str(refused.value)) == ("need", NEED_MISSING_SV)
    prescription = Prescription.objects.get(reference=reference)
    assert prescription.state == S.DRAFT
    assert list(prescription.transitions.values_list("to_state", flat=True)) == [S.DRAFT]
    assert not EligibilityRecord.objects.filter(prescription=prescription).exists()
    assert not OrderRelease.objects.filter(prescription=prescription).exists()


def test_presc_1_submit_goes_on_once_the_need_is_described(rx, ordinary):
    reference = draft_with(rx, ordinary, article(), need="")
    with pytest.raises(FieldRefused):
        submit(rx, reference)
    prescription_details_set(ctx=ctx_for(rx), reference=reference, need="Går osäkert inomhus")
    prescription = submit(rx, reference)
    assert (prescription.state, prescription.need) == (S.APPROVED, "Går osäkert inomhus")
    assert OrderRelease.objects.filter(prescription=prescription).exists()


def test_presc_1_presc_2_phone_order_without_the_need_is_refused_and_leaves_nothing(
    rx, ordinary, customer_service
):
    """Customer service takes the need from the prescriber on the phone: the phone order is
    held to the same submit, and an empty need leaves no prescription behind."""
    with translation.override("sv"), pytest.raises(FieldRefused) as refused:
        prescription_phone_order_create(
            ctx=ctx_for(customer_service),
            patient_reference=ordinary.reference,
            prescriber_id=rx.pk,
            unit_id=rx.staff_profile.unit_id,
            lines=[PhoneOrderLine(article_id=article().pk)],
            need=" ",
        )
    assert (refused.value.field, str(refused.value)) == ("need", NEED_MISSING_SV)
    assert not Prescription.objects.filter(patient=ordinary).exists()


def test_presc_1_state_machine_refuses_a_move_not_in_the_table(rx, ordinary):
    prescription = submit(rx, draft_with(rx, ordinary, article()))
    with pytest.raises(StateNotAllowed):
        prescription_transition_apply(prescription=prescription, to_state=S.DRAFT, actor=rx)
    with pytest.raises(StateNotAllowed):
        prescription_cancel(ctx=ctx_for(rx), reference=prescription.reference, reason="Fel artikel")


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


def test_presc_1_submit_refused_lists_every_reason(rx, ordinary):
    reference = draft_with(rx, ordinary)
    with pytest.raises(SubmitRefused) as refused:
        submit(rx, reference)
    assert refused.value.reasons
    assert Prescription.objects.get(reference=reference).state == S.DRAFT


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
        need="Behöver rollator inomhus",
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
            need="Behöver rollator inomhus",
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
            need="Behöver rollator inomhus",
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


def test_presc_6_special_adaptation_is_approved_and_ordered_as_usual(rx, ordinary):
    """The signature moved to the adaptation's work order (seed 004): approval no longer waits,
    and the eligibility record notes the adaptation for the route it takes."""
    reference = draft_with(rx, ordinary, article())
    line = Prescription.objects.get(reference=reference).lines.get()
    prescription_line_change(
        ctx=ctx_for(rx), reference=reference, line_id=line.pk, special_adaptation=True
    )
    prescription = submit(rx, reference)
    assert prescription.state == S.APPROVED
    assert criteria(prescription)["special_adaptation"]["value"] is True
    assert "special_adaptation_signed" not in criteria(prescription)
    assert OrderRelease.objects.filter(prescription=prescription).exists()

"""The region rules (REGION-1 to REGION-5) at the service level: the home region's agreement,
the registration with customer service and residence abroad, each test named by its rule."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from patients.models import Patient
from patients.transitions import transition_apply
from prescriptions.models import (
    Certificate,
    CountryGroup,
    InvoiceMark,
    Payer,
    Prescription,
    PrescriptionState,
    RegistrationState,
    SupplyRegistration,
)
from prescriptions.services.errors import RuleRefused, StateNotAllowed
from prescriptions.services.lines import prescription_line_add
from prescriptions.services.region import (
    home_region_agreement_record,
    residence_abroad_record,
    supply_registration_clear,
    supply_registration_request,
)
from prescriptions.services.state import REGISTRATION_MACHINE
from tests.personas import ctx_for
from tests.prescriptions.conftest import OTHER_REGION, accessory, article
from tests.prescriptions.drafting import NOT_WAITING, criteria, draft_with, pdf, submit

pytestmark = pytest.mark.django_db
S = PrescriptionState


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

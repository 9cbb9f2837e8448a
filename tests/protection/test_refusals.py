"""The one refusal path (protection.refusals): the gate's answer as "not found" or "confirm your
password", and AUDIT-1 for a refusal whose transaction rolls back its denied entry.

Some tests commit for real (``transaction=True``): inside the usual test transaction an outer
level always survives, and what must be proven is that the entry is in the database after the
refusing transaction is gone.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.test import RequestFactory

from patients.models import AccessAction, AccessEntry, AccessOutcome, Patient
from protection.gate import Decision
from protection.refusals import (
    Denial,
    PatientNotFound,
    Refusal,
    StepUpRequired,
    patient_answer,
    refusals_answered,
    refusals_kept,
)
from tests.factories import PatientFactory
from tests.personas import ctx_for, give_grant


def _denied(patient: Patient) -> int:
    return AccessEntry.objects.filter(patient=patient, outcome=AccessOutcome.DENIED).count()


@refusals_kept
@transaction.atomic
def _service_reading(ctx: Any, reference: str) -> None:
    """A service as the floors write them: atomic, reading the patient through the gate."""
    patient_answer(ctx, reference)


# --- the answer -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_access_1_a_missing_and_a_masked_patient_get_the_same_refusal(protected, prescriber):
    ctx = ctx_for(prescriber)
    with pytest.raises(PatientNotFound) as missing:
        patient_answer(ctx, "P-DOESNOTEXIST")
    with pytest.raises(PatientNotFound) as masked:
        patient_answer(ctx, protected.patient.reference)
    assert type(missing.value) is type(masked.value)
    assert str(missing.value) == str(masked.value)
    assert missing.value.denials == []  # nobody to log a denial about
    assert [d.patient.pk for d in masked.value.denials] == [protected.patient.pk]


@pytest.mark.django_db
def test_access_4_a_grant_holder_who_has_not_confirmed_the_password_must_step_up(
    protected, prescriber
):
    give_grant(prescriber, protected)
    with pytest.raises(StepUpRequired):
        patient_answer(ctx_for(prescriber), protected.patient.reference)
    answer = patient_answer(ctx_for(prescriber, stepped_up=True), protected.patient.reference)
    assert answer.decision is Decision.FULL


@pytest.mark.django_db
def test_audit_1_a_refusal_outside_any_service_transaction_is_logged_once(protected, prescriber):
    with pytest.raises(PatientNotFound):
        patient_answer(ctx_for(prescriber), protected.patient.reference)
    assert _denied(protected.patient) == 1


@pytest.mark.django_db
def test_audit_1_a_refusal_the_service_rolls_back_is_written_again_once(protected, prescriber):
    with pytest.raises(PatientNotFound):
        _service_reading(ctx_for(prescriber), protected.patient.reference)
    assert _denied(protected.patient) == 1


# --- real commits -----------------------------------------------------------------------------

committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@committed
def test_audit_1_committed_the_denial_of_a_rolled_back_service_is_in_the_log(protected, prescriber):
    with pytest.raises(PatientNotFound):
        _service_reading(ctx_for(prescriber), protected.patient.reference)
    assert _denied(protected.patient) == 1


@committed
def test_audit_1_committed_an_outer_transaction_rolled_back_too_keeps_one_entry(
    protected, prescriber
):
    """The kept entry is written inside the caller's transaction, which the same exception then
    rolls back: the next edge out (here the view decorator's keep) writes it once more."""

    @refusals_answered
    def view(request: HttpRequest) -> HttpResponse:
        with transaction.atomic():
            _service_reading(ctx_for(prescriber), protected.patient.reference)
        return HttpResponse()

    with pytest.raises(Http404):
        view(RequestFactory().get("/x"))
    assert _denied(protected.patient) == 1


@committed
def test_audit_1_committed_a_refusal_whose_denials_were_not_yet_written_is_written_once(
    prescriber,
):
    """A floor's own refusal (a refused document, say) hands its denials to the keep."""
    patient = PatientFactory()
    denial = Denial(
        actor=ctx_for(prescriber).actor,
        action=AccessAction.PRINT,
        patient=patient,
        object_type="document_request",
        object_id="test.kind",
    )

    @refusals_kept
    @transaction.atomic
    def refusing() -> None:
        raise Refusal("refused", denials=[denial])

    with pytest.raises(Refusal):
        refusing()
    assert list(AccessEntry.objects.filter(patient=patient).values_list("action", "outcome")) == [
        (AccessAction.PRINT, AccessOutcome.DENIED)
    ]


# --- the views' answer ------------------------------------------------------------------------


@pytest.mark.django_db
def test_house_style_5_a_view_answers_not_found_with_404(protected, prescriber):
    @refusals_answered
    def view(request: HttpRequest) -> HttpResponse:
        patient_answer(ctx_for(prescriber), protected.patient.reference)
        return HttpResponse()

    with pytest.raises(Http404):
        view(RequestFactory().get("/x"))
    assert _denied(protected.patient) == 1


@pytest.mark.django_db
def test_access_4_a_view_sends_the_grant_holder_to_step_up_and_back(protected, prescriber):
    give_grant(prescriber, protected)

    def read(request: HttpRequest, reference: str) -> HttpResponse:
        patient_answer(ctx_for(prescriber), reference)
        return HttpResponse()

    response = refusals_answered(read)(
        RequestFactory().get("/page/?tab=2"), protected.patient.reference
    )
    assert response.status_code == 302
    assert response["Location"] == "/protection/step-up/?next=%2Fpage%2F%3Ftab%3D2"

    after_post = refusals_answered(next_url=lambda request, reference: f"/back/{reference}/")(read)(
        RequestFactory().post("/page/act"), protected.patient.reference
    )
    assert after_post["Location"] == (
        f"/protection/step-up/?next=%2Fback%2F{protected.patient.reference}%2F"
    )


@pytest.mark.django_db
def test_a_view_lets_other_refusals_through_to_its_own_handling(prescriber):
    @refusals_answered
    def view(request: HttpRequest) -> HttpResponse:
        raise Refusal("a floor's own refusal")

    with pytest.raises(Refusal, match="a floor's own refusal"):
        view(RequestFactory().get("/x"))

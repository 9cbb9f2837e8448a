"""PRESC-4: the fitting of an approved prescription is recorded. (PRESC-6's signature moved to
the adaptation's work order on the logistics floor: ``logistics.services.adaptations``.)

Every service is keyword-only and atomic; it locks the prescription, then checks, then writes
(house style 3).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.models import Patient
from prescriptions.models import Prescription, PrescriptionState
from prescriptions.services.access import prescription_for_update
from prescriptions.services.delivery import DELIVERY_FIELDS, delivery_compute, presc2_enforced
from prescriptions.services.errors import RuleRefused, StateNotAllowed
from protection.gate import AccessContext
from protection.refusals import refusals_kept

S = PrescriptionState


@refusals_kept
@transaction.atomic
def prescription_fitting_record(
    *,
    ctx: AccessContext,
    reference: str,
    journal_note_confirmed: bool = False,
    liability_form_signed: bool = False,
) -> Prescription:
    """Record the fitting of an approved prescription. PRESC-4: for a protected patient no
    liability form is signed; the prescriber confirms a journal note that the information was
    given instead. An ordinary patient signs the liability form."""
    prescription = prescription_for_update(ctx, reference)
    if prescription.state != S.APPROVED:
        raise StateNotAllowed(_("Only an approved prescription can be fitted."))
    if prescription.fitted_at is not None:
        raise StateNotAllowed(_("The fitting is already recorded."))
    patient = Patient.objects.select_for_update().get(pk=prescription.patient_id)
    # PRESC-4 and PRESC-2 ask the guard as it is now (PROT-5 included); delivery follows it.
    delivery_compute(prescription=prescription, patient=patient)
    guarded = prescription.patient_protected
    if guarded:
        if liability_form_signed:
            raise RuleRefused(
                _(
                    "No liability form for a patient with protected identity: confirm the "
                    "journal note instead."
                ),
                rule="PRESC-4",
            )
        if not journal_note_confirmed:
            raise RuleRefused(
                _("Confirm that the journal notes that the information was given."),
                rule="PRESC-4",
            )
    elif not liability_form_signed:
        raise RuleRefused(_("Confirm that the liability form is signed."), rule="PRESC-4")
    prescription.fitted_at = timezone.now()
    prescription.fitted_by = ctx.user
    prescription.liability_form_signed = liability_form_signed and not guarded
    prescription.journal_note_confirmed = journal_note_confirmed
    with presc2_enforced(prescription):
        prescription.save(
            update_fields=[
                *DELIVERY_FIELDS,
                "fitted_at",
                "fitted_by",
                "liability_form_signed",
                "journal_note_confirmed",
            ]
        )
    return prescription

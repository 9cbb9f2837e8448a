"""Where an order goes (PRESC-2), and what free text may say (LEAK-1): the floor's public
delivery module, called by the prescriber's pages, phone orders, REGION-3 and the re-routing of
a newly protected patient's orders (and, later, the supply side).

Delivery is computed, never typed: a guarded patient's order (protected, or linked by the
register to a protected person, PROT-5) goes to the prescriber's unit with the prescriber as
contact, unless a recorded special agreement in force applies (LEAK-3). The database refuses a
stale protection snapshot as well (a CHECK constraint and a trigger); :func:`presc2_enforced`
turns that refusal into a domain error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from patients.identity import contains_identity_number
from patients.models import Patient
from prescriptions.models import (
    DeliveryKind,
    PickupPoint,
    Prescription,
    SpecialDeliveryAgreement,
)
from prescriptions.services.access import patient_guarded
from prescriptions.services.errors import PrescriptionError, RuleRefused
from prescriptions.services.state import prescription_draft_for_update
from protection.freetext import free_text_refusal
from protection.gate import AccessContext
from protection.refusals import refusals_kept

# The fields the delivery decision writes; saved together, so the snapshot never goes stale.
DELIVERY_FIELDS: tuple[str, ...] = (
    "patient_protected",
    "delivery_kind",
    "delivery_unit",
    "delivery_contact",
    "special_agreement",
    "pickup_point",
)

# Which rule a database refusal stands for, by a marker in its constraint or trigger name.
_DB_RULES = (("presc2_", "PRESC-2"), ("PRESC-2", "PRESC-2"), ("presc4_", "PRESC-4"))


@contextmanager
def presc2_enforced(prescription: Prescription) -> Iterator[None]:
    """Turn the database's PRESC-2/PRESC-4 refusal (CHECK constraint or trigger) into a domain
    error carrying the prescription number only. The driver's error holds the whole row in
    its DETAIL, free text included (need, fitting note): it must reach neither the user nor a
    log (LEAK-1), so it is dropped here, not chained."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        text = str(error)
        rule = next((rule for marker, rule in _DB_RULES if marker in text), None)
        if rule is None:
            raise
        raise RuleRefused(
            _(
                "Prescription %(number)s: the delivery must go to the prescriber's unit for a "
                "patient with protected identity. Open the prescription again and retry."
            )
            % {"number": prescription.reference},
            rule=rule,
        ) from None


def agreement_in_force(prescription: Prescription) -> bool:
    """LEAK-3: the chosen special agreement is the patient's own and has not ended."""
    if prescription.special_agreement_id is None:
        return False
    return SpecialDeliveryAgreement.objects.filter(
        pk=prescription.special_agreement_id,
        patient_id=prescription.patient_id,
        ended_at__isnull=True,
    ).exists()


def delivery_compute(*, prescription: Prescription, patient: Patient) -> None:
    """PRESC-2: set where the order goes, in memory (the caller saves ``DELIVERY_FIELDS``). A
    guarded patient's order (PROT-5: the gate's guard) goes to the prescriber's unit with the
    prescriber as contact, unless a recorded special agreement in force applies (LEAK-3);
    nothing is typed. The snapshot ``patient_protected`` is the guard as it is now."""
    guarded = patient_guarded(patient.pk)
    prescription.patient_protected = guarded
    if prescription.delivery_kind == DeliveryKind.SPECIAL_AGREEMENT and not (
        agreement_in_force(prescription)
    ):
        # Ended since it was chosen: the unit is the delivery that never reveals an address.
        prescription.delivery_kind = DeliveryKind.UNIT
    if guarded and prescription.delivery_kind != DeliveryKind.SPECIAL_AGREEMENT:
        prescription.delivery_kind = DeliveryKind.UNIT
    if prescription.delivery_kind == DeliveryKind.UNIT:
        prescription.delivery_unit_id = prescription.unit_id
        prescription.delivery_contact_id = prescription.prescriber_id
    else:
        prescription.delivery_unit_id = None
        prescription.delivery_contact_id = None
    if prescription.delivery_kind != DeliveryKind.SPECIAL_AGREEMENT:
        prescription.special_agreement = None
    if prescription.delivery_kind != DeliveryKind.PICKUP_POINT:
        prescription.pickup_point = None


def delivery_refresh(*, prescription: Prescription) -> None:
    """Lock the patient, recompute the delivery of a locked prescription and save it. Called
    before every change of state: the database trigger checks the delivery then, and the
    patient may have become protected (or their special agreement ended) since it was set."""
    patient = Patient.objects.select_for_update().get(pk=prescription.patient_id)
    delivery_compute(prescription=prescription, patient=patient)
    with presc2_enforced(prescription):
        prescription.save(update_fields=list(DELIVERY_FIELDS))


def free_text_check(label: str, value: str, *, patient_id: int | None = None) -> str:
    """LEAK-1: free text is read by logistics and customer service, who hold no grant: no
    identity number, and nothing of the patient's name or address. The patient's identity is
    read for the check whether or not the writer may see it (customer service taking a phone
    order may not), by the protection floor's one checker."""
    value = value.strip()
    if contains_identity_number(value):
        raise PrescriptionError(_("%(field)s: do not write a personnummer.") % {"field": label})
    if patient_id is not None and value:
        refusal = free_text_refusal(value, field=label, patient_ids=[patient_id])
        if refusal is not None:
            raise PrescriptionError(refusal)
    return value


@refusals_kept
@transaction.atomic
def prescription_delivery_set(
    *,
    ctx: AccessContext,
    reference: str,
    kind: str,
    special_agreement_id: int | None = None,
    pickup_point_id: int | None = None,
) -> Prescription:
    """Choose where an ordinary patient's delivery goes: the address, the unit, an active
    pickup point (LOG-4) or a special agreement. For a protected patient only the unit or a
    recorded special agreement (LEAK-3) is possible (PRESC-2)."""
    prescription = prescription_draft_for_update(ctx=ctx, reference=reference)
    patient = Patient.objects.select_for_update().get(pk=prescription.patient_id)
    if kind not in DeliveryKind.values:
        raise PrescriptionError(_("Delivery: choose where it goes."))
    if kind in (DeliveryKind.PATIENT_ADDRESS, DeliveryKind.PICKUP_POINT) and patient_guarded(
        patient.pk
    ):
        raise RuleRefused(
            _("For a patient with protected identity, delivery goes to your unit."),
            rule="PRESC-2",
        )
    prescription.special_agreement = None
    if kind == DeliveryKind.SPECIAL_AGREEMENT:
        agreement = (
            SpecialDeliveryAgreement.objects.filter(
                pk=special_agreement_id, patient=patient, ended_at__isnull=True
            ).first()
            if special_agreement_id is not None
            else None
        )
        if agreement is None:
            raise RuleRefused(_("There is no special delivery agreement in force."), rule="PRESC-2")
        prescription.special_agreement = agreement
    prescription.pickup_point = None
    if kind == DeliveryKind.PICKUP_POINT:
        point = (
            PickupPoint.objects.filter(pk=pickup_point_id, active=True).first()
            if pickup_point_id is not None
            else None
        )
        if point is None:
            raise PrescriptionError(_("Choose the pickup point."))
        prescription.pickup_point = point
    prescription.delivery_kind = kind
    delivery_compute(prescription=prescription, patient=patient)
    with presc2_enforced(prescription):
        prescription.save()
    return prescription

"""Reservnummer protection (PROT-1): the prescribing unit protects a patient with a reservnummer
against a threat from inside health care. It has no end date: it lasts until the unit ends it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.models import Patient, PatientIdentity
from protection.gate import AccessContext
from protection.models import ReserveNumberProtection
from protection.registry import protection_added_on_commit
from protection.services import ProtectionError
from protection.services.decisions import (
    change_record,
    flags_apply,
    own_unit_require,
    patient_lock,
    reason_check,
    role_require,
)


@transaction.atomic
def reserve_number_protection_decide(
    *, ctx: AccessContext, patient: Patient, unit_id: int, reason: str
) -> ReserveNumberProtection:
    """PROT-1: the prescribing unit protects a patient with a reservnummer (threat from inside
    health care)."""
    role_require(
        ctx,
        "protection.add_reservenumberprotection",
        _("Only a unit manager may decide reservnummer protection."),
    )
    own_unit_require(ctx, unit_id)
    reason = reason_check(reason)
    locked = patient_lock(patient.pk)
    # Only whether there is one: the number itself is never read here.
    has_reserve_number = PatientIdentity.objects.filter(
        patient_id=locked.pk, reserve_number__isnull=False
    ).exists()
    if not has_reserve_number:
        raise ProtectionError(
            _("Reservnummer: the patient has no reservnummer; register one first.")
        )
    if ReserveNumberProtection.objects.filter(patient=locked, ended_at__isnull=True).exists():
        raise ProtectionError(_("The patient already has reservnummer protection."))
    protection = ReserveNumberProtection.objects.create(
        patient=locked, unit_id=unit_id, decided_by=ctx.user, reason=reason
    )
    locked = flags_apply(locked, reserve_number_protection=True)
    change_record(ctx.actor, locked, "reserve_number_protection", protection.pk)
    protection_added_on_commit(locked.pk)  # PRINT-3, PRESC-2: protection_added_handlers
    return protection


@transaction.atomic
def reserve_number_protection_end(
    *, ctx: AccessContext, protection_id: int
) -> ReserveNumberProtection:
    """The deciding unit ends reservnummer protection. Idempotent."""
    role_require(
        ctx,
        "protection.change_reservenumberprotection",
        _("Only a unit manager may end reservnummer protection."),
    )
    patient_id = ReserveNumberProtection.objects.values_list("patient_id", flat=True).get(
        pk=protection_id
    )
    patient = patient_lock(patient_id)
    protection = ReserveNumberProtection.objects.select_for_update().get(pk=protection_id)
    own_unit_require(ctx, protection.unit_id)
    if protection.ended_at is not None:
        return protection
    protection.ended_at = timezone.now()
    protection.ended_by = ctx.user
    protection.save(update_fields=["ended_at", "ended_by"])
    change_record(ctx.actor, patient, "reserve_number_protection", protection.pk)
    # At most one decision is open per patient (a constraint), and this one just ended.
    flags_apply(patient, reserve_number_protection=False)
    return protection

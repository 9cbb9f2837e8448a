"""Held protection (PROT-3, PROT-4): the register dropping protection, or a death, never
unprotects by itself; a protection administrator lifts the hold with a recorded decision.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.identity import contains_identity_number
from patients.models import Patient, RegisterEvent, RegisterEventKind
from protection.gate import AccessContext
from protection.models import ProtectionReview
from protection.services import ProtectionError
from protection.services.decisions import change_record, patient_lock, role_require

# The register events that put a patient under protection or hold it there (PROT-3/PROT-4).
HOLD_CAUSES = (
    RegisterEventKind.PROTECTION_ADDED,
    RegisterEventKind.PROTECTION_REMOVED,
    RegisterEventKind.DECEASED,
)


def hold_cause(patient_id: int) -> RegisterEvent | None:
    """The latest register event that protected or held the patient, if any."""
    return (
        RegisterEvent.objects.filter(patient_id=patient_id, kind__in=HOLD_CAUSES)
        .order_by("-created_at", "-pk")
        .first()
    )


@transaction.atomic
def protection_hold_release(*, ctx: AccessContext, patient: Patient, note: str) -> ProtectionReview:
    """PROT-3/PROT-4: a protection administrator records the decision that lifts the hold the
    register could not lift by itself. Other kinds in force still protect the patient."""
    role_require(
        ctx,
        "protection.add_protectionreview",
        _("Only a protection administrator may release a held protection."),
    )
    note = note.strip()
    if len(note) < 10:
        raise ProtectionError(_("Note: record in a few words why the protection may be lifted."))
    if contains_identity_number(note):
        raise ProtectionError(_("Note: do not write the patient's personnummer or name."))
    locked = patient_lock(patient.pk)
    if not locked.protection_held:
        raise ProtectionError(
            _("Patient %(reference)s has no held protection to release.")
            % {"reference": locked.reference}
        )
    if locked.confidentiality_marking or locked.protected_registration:
        raise ProtectionError(
            _(
                "The register still reports sekretessmarkering or skyddad folkbokföring for "
                "patient %(reference)s; the hold can be released only once it no longer does."
            )
            % {"reference": locked.reference}
        )
    review = ProtectionReview.objects.create(
        patient=locked, decided_by=ctx.user, note=note, register_event=hold_cause(locked.pk)
    )
    change_record(ctx.actor, locked, "protection_review", review.pk)
    # Written directly, not through flags_apply: this is the recorded decision PROT-3 asks for.
    Patient.objects.filter(pk=locked.pk).update(protection_held=False, updated_at=timezone.now())
    return review

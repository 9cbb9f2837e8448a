"""Writes of the log review (AUDIT-3): a protection administrator reviews an emergency access."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.identity import contains_identity_number
from patients.models import AccessAction, AccessOutcome
from patients.services import access_entry_record
from protection.gate import AccessContext
from protection.models import EmergencyAccess
from protection.permissions import holds_role_permission
from protection.services import ProtectionError

REVIEW_PERMISSION = "protection.change_emergencyaccess"


@transaction.atomic
def emergency_access_review(*, ctx: AccessContext, access_id: int, note: str) -> EmergencyAccess:
    """ACCESS-7: mark an emergency access reviewed, with what the review found.

    Lock, then check: another administrator may have reviewed it meanwhile. Raises
    EmergencyAccess.DoesNotExist for an unknown id.
    """
    if not holds_role_permission(ctx.user, REVIEW_PERMISSION):
        raise PermissionDenied
    note = note.strip()
    if not note:
        raise ProtectionError(_("Note: write what the review found."))
    if contains_identity_number(note):
        raise ProtectionError(_("Note: do not write the patient's personnummer or name."))
    access = EmergencyAccess.objects.select_for_update().get(pk=access_id)
    if access.reviewed_at is not None:
        raise ProtectionError(_("This emergency access has already been reviewed."))
    if access.user_id == ctx.user.pk:
        raise ProtectionError(_("Someone other than the user who opened it must review it."))
    access.reviewed_by = ctx.user
    access.reviewed_at = timezone.now()
    access.review_note = note
    access.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.CHANGE,
        outcome=AccessOutcome.ALLOWED,
        patient=access.patient,
        object_type="emergency_access",
        object_id=str(access.pk),
    )
    return access

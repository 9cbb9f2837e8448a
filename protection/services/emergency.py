"""Break the glass (ACCESS-7): short-lived access without a grant, logged and reported at once."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.models import AccessAction, AccessOutcome, Patient
from patients.services import access_entry_record, notification_send
from protection.freetext import free_text_refusal
from protection.gate import AccessContext
from protection.models import EmergencyAccess
from protection.permissions import (
    PROTECTION_ADMIN_PERMISSION,
    holds_role_permission,
    users_with_permission,
)
from protection.selectors import is_suspended
from protection.services import ProtectionError


@transaction.atomic
def emergency_access_open(*, ctx: AccessContext, patient: Patient, reason: str) -> EmergencyAccess:
    """ACCESS-7: break the glass. Logged, flagged and reported to protection administrators."""
    if not holds_role_permission(ctx.user, "protection.add_emergencyaccess"):
        raise ProtectionError(_("Emergency access is for care staff in an acute situation."))
    if is_suspended(ctx.user.pk):
        # ACCESS-10: whoever set this user's password could be the one breaking the glass.
        raise ProtectionError(
            _(
                "Your account is suspended because someone else set your password. Change "
                "your password, then ask a protection administrator to confirm."
            )
        )
    reason = reason.strip()
    if len(reason) < 10:
        raise ProtectionError(_("State the reason for emergency access in a few words."))
    # The reason is read on the log review by people without a grant (LEAK-1).
    refusal = free_text_refusal(reason, field=_("Reason"), patient_ids=[patient.pk])
    if refusal is not None:
        raise ProtectionError(refusal)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    minutes = settings.PROTECTION_EMERGENCY_MINUTES
    access = EmergencyAccess.objects.create(
        user=ctx.user,
        patient=patient,
        reason=reason,
        ends_at=timezone.now() + timedelta(minutes=minutes),
    )
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.BREAK_GLASS,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type="emergency_access",
        object_id=str(access.pk),
    )
    for admin in users_with_permission(PROTECTION_ADMIN_PERMISSION):
        notification_send(
            user=admin,
            subject=_("Emergency access %(id)s to review") % {"id": access.pk},
            body=_(
                "A user opened patient %(reference)s with emergency access. "
                "Review it on the log review page."
            )
            % {"reference": patient.reference},
        )
    return access

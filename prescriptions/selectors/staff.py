"""Reads of staff applications (STAFF-1) and competence levels (STAFF-3), for the user asking.

An application is seen by its applicant, by the manager of its unit and by the account
administration; anyone else gets DoesNotExist, as for a missing one (house style 5).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from patients.models import StaffProfile
from prescriptions.models import (
    CompetenceRegistration,
    PrescriberProfile,
    StaffApplication,
    StaffApplicationState,
)
from prescriptions.services.staff import (
    COMPETENCE_PERMISSION,
    CONFIRM_PERMISSION,
    DECIDE_PERMISSION,
)
from protection.permissions import holds_role_permission


def _managed_unit_ids(user: Any) -> QuerySet[StaffProfile, Any]:
    """The unit the manager acts for, as a subquery (no query of its own)."""
    managed = StaffProfile.objects.filter(user_id=user.pk, unit_id__isnull=False)
    if not holds_role_permission(user, CONFIRM_PERMISSION):
        managed = managed.none()
    return managed.values("unit_id")


def staff_applications_visible(user: Any) -> QuerySet[StaffApplication]:
    """Every application the user may open: their own, their unit's, or all for the account
    administration."""
    applications = StaffApplication.objects.select_related(
        "applicant", "applied_by", "unit__unit", "confirmed_by", "decided_by"
    )
    if holds_role_permission(user, DECIDE_PERMISSION):
        return applications
    return applications.filter(
        Q(applicant_id=user.pk) | Q(applied_by_id=user.pk) | Q(unit_id__in=_managed_unit_ids(user))
    )


def _waiting(user: Any) -> QuerySet[StaffApplication]:
    waiting = Q(pk__in=[])
    if holds_role_permission(user, CONFIRM_PERMISSION):
        waiting |= Q(state=StaffApplicationState.SUBMITTED, unit_id__in=_managed_unit_ids(user))
    if holds_role_permission(user, DECIDE_PERMISSION):
        waiting |= Q(state=StaffApplicationState.CONFIRMED)
    return staff_applications_visible(user).filter(waiting).exclude(applicant_id=user.pk)


def staff_application_queue_for_user(user: Any) -> list[StaffApplication]:
    """What waits for this user: the manager's unconfirmed applications of their unit, the
    account administration's confirmed ones, oldest first."""
    return list(_waiting(user))


def staff_application_queue_count(user: Any) -> int:
    """The start page's count of :func:`staff_application_queue_for_user`."""
    return _waiting(user).count()


def staff_application_get_for_user(*, user: Any, reference: str) -> StaffApplication:
    """Raises StaffApplication.DoesNotExist for a missing one or one the user may not see."""
    return staff_applications_visible(user).get(reference=reference)


def prescribers_managed_by(user: Any) -> QuerySet[PrescriberProfile]:
    """STAFF-3: the prescribers of the units this manager acts for."""
    if not holds_role_permission(user, COMPETENCE_PERMISSION):
        return PrescriberProfile.objects.none()
    units = StaffProfile.objects.filter(user_id=user.pk).values_list("unit_id", flat=True)
    return (
        PrescriberProfile.objects.filter(units__in=units)
        .exclude(user_id=user.pk)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
        .distinct()
    )


def competence_levels_for_manager(user: Any) -> list[CompetenceRegistration]:
    """STAFF-3: the current level of each prescriber of the manager's units, per area."""
    return list(
        CompetenceRegistration.objects.filter(prescriber__in=prescribers_managed_by(user))
        .select_related("prescriber__user", "competence_area")
        .order_by("prescriber__user__last_name", "prescriber_id", "competence_area__name")
    )

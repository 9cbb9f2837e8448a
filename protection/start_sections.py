"""What the protection floor puts on the start page (``patients.startpage``): finding a patient,
the protection administrator's requests and emergency accesses, the unit manager's requests,
grants and local protections ending soon, and the user's own documents ("Mina dokument").

Counts and links only: no section names a patient (ACCESS-1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from django.db.models import Count, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.forms import PatientSearchForm
from patients.models import StaffProfile
from patients.startpage import StartItem, StartSection, start_section_register
from protection import review
from protection.models import (
    DocumentJob,
    DocumentState,
    GrantRequest,
    GrantRequestStatus,
    LocalProtection,
)
from protection.permissions import (
    PROTECTION_ADMIN_PERMISSION,
    UNIT_MANAGER_PERMISSION,
    holds_role_permission,
)
from protection.selectors import grants_open

# "Ending soon" for grants and local protections: two weeks, time for a unit manager to ask for
# a renewal (a grant request goes through the protection administrators) before the end.
ENDING_SOON: Final = timedelta(days=14)
# "Mina dokument" counts what finished in the last week; older documents stay on the list.
RECENT_DOCUMENTS: Final = timedelta(days=7)


def _find_patient(user: Any) -> Sequence[StartItem] | None:
    # The search view asks Django's permission (patients.view_patient), so the start page does.
    if not user.has_perm("patients.view_patient"):
        return None
    return [StartItem(_("Find patient"), reverse("patients:search"))]


def _protection_admin(user: Any) -> Sequence[StartItem] | None:
    if not holds_role_permission(user, PROTECTION_ADMIN_PERMISSION):
        return None
    requests = GrantRequest.objects.filter(status=GrantRequestStatus.REQUESTED).count()
    emergencies = review.emergency_accesses_to_review(user=user).count()
    return [
        StartItem(_("Access requests to decide"), reverse("protection:requests"), requests),
        StartItem(_("Emergency accesses to review"), reverse("protection:review"), emergencies),
        StartItem(_("Held protections"), reverse("protection:holds")),
    ]


def _unit_manager(user: Any) -> Sequence[StartItem] | None:
    if not holds_role_permission(user, UNIT_MANAGER_PERMISSION):
        return None
    unit = Subquery(StaffProfile.objects.filter(user_id=user.pk).values("unit_id")[:1])
    soon = timezone.now() + ENDING_SOON
    requests = GrantRequest.objects.filter(status=GrantRequestStatus.REQUESTED, unit_id=unit)
    grants = (
        grants_open()
        .filter(Q(user__staff_profile__unit_id=unit) | Q(request__unit_id=unit))
        .filter(ends_at__lte=soon)
    )
    local = LocalProtection.objects.filter(
        unit_id=unit,
        ended_at__isnull=True,
        ends_on__gte=timezone.localdate(),
        ends_on__lte=timezone.localdate(soon),
    )
    return [
        StartItem(
            _("The unit's access requests waiting for a decision"),
            reverse("protection:grants"),
            requests.count(),
        ),
        StartItem(_("Grants ending within 14 days"), reverse("protection:grants"), grants.count()),
        StartItem(
            _("Local protections ending within 14 days"),
            reverse("protection:unit_protections"),
            local.count(),
        ),
        StartItem(
            _("Emergency accesses to review"),
            reverse("protection:review"),
            review.emergency_accesses_to_review(user=user).count(),
        ),
    ]


def _documents(user: Any) -> Sequence[StartItem] | None:
    recent = Q(finished_at__gte=timezone.now() - RECENT_DOCUMENTS)
    ended_badly = [DocumentState.FAILED, DocumentState.REFUSED]
    counts = DocumentJob.objects.filter(requested_by_id=user.pk).aggregate(
        making=Count("pk", filter=Q(state__in=[DocumentState.QUEUED, DocumentState.RENDERING])),
        ready=Count("pk", filter=recent & Q(state=DocumentState.READY)),
        failed=Count("pk", filter=recent & Q(state__in=ended_badly)),
        any=Count("pk"),
    )
    # Those who may ask for documents (the patient page's summary) see the section always,
    # anyone else once they have a document (the store's pick lists and labels).
    if not (counts["any"] or user.has_perm("patients.view_patient")):
        return None
    url = reverse("protection:documents")
    return [
        StartItem(_("Documents being made"), url, counts["making"]),
        StartItem(_("Documents ready (last 7 days)"), url, counts["ready"]),
        StartItem(_("Documents failed or refused (last 7 days)"), url, counts["failed"]),
    ]


def register() -> None:
    start_section_register(
        StartSection(
            "patients",
            _("Patients"),
            10,
            _find_patient,
            # The prescriber's day starts with a patient: the search form is on the start page.
            template_name="protection/_start_search.html",
            panel=lambda user: {"form": PatientSearchForm()},
        )
    )
    start_section_register(
        StartSection("protection_admin", _("Protected identity"), 20, _protection_admin)
    )
    start_section_register(
        StartSection("unit_manager", _("Your unit's protected patients"), 21, _unit_manager)
    )
    start_section_register(StartSection("documents", _("My documents"), 60, _documents))

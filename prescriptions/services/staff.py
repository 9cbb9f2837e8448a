"""Staff applications for ordering rights (STAFF-1) and competence decisions (STAFF-3).

An application goes submitted -> confirmed (the unit's manager) -> approved or refused (the
account administration, which is customer service: it keeps the prescribers in the admin
already). A manager may refuse at once too. On approval the applicant gets exactly the role of
the right applied for, through ``patients.services.role_grant`` (an account event, ACCESS-10),
and a prescriber profile for the unit with that right; nothing else about the account changes.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients import roles
from patients.models import StaffProfile
from patients.services import notification_send, role_grant
from patients.transitions import StateMachine, transition_apply, transition_created
from prescriptions.models import (
    Authorisation,
    CompetenceArea,
    CompetenceDecision,
    CompetenceLevel,
    CompetenceRegistration,
    PrescriberProfile,
    PrescribingUnit,
    StaffApplication,
    StaffApplicationState,
    StaffApplicationTransition,
)
from prescriptions.services.errors import FieldRefused, PrescriptionError, StateNotAllowed
from protection.permissions import holds_role_permission, users_with_permission

CONFIRM_PERMISSION = "prescriptions.confirm_staffapplication"
DECIDE_PERMISSION = "prescriptions.decide_staffapplication"
COMPETENCE_PERMISSION = "prescriptions.add_competencedecision"

# STAFF-1: the role each type of ordering right gives. Both kinds of personal devices are
# prescribing; the unit orderer is a role of its own (STAFF-3).
ROLE_FOR_AUTHORISATION: dict[str, str] = {
    Authorisation.UNIT_ORDERER: roles.ORDERER,
    Authorisation.PERSONAL_HEALTH: roles.PRESCRIBER,
    Authorisation.PERSONAL_SOCIAL: roles.PRESCRIBER,
}

S = StaffApplicationState


def _refuse(application: Any, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Application %(reference)s is already %(state)s.")
        % {"reference": application.reference, "state": S(from_state).label}
    )


STAFF_APPLICATION = StateMachine(
    name="staff application",
    moves={
        "": frozenset({S.SUBMITTED}),
        S.SUBMITTED: frozenset({S.CONFIRMED, S.REFUSED}),
        S.CONFIRMED: frozenset({S.APPROVED, S.REFUSED}),
    },
    history_model=StaffApplicationTransition,
    subject_field="application",
    refuse=_refuse,
)


def manages_unit(user: Any, unit_id: int) -> bool:
    """Whether ``user`` is the manager of this unit (the unit they act for, with the role)."""
    return holds_role_permission(user, CONFIRM_PERMISSION) and (
        StaffProfile.objects.filter(user_id=user.pk, unit_id=unit_id).exists()
    )


def people_a_manager_may_apply_for(user: Any) -> Any:
    """STAFF-1: the active accounts at the unit this manager acts for (their staff profile names
    the unit), other than the manager: the people they may apply on behalf of."""
    if not holds_role_permission(user, CONFIRM_PERMISSION):
        return get_user_model().objects.none()
    units = StaffProfile.objects.filter(user_id=user.pk, unit_id__isnull=False).values("unit_id")
    return (
        get_user_model()
        .objects.filter(is_active=True, staff_profile__unit_id__in=units)
        .exclude(pk=user.pk)
        .order_by("last_name", "first_name", "pk")
    )


@transaction.atomic
def staff_application_submit(
    *,
    by: Any,
    unit_id: int,
    authorisation: str,
    einvoice_access: bool,
    hsa_id: str,
    title: str,
    applicant_id: int | None = None,
) -> StaffApplication:
    """STAFF-1: ``by`` applies for an ordering right at a unit, for themselves, or, as the
    unit's manager, on behalf of a person at the unit (``applicant_id``). The application
    records both; it then waits for the manager's confirmation as any other. The unit's managers
    are told (the case number only), and a person applied for is told it was sent for them."""
    hsa_id = hsa_id.strip()
    title = title.strip()
    own = applicant_id is None or applicant_id == by.pk
    if authorisation not in ROLE_FOR_AUTHORISATION:
        raise FieldRefused(_("Choose one type of ordering right."), field="authorisation")
    unit = PrescribingUnit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise FieldRefused(_("Choose the unit you will order for."), field="unit")
    if own:
        applicant = by
    else:
        if not manages_unit(by, unit.pk):
            raise FieldRefused(
                _("You can apply on someone's behalf only for the unit you manage."),
                field="unit",
            )
        applicant = people_a_manager_may_apply_for(by).filter(pk=applicant_id).first()
        if applicant is None:
            raise FieldRefused(_("Choose a person at your unit."), field="applicant")
    if not hsa_id:
        raise FieldRefused(_("Enter your HSA-id."), field="hsa_id")
    if StaffProfile.objects.filter(hsa_id=hsa_id).exclude(user_id=applicant.pk).exists():
        raise FieldRefused(
            _("This HSA-id belongs to another account. Check the HSA-id."), field="hsa_id"
        )
    if not title:
        raise FieldRefused(_("Enter your title."), field="title")
    already = (
        _("You already have an application waiting for a decision. Wait for it first.")
        if own
        else _("The person already has an application waiting for a decision.")
    )
    # Lock the account: two submits at once make one application, the second is told why.
    get_user_model().objects.select_for_update().filter(pk=applicant.pk).first()
    if StaffApplication.objects.filter(
        applicant_id=applicant.pk, state__in=(S.SUBMITTED, S.CONFIRMED)
    ).exists():
        raise PrescriptionError(already)
    try:
        with transaction.atomic():
            application = StaffApplication.objects.create(
                applicant=applicant,
                applied_by=by,
                unit=unit,
                authorisation=authorisation,
                einvoice_access=einvoice_access,
                hsa_id=hsa_id,
                title=title,
            )
    except IntegrityError as error:
        raise PrescriptionError(already) from error
    # The first history row names who sent it: the manager, for an application on behalf.
    transition_created(machine=STAFF_APPLICATION, obj=application, by=by)
    for manager in users_with_permission(CONFIRM_PERMISSION).filter(staff_profile__unit_id=unit_id):
        notification_send(
            user=manager,
            subject=_("Application %(reference)s for ordering rights waits for you")
            % {"reference": application.reference},
        )
    if not own:
        notification_send(
            user=applicant,
            subject=_("Application %(reference)s for ordering rights was sent for you")
            % {"reference": application.reference},
        )
    return application


def _locked(application_id: int) -> StaffApplication:
    return StaffApplication.objects.select_for_update().get(pk=application_id)


@transaction.atomic
def staff_application_confirm(*, by: Any, application_id: int) -> StaffApplication:
    """STAFF-1: the unit's manager confirms that the applicant works at the unit and needs the
    right. Lock, then check. Raises StaffApplication.DoesNotExist for an unknown id."""
    application = _locked(application_id)
    if not manages_unit(by, application.unit_id):
        raise PrescriptionError(_("Only the manager of the unit can confirm this application."))
    if application.applicant_id == by.pk:
        raise PrescriptionError(_("You cannot confirm your own application."))
    transition_apply(
        machine=STAFF_APPLICATION, obj=application, to_state=S.CONFIRMED, by=by, confirmed_by=by
    )
    for admin in users_with_permission(DECIDE_PERMISSION):
        notification_send(
            user=admin,
            subject=_("Application %(reference)s for ordering rights waits for a decision")
            % {"reference": application.reference},
        )
    return application


@transaction.atomic
def staff_application_decide(
    *, by: Any, application_id: int, approve: bool, reason: str = ""
) -> StaffApplication:
    """STAFF-1: the account administration approves or refuses (with a reason); a manager may
    refuse an application not yet confirmed. On approval the applicant gets exactly the role of
    the right applied for, and a prescriber profile at the unit with that right."""
    application = _locked(application_id)
    reason = reason.strip()
    is_admin = holds_role_permission(by, DECIDE_PERMISSION)
    if approve:
        if not is_admin:
            raise PrescriptionError(_("Only the account administration can approve."))
    elif not (
        is_admin or (application.state == S.SUBMITTED and manages_unit(by, application.unit_id))
    ):
        raise PrescriptionError(_("You cannot refuse this application."))
    if application.applicant_id == by.pk:
        raise PrescriptionError(_("You cannot decide your own application."))
    if not approve and not reason:
        raise FieldRefused(_("Give the reason for the refusal."), field="reason")
    transition_apply(
        machine=STAFF_APPLICATION,
        obj=application,
        to_state=S.APPROVED if approve else S.REFUSED,
        by=by,
        note=reason,
        decided_by=by,
        decided_at=timezone.now(),
        reason=reason,
    )
    applicant = application.applicant
    if approve:
        _rights_give(application)
        subject = _("Application %(reference)s for ordering rights is approved")
    else:
        subject = _("Application %(reference)s for ordering rights is refused")
    notification_send(
        user=applicant, subject=subject % {"reference": application.reference}, body=reason
    )
    return application


def _rights_give(application: StaffApplication) -> None:
    applicant = application.applicant
    staff, _created = StaffProfile.objects.select_for_update().get_or_create(user=applicant)
    changed = []
    if staff.hsa_id != application.hsa_id:
        staff.hsa_id = application.hsa_id
        changed.append("hsa_id")
    if staff.unit_id is None:
        staff.unit_id = application.unit_id
        changed.append("unit")
    if changed:
        staff.save(update_fields=changed)
    profile, created = PrescriberProfile.objects.select_for_update().get_or_create(
        user=applicant, defaults={"authorisation": application.authorisation}
    )
    if not created and profile.authorisation != application.authorisation:
        profile.authorisation = application.authorisation
        profile.save(update_fields=["authorisation"])
    profile.units.add(application.unit)
    role_grant(user=applicant, role=ROLE_FOR_AUTHORISATION[application.authorisation])


@transaction.atomic
def competence_decide(
    *,
    by: Any,
    prescriber_id: int,
    competence_area_code: str,
    level: str,
    decided_on: datetime.date,
    trained_on: datetime.date | None = None,
) -> CompetenceDecision:
    """STAFF-3: the manager of one of the prescriber's units decides the prescriber's level in a
    competence area, dated. The decision is kept; it supersedes earlier ones by becoming the
    level of the prescriber's registration, which PRESC-5 reads (``ordering_right``)."""
    if not holds_role_permission(by, COMPETENCE_PERMISSION):
        raise PrescriptionError(_("Only a manager can decide competence levels."))
    profile = PrescriberProfile.objects.select_for_update().filter(pk=prescriber_id).first()
    if profile is None:
        raise FieldRefused(_("Choose a prescriber."), field="prescriber")
    if profile.user_id == by.pk:
        raise PrescriptionError(_("You cannot decide your own competence level."))
    managed = StaffProfile.objects.filter(user_id=by.pk).values_list("unit_id", flat=True)
    if not profile.units.filter(pk__in=managed).exists():
        raise PrescriptionError(_("You can decide levels only for prescribers at your unit."))
    area = CompetenceArea.objects.filter(pk=competence_area_code).first()
    if area is None:
        raise FieldRefused(_("Choose a competence area."), field="competence_area")
    if level not in CompetenceLevel.values:
        raise FieldRefused(_("Choose a competence level."), field="level")
    if decided_on > timezone.localdate():
        raise FieldRefused(_("The decision date cannot be in the future."), field="decided_on")
    registration = (
        CompetenceRegistration.objects.select_for_update()
        .filter(prescriber=profile, competence_area=area)
        .first()
    )
    if registration is None:
        if trained_on is None and level != CompetenceLevel.NONE:
            raise FieldRefused(
                _("Enter the date the prescriber completed the training."), field="trained_on"
            )
        registration = CompetenceRegistration(
            prescriber=profile,
            competence_area=area,
            trained_on=trained_on or decided_on,
            registered_by=by,
        )
    elif trained_on is not None:
        registration.trained_on = trained_on
    registration.level = level
    registration.save()
    return CompetenceDecision.objects.create(
        prescriber=profile,
        competence_area=area,
        level=level,
        decided_on=decided_on,
        decided_by=by,
    )

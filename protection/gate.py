"""The gate: the only way to see who a patient is.

Every page, admin view, export, document and task that shows a patient asks here. The gate
decides, writes the access entry (AUDIT-1) and only then hands back a ``PatientCard``: the
full card, or the masked one (birth year and "Skyddade personuppgifter", nothing else;
ACCESS-1, PROT-2).

Rules, in order:
- an unprotected patient who is not linked by the register to a protected one: full card;
- a protected patient (PROT-1), or one linked to a protected patient (PROT-5): full card only
  with a personal grant in force for that protected patient (ACCESS-1/2) or an emergency access
  in force (ACCESS-7), and only after the user confirmed their password within the step-up
  window (ACCESS-4), and never while the user's account is suspended because someone else
  set their password (ACCESS-10); otherwise masked. Roles, groups, global permissions and
  superuser status never open a protected patient.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Now
from django.http import HttpRequest

from patients.identity import IdentityNumber
from patients.models import (
    AccessAction,
    AccessOutcome,
    Patient,
    PatientIdentity,
    PatientRelation,
)
from patients.presenters import PatientCard, full_card, masked_card
from patients.services import Actor, access_entry_record
from protection.models import EmergencyAccess, Grant, PatientUserObjectPermission
from protection.rls import PatientGuards, PatientIdForNumber, patient_guard_ids
from protection.selectors import grants_in_force, not_suspended

PROTECTED_PERMISSION = "patients.view_protected_identity"
STEP_UP_SESSION_KEY = "protection_step_up_at"

User = AbstractBaseUser | AnonymousUser


class Decision(enum.Enum):
    FULL = "full"
    MASKED = "masked"
    STEP_UP = "step_up"  # may see the patient once the password is confirmed again


@dataclass(frozen=True)
class AccessContext:
    """Who asks, from where, and their session (for step-up)."""

    user: Any
    actor: Actor
    session: SessionBase | None

    @classmethod
    def from_request(cls, request: HttpRequest) -> AccessContext:
        return cls(user=request.user, actor=Actor.from_request(request), session=request.session)

    @property
    def stepped_up(self) -> bool:
        if self.session is None:
            return False
        confirmed = self.session.get(STEP_UP_SESSION_KEY)
        window = settings.PROTECTION_STEP_UP_SECONDS
        return isinstance(confirmed, int | float) and 0 <= time.time() - confirmed <= window


@dataclass(frozen=True)
class GateAnswer:
    patient: Patient
    card: PatientCard
    decision: Decision


def _grant_in_force(user_id: int) -> QuerySet[Grant]:
    # The dates are checked here, at every access: an expired grant opens nothing even if the
    # daily clean-up has not run, and a grant dated ahead nothing before its start (ACCESS-2).
    return grants_in_force().filter(user_id=user_id, patient_id=OuterRef("pk"))


def _emergency_in_force(user_id: int) -> QuerySet[EmergencyAccess]:
    # A suspended user's emergency access opens nothing either (ACCESS-10).
    return EmergencyAccess.objects.filter(
        not_suspended(),
        user_id=user_id,
        patient_id=OuterRef("pk"),
        starts_at__lte=Now(),
        ends_at__gt=Now(),
    )


def _object_permission(user_id: int) -> QuerySet[PatientUserObjectPermission]:
    # The grant's mirror as a guardian object permission, the user's own: never a group's
    # (grants are personal, ACCESS-2), a global permission or a superuser's status.
    codename = PROTECTED_PERMISSION.partition(".")[2]
    return PatientUserObjectPermission.objects.filter(
        user_id=user_id,
        permission__content_type=ContentType.objects.get_for_model(Patient),
        permission__codename=codename,
        content_object_id=OuterRef("pk"),
    )


def protected_patients_open_to(user: User) -> QuerySet[Patient]:
    """Protected patients this user holds a grant or emergency access for, in force now."""
    if not (user.is_authenticated and user.is_active):
        return Patient.objects.none()
    user_id = int(user.pk)
    # What guardian's ``get_objects_for_user`` (user's own permission, no groups, no global
    # permission, no superuser) joined with the grant in force answered, as conditions on the
    # patient's row: the same rows, and a query built and planned in a fraction of the time on
    # every read of a guarded patient (issue 16).
    return Patient.objects.filter(
        (Exists(_grant_in_force(user_id)) & Exists(_object_permission(user_id)))
        | Exists(_emergency_in_force(user_id)),
        is_protected=True,
    )


def _linked_protected(patient: Patient, identity: PatientIdentity | None) -> QuerySet[Patient]:
    """PROT-5: protected patients the register links to this one, in either direction."""
    number = identity.personal_identity_number if identity else None
    # Numbers are sealed (LEAK-6): relations and identities are joined by their digests.
    outgoing = PatientIdentity.objects.filter(
        personal_identity_number__digest__in=PatientRelation.objects.filter(
            patient_id=patient.pk
        ).values("related_identity_number__digest")
    ).values("patient_id")
    condition = Q(pk__in=outgoing)
    if number:
        condition |= Q(
            pk__in=PatientRelation.objects.filter(related_identity_number=number).values(
                "patient_id"
            )
        )
    return Patient.objects.filter(condition, is_protected=True)


def linked_patient_ids(patient_id: int) -> list[int]:
    """The patient and the patients the register links to them in either direction (PROT-5),
    the patient first, then the others by id: whose orders, registrations and documents a
    protection reaches. Outgoing relations count even for a patient without an identity row.

    Call it in ``protection.rls.system_context``: for a user, row-level security hides the
    relations of a protected patient and the walk would come back short. Internal ids only.
    """
    outgoing = PatientIdentity.objects.filter(
        personal_identity_number__digest__in=PatientRelation.objects.filter(
            patient_id=patient_id
        ).values("related_identity_number__digest")
    ).values("patient_id")
    # A patient without a number (reservnummer only) is named by no relation: NULL matches none.
    incoming = PatientRelation.objects.filter(
        related_identity_number__digest__in=PatientIdentity.objects.filter(
            patient_id=patient_id
        ).values("personal_identity_number__digest")
    ).values("patient_id")
    linked = (
        Patient.objects.filter(Q(pk__in=outgoing) | Q(pk__in=incoming))
        .exclude(pk=patient_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [patient_id, *linked]


def guarding_patient_ids(patient: Patient, identity: PatientIdentity) -> list[int]:
    """The protected patients whose protection covers this one: itself if protected, and the
    protected patients the register links it to (PROT-5). Empty for an ordinary patient. The
    printing ban (PRINT-1) asks the same question as the gate."""
    guarding = [patient.pk] if patient.is_protected else []
    guarding += list(_linked_protected(patient, identity).values_list("pk", flat=True))
    return guarding


def decide(ctx: AccessContext, patient: Patient, identity: PatientIdentity | None) -> Decision:
    if identity is None:
        return Decision.MASKED
    # The guards as the database counts them whoever asks (PROT-5), not as the user reads the
    # relations: row-level security hides the link from a guardian to a protected child who is
    # also linked to a protected person the user cannot open, while the guardian's own identity
    # stays readable to a grant holder for the child. Counted from what the user reads, the
    # guardian had no guard and opened without step-up (ACCESS-4).
    return decide_for_guards(ctx, patient_guard_ids(patient.pk))


def decide_for_guards(ctx: AccessContext, guarding: list[int]) -> Decision:
    """The decision for a patient with these guards (``protection.rls.patient_guard_ids``,
    counted whoever asks, or ``guarding_patient_ids`` in the system context)."""
    if not guarding:
        return Decision.FULL
    open_to_user = set(
        protected_patients_open_to(ctx.user).filter(pk__in=guarding).values_list("pk", flat=True)
    )
    return _decision(ctx, guarding, open_to_user)


def _decision(ctx: AccessContext, guarding: list[int], open_to_user: set[int]) -> Decision:
    if not guarding:
        return Decision.FULL
    if not set(guarding) <= open_to_user:
        return Decision.MASKED
    return Decision.FULL if ctx.stepped_up else Decision.STEP_UP


def decide_for_guards_many(
    ctx: AccessContext, guarding: dict[int, list[int]]
) -> dict[int, Decision]:
    """:func:`decide_for_guards` for many patients (their guards by patient id), with one read
    of the user's grants for all their guards, none when no patient is guarded."""
    every_guard = {guard for guards in guarding.values() for guard in guards}
    open_to_user = (
        set(
            protected_patients_open_to(ctx.user)
            .filter(pk__in=every_guard)
            .values_list("pk", flat=True)
        )
        if every_guard
        else set()
    )
    return {pk: _decision(ctx, guards, open_to_user) for pk, guards in guarding.items()}


def _answer(
    ctx: AccessContext,
    patient: Patient,
    identity: PatientIdentity | None,
    action: AccessAction,
    read_guards: list[int] | None = None,
) -> GateAnswer:
    # The guards are read once, for the decision and for the card's print flag (PRINT-1): with
    # the patient when the gate loaded it (``_patient_with_guards``), else here.
    guards: list[int] = []
    if identity is not None:
        guards = read_guards if read_guards is not None else patient_guard_ids(patient.pk)
    decision = decide_for_guards(ctx, guards) if identity is not None else Decision.MASKED
    if decision is Decision.FULL:
        assert identity is not None
        card = replace(
            full_card(patient, identity, own_county_code=settings.REGION_COUNTY_CODE),
            guarded=bool(guards),
        )
    else:
        card = masked_card(patient)
    access_entry_record(
        actor=ctx.actor,
        action=action,
        outcome=AccessOutcome.ALLOWED if decision is Decision.FULL else AccessOutcome.DENIED,
        patient=patient,
        object_type="patient",
        object_id=patient.reference,
    )
    return GateAnswer(patient=patient, card=card, decision=decision)


def _patient_with_guards() -> QuerySet[Patient]:
    """The patient with its identity as the user may read it and its guards as the database
    counts them whoever asks (``hjm_patient_guards``, PROT-5): the gate's read in one statement."""
    return Patient.objects.select_related("home_region", "identity").annotate(
        guard_ids=PatientGuards("pk")
    )


def _guards(patient: Patient) -> list[int]:
    guards: list[int] = patient.guard_ids  # type: ignore[attr-defined]
    return guards


# No transaction of the gate's own (``patient_search_for_user``, ``patient_get_for_user``): it
# reads, then writes one row, and its reads would see no more consistent a picture inside one
# (READ COMMITTED takes a snapshot per statement). A single INSERT is atomic; if it fails the
# exception leaves before the card does, so no access goes unlogged (AUDIT-1). Inside a caller's
# transaction the entry commits or rolls back with it, as it did with a savepoint, and a failed
# INSERT now dooms that transaction rather than letting the caller carry on. What it saves is
# BEGIN and COMMIT (or SAVEPOINT and RELEASE) on every patient read: two round trips.
def patient_search_for_user(ctx: AccessContext, number: IdentityNumber) -> GateAnswer | None:
    """Find one patient by identity number. The number itself is never logged (AUDIT-4)."""
    # By id, so that a patient whose identity row-level security hides from this user is
    # still found: the hit is logged and shown masked (ACCESS-1).
    patient = (
        _patient_with_guards()
        .filter(pk=PatientIdForNumber(number.value, reserve_number=number.kind == "reservnummer"))
        .first()
    )
    if patient is None:
        access_entry_record(
            actor=ctx.actor, action=AccessAction.SEARCH, outcome=AccessOutcome.NO_MATCH
        )
        return None
    return _answer(ctx, patient, _identity(patient), AccessAction.SEARCH_HIT, _guards(patient))


def patient_get_for_user(ctx: AccessContext, reference: str) -> GateAnswer:
    """The patient page's read; raises Patient.DoesNotExist for an unknown reference."""
    patient = _patient_with_guards().get(reference=reference)
    return _answer(ctx, patient, _identity(patient), AccessAction.READ, _guards(patient))


def patient_read_for_user(ctx: AccessContext, patient: Patient) -> GateAnswer:
    """The same read of a patient the caller already loaded as the user, with
    ``select_related("home_region", "identity")`` (row-level security applies to that join as
    to the gate's own), so a page that reaches the patient through another row (the device
    card through its holder) asks the gate without reading the patient again."""
    return _answer(ctx, patient, _identity(patient), AccessAction.READ)


def _identity(patient: Patient) -> PatientIdentity | None:
    try:
        return patient.identity
    except PatientIdentity.DoesNotExist:
        return None  # hidden by row-level security: the masked card

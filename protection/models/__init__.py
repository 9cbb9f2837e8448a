"""Who may see a protected patient, and on what grounds.

A protected patient is visible only with a valid personal grant (ACCESS-1/2) or a short-lived
emergency access (ACCESS-7). A grant is mirrored as a guardian object permission on the patient
(direct foreign-key model below); the gate checks both the permission and the grant's dates, so an
expired grant opens nothing even before any cleanup has run.
"""

from __future__ import annotations

from datetime import date, timedelta

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from patients.models import Patient, RegisterEvent, Unit
from patients.transitions import TransitionRecord
from protection.models.accounts import (
    AccountEvent,
    AccountEventKind,
    AccountSuspension,
    InactivityNotice,
)
from protection.models.contact import ContactAgreement
from protection.models.documents import (
    Document,
    DocumentBatch,
    DocumentJob,
    DocumentJobPatient,
    DocumentJobTransition,
    DocumentRoute,
    DocumentState,
    Letter,
    LetterChannel,
)

__all__ = [
    "AccountEvent",
    "AccountEventKind",
    "AccountSuspension",
    "CaseClosure",
    "ContactAgreement",
    "Document",
    "DocumentBatch",
    "DocumentJob",
    "DocumentJobPatient",
    "DocumentJobTransition",
    "DocumentRoute",
    "DocumentState",
    "EmergencyAccess",
    "Grant",
    "GrantReminder",
    "GrantRequest",
    "GrantRequestStatus",
    "GrantRequestTransition",
    "InactivityNotice",
    "Letter",
    "LetterChannel",
    "LocalProtection",
    "PatientGroupObjectPermission",
    "PatientUserObjectPermission",
    "ProtectionReview",
    "ReserveNumberProtection",
]


class PatientUserObjectPermission(UserObjectPermissionBase):
    """guardian's direct foreign key to the patient: one row per personal grant in force."""

    content_object = models.ForeignKey(Patient, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class PatientGroupObjectPermission(GroupObjectPermissionBase):
    """Exists so guardian never falls back to generic rows for patients; never given out:
    grants are personal (ACCESS-2)."""

    content_object = models.ForeignKey(Patient, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class GrantRequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


@pghistory.track(append_only=True)
class GrantRequest(models.Model):
    """ACCESS-3: a unit manager asks for named staff to see a protected patient."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, verbose_name=_("unit"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("staff")
    )
    # The case or order number: never a personnummer (LEAK-2); checked by the service.
    case_reference = models.CharField(_("case or order number"), max_length=40)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=GrantRequestStatus.choices,
        default=GrantRequestStatus.REQUESTED,
    )
    created_at = models.DateTimeField(_("requested"), db_default=Now())
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True)
    decision_note = models.TextField(_("decision note"), blank=True, default="")
    # ACCESS-6: granting beyond the configured number per patient was explicitly confirmed.
    excess_confirmed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("grant request")
        verbose_name_plural = _("grant requests")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="request_dates")
        ]

    def __str__(self) -> str:
        return f"grant-request:{self.pk}"


class GrantRequestTransition(TransitionRecord):
    """History of a request's status (house style 4): who, when, from, to, and the note.

    Written only through ``patients.transitions`` with the machine in
    ``protection.services.grants``."""

    request = models.ForeignKey(GrantRequest, on_delete=models.CASCADE, related_name="transitions")

    class Meta(TransitionRecord.Meta):
        verbose_name = _("grant request transition")
        verbose_name_plural = _("grant request transitions")

    def __str__(self) -> str:
        return f"grant-request-transition:{self.pk}"


@pghistory.track(append_only=True)
class Grant(models.Model):
    """ACCESS-2: one user, one patient, a start and an end (at most a year)."""

    request = models.ForeignKey(
        GrantRequest, on_delete=models.PROTECT, related_name="grants", null=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="protection_grants",
        verbose_name=_("user"),
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    end_reason = models.CharField(_("why it ended"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="grant_dates"),
        ]
        indexes = [
            models.Index(
                fields=["user", "patient", "ends_at"],
                condition=Q(ended_at__isnull=True),
                name="grant_in_force_idx",
            )
        ]

    def __str__(self) -> str:
        return f"grant:{self.pk}"

    @property
    def last_day(self) -> date:
        """The last day the grant is in force: ``ends_at`` is the start of the day after it."""
        return timezone.localtime(self.ends_at - timedelta(microseconds=1)).date()


@pghistory.track(append_only=True)
class EmergencyAccess(models.Model):
    """ACCESS-7: break the glass. Short-lived, with a stated reason, flagged for review."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    starts_at = models.DateTimeField(db_default=Now())
    ends_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True)
    review_note = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        indexes = [models.Index(fields=["user", "patient", "ends_at"], name="emergency_idx")]

    def __str__(self) -> str:
        return f"emergency-access:{self.pk}"


@pghistory.track(append_only=True)
class LocalProtection(models.Model):
    """PROT-1: *lokalt skydd*, decided by a unit manager with a reason while Skatteverket
    decides; at most three months (checked by the service, which names the limit). PROT-6: it
    ends by itself at its end date unless renewed, and the deciding manager is reminded first.

    The patient's ``local_protection`` and ``local_protection_until`` mirror the decisions in
    force; only ``protection.services.local`` writes either side, under a lock of the patient row.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, verbose_name=_("unit"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    reason = models.TextField(_("reason"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    end_reason = models.CharField(_("why it ended"), max_length=200, blank=True, default="")
    # PROT-6: set when the deciding manager was reminded; cleared by a renewal.
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)

    class Meta:
        verbose_name = _("local protection")
        verbose_name_plural = _("local protections")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="local_protection_dates"
            )
        ]
        indexes = [
            models.Index(
                fields=["ends_on"],
                condition=Q(ended_at__isnull=True),
                name="local_protection_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"local-protection:{self.pk}"


@pghistory.track(append_only=True)
class ReserveNumberProtection(models.Model):
    """PROT-1: protection by reservnummer, for a threat from inside health care, decided by the
    prescribing unit. It has no end date: it lasts until the unit ends it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, verbose_name=_("unit"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    reason = models.TextField(_("reason"))
    decided_at = models.DateTimeField(_("decided"), db_default=Now())
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("reservnummer protection")
        verbose_name_plural = _("reservnummer protections")
        constraints = [
            # One decision in force per patient: two units deciding at once cannot both win.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(ended_at__isnull=True),
                name="reserve_number_protection_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"reserve-number-protection:{self.pk}"


@pghistory.track(append_only=True)
class ProtectionReview(models.Model):
    """PROT-3/PROT-4: a protection administrator's recorded decision to lift a protection the
    register no longer reports (or that a death ended). Nothing is revealed without one."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), db_default=Now())
    note = models.TextField(_("note"))
    # The register event that caused the hold, where one did.
    register_event = models.ForeignKey(
        RegisterEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("protection review")
        verbose_name_plural = _("protection reviews")

    def __str__(self) -> str:
        return f"protection-review:{self.pk}"


class GrantReminder(models.Model):
    """A grant's holder and requesting manager were told that it ends soon; once per grant."""

    grant = models.OneToOneField(
        Grant, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    reminded_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"grant-reminder:{self.pk}"


class CaseClosure(models.Model):
    """ACCESS-8: a higher floor closed a case (prescription, order, pickup or work order) of a
    unit for a patient who has grants requested by that unit. Written in the transaction that
    closed the case; handled after it commits (and by a sweep, should the message be lost):
    when the unit has no open case left for the patient, the grants its requests gave end."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(db_default=Now())
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["recorded_at"],
                condition=Q(handled_at__isnull=True),
                name="case_closure_unhandled",
            )
        ]

    def __str__(self) -> str:
        return f"case-closure:{self.pk}"

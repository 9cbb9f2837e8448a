"""Who may see a protected patient, and on what grounds.

A protected patient is visible only with a valid personal grant (ACCESS-1/2) or a short-lived
emergency access (ACCESS-7). A grant is mirrored as a guardian object permission on the patient
(direct foreign-key model below); the gate checks both the permission and the grant's dates, so an
expired grant opens nothing even before any cleanup has run.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from patients.models import Patient, Unit


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

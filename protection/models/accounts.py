"""Changes to accounts, and the suspension a password set by someone else brings (ACCESS-10).

An account change is access-relevant: whoever can set another user's password, or put an
account in a group, can log in as that user and open what the user may open. So every change
is recorded here, append-only (a database trigger refuses UPDATE and DELETE, migration
0014_account_changes), and the log review shows it highlighted (AUDIT-3).
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class AccountEventKind(models.TextChoices):
    CREATED = "created", _("New account")
    PASSWORD_BY_OTHER = "password_by_other", _("Password set by someone else")
    PASSWORD_OWN = "password_own", _("Password set by the user")
    GROUPS = "groups", _("Role changed")
    PERMISSIONS = "permissions", _("Permissions changed")
    UNIT = "unit", _("Unit changed")
    STATUS = "status", _("Account status changed")
    SUSPENSION_LIFTED = "suspension_lifted", _("Suspension lifted")
    LOCKED_OUT = "locked_out", _("Locked out after failed logins")


class AccountEvent(models.Model):
    """One change to one account: who made it, whose account, what kind, when. Never a
    password, nor anything typed by whoever failed to log in."""

    at = models.DateTimeField(_("when"), db_default=Now(), db_index=True)
    kind = models.CharField(_("change"), max_length=24, choices=AccountEventKind.choices)
    # NULL: nobody was logged in (a management command, a task, a login attempt).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("account"),
    )
    # What changed, in words of the product: group names, a unit's name, flags. No secrets.
    detail = models.CharField(_("detail"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("account change")
        verbose_name_plural = _("account changes")
        # Append-only: once written, a change stays as it was recorded. TRUNCATE is let
        # through, as for every table, so that a test database can be emptied.
        triggers = [
            pgtrigger.Protect(
                name="account_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"account-event:{self.pk}"


class AccountSuspension(models.Model):
    """ACCESS-10: the user's grants and emergency access count for nothing while this is open
    (``lifted_at`` empty). It opens when someone else sets the user's password, and is lifted
    by a protection administrator once the user has set their own (``own_password_at``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(AccountEvent, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("suspended"), db_default=Now())
    own_password_at = models.DateTimeField(_("own password set"), null=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("account suspension")
        verbose_name_plural = _("account suspensions")
        constraints = [
            # One open suspension per user: a second password set by someone else renews it.
            models.UniqueConstraint(
                fields=["user"], condition=Q(lifted_at__isnull=True), name="one_open_suspension"
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True)
                | Q(own_password_at__isnull=False, lifted_by__isnull=False),
                name="lifted_after_own_password",
            ),
        ]

    def __str__(self) -> str:
        return f"account-suspension:{self.pk}"


class InactivityNotice(models.Model):
    """STAFF-2: the user was told that their unused account is about to be deactivated.

    One row per user and period of disuse (``unused_since``: the last login, or the creation of
    an account never used, that the notice counted from). The unique key is the claim: an
    overlapping run or a retry cannot tell the user twice, and a user who logs in and then
    falls silent again starts a new period and is told again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unused_since = models.DateTimeField(_("unused since"))
    deactivates_on = models.DateField(_("deactivated on"))
    notified_at = models.DateTimeField(_("told"), db_default=Now())

    class Meta:
        verbose_name = _("inactivity notice")
        verbose_name_plural = _("inactivity notices")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unused_since"], name="one_inactivity_notice_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"inactivity-notice:{self.pk}"

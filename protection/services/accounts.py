"""Account changes and the suspension they may bring (ACCESS-10).

Whoever can set another user's password can log in as that user; whoever can put an account in
a group can give it a role. So every change to an account is recorded as an
:class:`~protection.models.AccountEvent`, and a password set by anyone but the user suspends
the user's grants and emergency access (``protection.selectors.not_suspended``) until the user
has set their own password and a protection administrator, who is not the user, confirms.

The recording services are called by ``protection.account_watch``, which notices the changes
wherever they are made (the admin, a management command, any page).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _

from protection.gate import AccessContext
from protection.models import AccountEvent, AccountEventKind, AccountSuspension
from protection.permissions import PROTECTION_ADMIN_PERMISSION, holds_role_permission
from protection.selectors import open_suspensions
from protection.services import ProtectionError

DETAIL_LENGTH = AccountEvent._meta.get_field("detail").max_length or 300


def account_event_record(
    *, kind: AccountEventKind, subject_id: int | None, actor_id: int | None, detail: str = ""
) -> AccountEvent:
    """Write one account event. ``detail`` says what changed in the product's words; never a
    password."""
    return AccountEvent.objects.create(
        kind=kind, subject_id=subject_id, actor_id=actor_id, detail=detail[:DETAIL_LENGTH]
    )


@transaction.atomic
def account_password_record(*, subject_id: int, actor_id: int | None) -> AccountEvent:
    """A new password for ``subject_id``, set by ``actor_id`` (None: nobody logged in, as with
    ``manage.py changepassword``).

    Set by the user: recorded, and an open suspension notes that the user has their own
    password now. Set by anyone else: recorded, and the user is suspended; a suspension
    already open starts again, since the password the user had set is no longer theirs.
    """
    # Lock the account, so that two changes at once do not both open a suspension.
    get_user_model().objects.select_for_update().filter(pk=subject_id).first()
    if actor_id is not None and actor_id == subject_id:
        event = account_event_record(
            kind=AccountEventKind.PASSWORD_OWN, subject_id=subject_id, actor_id=actor_id
        )
        open_suspensions().filter(user_id=subject_id).update(own_password_at=Now())
        return event
    event = account_event_record(
        kind=AccountEventKind.PASSWORD_BY_OTHER, subject_id=subject_id, actor_id=actor_id
    )
    renewed = (
        open_suspensions()
        .filter(user_id=subject_id)
        .update(event=event, started_at=Now(), own_password_at=None)
    )
    if not renewed:
        AccountSuspension.objects.create(user_id=subject_id, event=event)
    return event


@transaction.atomic
def account_suspension_lift(*, ctx: AccessContext, suspension_id: int) -> AccountSuspension:
    """ACCESS-10: a protection administrator confirms that the user has their own password
    again, and the user's grants count once more.

    Lock, then check. Raises AccountSuspension.DoesNotExist for an unknown id.
    """
    if not holds_role_permission(ctx.user, PROTECTION_ADMIN_PERMISSION):
        raise PermissionDenied
    suspension = (
        # Lock the suspension only: the account log is append-only (no UPDATE privilege).
        AccountSuspension.objects.select_for_update(of=("self",))
        .select_related("event")
        .get(pk=suspension_id)
    )
    if suspension.lifted_at is not None:
        raise ProtectionError(_("This suspension has already been lifted."))
    if suspension.user_id == ctx.user.pk:
        raise ProtectionError(_("Another protection administrator must confirm your account."))
    # The second person must be one: not the administrator whose password change caused the
    # suspension, and not an account that is itself suspended (a fresh account whose password
    # that administrator set is suspended too, so it cannot stand in as the second person).
    if suspension.event.actor_id == ctx.user.pk:
        raise ProtectionError(
            _("You set this password yourself: another protection administrator must confirm.")
        )
    if open_suspensions().filter(user_id=ctx.user.pk).exists():
        raise ProtectionError(
            _(
                "Your own account is suspended until your password is confirmed: you cannot "
                "confirm another account."
            )
        )
    if suspension.own_password_at is None:
        raise ProtectionError(
            _(
                "The user has not set a password of their own yet. Ask them to change their "
                "password first, then confirm."
            )
        )
    suspension.lifted_at = timezone.now()
    suspension.lifted_by = ctx.user
    suspension.save(update_fields=["lifted_at", "lifted_by"])
    account_event_record(
        kind=AccountEventKind.SUSPENSION_LIFTED,
        subject_id=suspension.user_id,
        actor_id=ctx.user.pk,
    )
    return suspension


def account_lockout_record(*, username: str) -> AccountEvent:
    """A login locked out after too many failures (django-axes). The account is named only if
    it exists: what someone typed into the username field may be anything, even a
    personnummer, and is not kept here (an event without an account is a lockout of a name
    that is no account)."""
    subject: Any = get_user_model().objects.filter(username=username).first()
    return account_event_record(
        kind=AccountEventKind.LOCKED_OUT,
        subject_id=subject.pk if subject is not None else None,
        actor_id=None,
    )

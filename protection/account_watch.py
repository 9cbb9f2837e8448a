"""Notice every change to an account, wherever it is made, and have it recorded (ACCESS-10).

Accounts change in Django's user admin, in the staff-profile admin, through ``manage.py
changepassword`` and ``createsuperuser``, on the user's own password page, and in whatever page
or command is added later. Hooks in each of those places could be forgotten in the next one, so
the changes are noticed where all of them end: the saves of the user and the staff profile and
the changes of the user's groups and permissions. House style keeps business logic out of
signals; these receivers decide nothing but what changed and who did it, and hand that to
``protection.services.accounts``, which records it and suspends where the rules say so, and
a billing role added to ``protection.services.grants``, which ends the user's grants (ACCESS-9).

Who made the change is the user of the request in progress (:class:`AccountActorMiddleware`);
outside a request (a management command, a task) nobody is logged in, which counts as someone
other than the user. A change made with ``QuerySet.update()`` or raw SQL sends no signal; the
product changes accounts only through the models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from django.utils.translation import gettext as _

from patients.models import StaffProfile, Unit
from patients.roles import BILLING
from protection.models import AccountEventKind
from protection.services.accounts import account_event_record, account_password_record
from protection.services.grants import billing_staff_grants_end

_request: ContextVar[HttpRequest | None] = ContextVar("account_change_request", default=None)

# The user's fields whose change is access-relevant, besides the password.
_STATUS_FIELDS = ("is_superuser", "is_staff", "is_active")
_WATCHED_FIELDS = frozenset({"password", *_STATUS_FIELDS})
# Set on the instance between pre_save and post_save: what the row held before the save.
_BEFORE = "_account_watch_before"


class AccountActorMiddleware:
    """Makes the request known to the receivers below, so that a change names its actor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with _acting_request(request):
            return self.get_response(request)


@contextmanager
def _acting_request(request: HttpRequest) -> Iterator[None]:
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


def _actor_id() -> int | None:
    request = _request.get()
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return int(user.pk)


def _flag_words(values: dict[str, Any]) -> str:
    # Recorded in the product's language, whoever's browser asked: the log is read later.
    with translation.override(settings.LANGUAGE_CODE):
        return _flag_words_now(values)


def _flag_words_now(values: dict[str, Any]) -> str:
    names = {
        "is_superuser": _("superuser"),
        "is_staff": _("administration site"),
        "is_active": _("active"),
    }
    return ", ".join(
        f"{names[field]}: {_('yes') if values[field] else _('no')}" for field in _STATUS_FIELDS
    )


def _user_before_save(
    sender: Any, instance: Any, raw: bool, update_fields: frozenset[str] | None, **kwargs: Any
) -> None:
    if raw:
        return  # fixtures loaded as they are
    if update_fields is not None and not _WATCHED_FIELDS & set(update_fields):
        return  # the last login, a name: nothing access-relevant
    if (
        update_fields is not None
        and set(update_fields) == {"password"}
        and (instance._password is None)
    ):
        # Django re-hashing the password at login with a newer hasher: the same password.
        return
    before = None
    if not instance._state.adding:
        before = sender.objects.filter(pk=instance.pk).values("password", *_STATUS_FIELDS).first()
    setattr(instance, _BEFORE, before or {})


def _user_after_save(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    before = instance.__dict__.pop(_BEFORE, None)
    if before is None:
        return
    actor_id = _actor_id()
    now = {field: getattr(instance, field) for field in _STATUS_FIELDS}
    if created:
        account_event_record(
            kind=AccountEventKind.CREATED,
            subject_id=instance.pk,
            actor_id=actor_id,
            detail=_flag_words(now),
        )
        if instance.has_usable_password():
            account_password_record(subject_id=instance.pk, actor_id=actor_id)
        return
    if before and any(before[field] != now[field] for field in _STATUS_FIELDS):
        account_event_record(
            kind=AccountEventKind.STATUS,
            subject_id=instance.pk,
            actor_id=actor_id,
            detail=_flag_words(now),
        )
    if before and before["password"] != instance.password and instance.has_usable_password():
        account_password_record(subject_id=instance.pk, actor_id=actor_id)


def _names(model: type[Group] | type[Permission], pks: set[int]) -> str:
    field = "name" if model is Group else "codename"
    return ", ".join(sorted(model.objects.filter(pk__in=pks).values_list(field, flat=True)))


def _membership_changed(kind: AccountEventKind) -> Callable[..., None]:
    """A receiver for the groups (roles) or the permissions of users, either side of the
    relation: ``user.groups.add(group)`` and ``group.user_set.add(user)`` alike."""

    def receiver(
        sender: Any,
        instance: Any,
        action: str,
        reverse: bool,
        model: Any,
        pk_set: set[int] | None,
        **kwargs: Any,
    ) -> None:
        if action not in ("post_add", "post_remove", "pre_clear"):
            return
        sign = "+" if action == "post_add" else "-"
        related = Permission if kind is AccountEventKind.PERMISSIONS else Group
        accessor = "user_permissions" if kind is AccountEventKind.PERMISSIONS else "groups"
        if reverse:
            # ``instance`` is the group or permission; ``pk_set`` the users.
            users = set(pk_set or ()) or set(instance.user_set.values_list("pk", flat=True))
            changes = {user_id: {instance.pk} for user_id in users}
        else:
            items = set(pk_set or ()) or set(
                getattr(instance, accessor).values_list("pk", flat=True)
            )
            changes = {instance.pk: items} if items else {}
        actor_id = _actor_id()
        for user_id, pks in changes.items():
            added = _names(related, pks)
            account_event_record(
                kind=kind, subject_id=user_id, actor_id=actor_id, detail=f"{sign} {added}"
            )
            if action == "post_add" and related is Group and BILLING in added.split(", "):
                billing_staff_grants_end(user_id=user_id, actor_id=actor_id)

    return receiver


def _profile_before_save(sender: Any, instance: StaffProfile, raw: bool, **kwargs: Any) -> None:
    if raw:
        return
    before = None
    if not instance._state.adding:
        before = (
            StaffProfile.objects.filter(pk=instance.pk).values_list("unit_id", flat=True).first()
        )
    setattr(instance, _BEFORE, {"unit_id": before})


def _profile_after_save(sender: Any, instance: StaffProfile, **kwargs: Any) -> None:
    before = instance.__dict__.pop(_BEFORE, None)
    if before is None or before["unit_id"] == instance.unit_id:
        return
    unit = None
    if instance.unit_id is not None:
        unit = Unit.objects.filter(pk=instance.unit_id).values_list("name", flat=True).first()
    account_event_record(
        kind=AccountEventKind.UNIT,
        subject_id=instance.user_id,
        actor_id=_actor_id(),
        detail=unit or "-",
    )


_groups_changed = _membership_changed(AccountEventKind.GROUPS)
_permissions_changed = _membership_changed(AccountEventKind.PERMISSIONS)


def connect() -> None:
    """Called once from ``ProtectionConfig.ready``."""
    user_model = get_user_model()
    uid = "protection.account_watch"
    pre_save.connect(_user_before_save, sender=user_model, dispatch_uid=f"{uid}.user.pre")
    post_save.connect(_user_after_save, sender=user_model, dispatch_uid=f"{uid}.user.post")
    m2m_changed.connect(
        _groups_changed, sender=user_model.groups.through, dispatch_uid=f"{uid}.groups"
    )
    m2m_changed.connect(
        _permissions_changed,
        sender=user_model.user_permissions.through,
        dispatch_uid=f"{uid}.permissions",
    )
    pre_save.connect(_profile_before_save, sender=StaffProfile, dispatch_uid=f"{uid}.unit.pre")
    post_save.connect(_profile_after_save, sender=StaffProfile, dispatch_uid=f"{uid}.unit.post")

"""Writes on the patients floor: the access log, roles and staff."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.http import HttpRequest

from patients.bulk import instances_insert
from patients.models import (
    AccessAction,
    AccessEntry,
    AccessOutcome,
    Notification,
    Patient,
    StaffProfile,
)
from patients.roles import ROLE_PERMISSIONS


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where: what every access entry records (AUDIT-1)."""

    user_id: int | None
    unit_id: int | None
    ip_address: str | None
    session_ref: str

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = request.user
        unit_id = None
        if user.is_authenticated:
            # The user comes with the profile joined (patients.auth.StaffModelBackend), read in
            # this request: a changed unit counts at once. Otherwise this reads it.
            try:
                unit_id = user.staff_profile.unit_id
            except StaffProfile.DoesNotExist:
                unit_id = None
        session_key = request.session.session_key or ""
        # The session key is a credential: only a short digest of it is stored.
        session_ref = hashlib.sha256(session_key.encode()).hexdigest()[:16] if session_key else ""
        return cls(
            user_id=user.pk if user.is_authenticated else None,
            unit_id=unit_id,
            ip_address=request.META.get("REMOTE_ADDR") or None,
            session_ref=session_ref,
        )

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id=None, unit_id=None, ip_address=None, session_ref="")


def access_entry_record(
    *,
    actor: Actor,
    action: AccessAction,
    outcome: AccessOutcome,
    patient: Patient | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AccessEntry:
    """Write one access entry. Callers hold the transaction of the access they log."""
    (entry,) = access_entries_record_each(
        actor=actor, action=action, object_type=object_type, entries=[(patient, object_id, outcome)]
    )
    return entry


def access_entries_record(
    *,
    actor: Actor,
    action: AccessAction,
    outcome: AccessOutcome,
    patients: Sequence[Patient],
    object_type: str = "",
    object_id: str = "",
) -> None:
    """:func:`access_entry_record` for each of ``patients``, in one INSERT (a document about
    hundreds of patients). Callers hold the transaction of the access they log."""
    access_entries_record_each(
        actor=actor,
        action=action,
        object_type=object_type,
        entries=[(patient, object_id, outcome) for patient in patients],
    )


def access_entries_record_each(
    *,
    actor: Actor,
    action: AccessAction,
    object_type: str,
    entries: Sequence[tuple[Patient | None, str, AccessOutcome]],
) -> list[AccessEntry]:
    """One access entry for each (patient, object id, outcome) of ``entries``, in one INSERT: a
    list that shows patients row by row logs each row's object (the prescription, the order).
    Every other way of writing entries comes here, so that an entry is built in one place."""
    # One array per column (patients.bulk): a list of hundreds of patients is logged without
    # compiling a SQL fragment per value, as bulk_create would.
    return instances_insert(
        [
            AccessEntry(
                user_id=actor.user_id,
                unit_id=actor.unit_id,
                action=action,
                outcome=outcome,
                patient=patient,
                patient_protected=bool(patient is not None and patient.is_protected),
                object_type=object_type,
                object_id=object_id,
                ip_address=actor.ip_address,
                session_ref=actor.session_ref,
            )
            for patient, object_id, outcome in entries
        ]
    )


def role_permissions() -> dict[str, tuple[str, ...]]:
    """Each floor lists what its roles need in ``<app>/roles.py``; gathered like admin modules,
    so this floor never imports a higher one."""
    merged: dict[str, list[str]] = {role: list(perms) for role, perms in ROLE_PERMISSIONS.items()}
    for config in apps.get_app_configs():
        if config.name == "patients":
            continue
        try:
            module = import_module(f"{config.name}.roles")
        except ModuleNotFoundError:
            continue
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            merged.setdefault(role, []).extend(perms)
    return {role: tuple(perms) for role, perms in merged.items()}


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Make each role group hold exactly the permissions its floors list for it."""
    counts: dict[str, int] = {}
    for role, permission_names in role_permissions().items():
        group, _ = Group.objects.select_for_update().get_or_create(name=role)
        permissions = []
        for name in permission_names:
            app_label, codename = name.split(".", 1)
            permissions.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)
        counts[role] = len(permissions)
    return counts


@transaction.atomic
def role_grant(*, user: Any, role: str) -> None:
    """Put ``user`` in the group of ``role``, and in no other group for it: the one way a
    decision in the product gives a role (STAFF-1). The change to the account is recorded as
    an account event (ACCESS-10) by the account watch, like any change of groups."""
    if role not in role_permissions():
        raise ValueError(f"unknown role {role!r}")
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)


def notification_send(*, user: Any, subject: str, body: str = "") -> Notification | None:
    """Tell one user something. Callers pass subjects with case numbers or internal
    references only (LEAK-2); inactive users get nothing."""
    if user is None or not user.is_active:
        return None
    return Notification.objects.create(user=user, subject=subject[:200], body=body)

"""Permissions that act on protected patients are held through a role, never otherwise.

Django's ``has_perm`` is true for every permission of a superuser, and would honour a
permission given to one user by hand. For anything that opens, protects or unprotects a patient
the product asks for the permission of the user's role (group), and a superuser gets no silent
power here (ACCESS-1: "a superuser ... without a grant see[s] the same masked row as anyone").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

# The role that decides grant requests and hears of every protection event (ACCESS-3, PROT-4).
PROTECTION_ADMIN_PERMISSION = "protection.change_grantrequest"
# The role that requests grants for its unit's staff and decides local protection (ACCESS-3).
UNIT_MANAGER_PERMISSION = "protection.add_grantrequest"


def holds_role_permission(user: Any, perm: str) -> bool:
    """Whether this user holds ``perm`` through their role: the question asked of one user."""
    if not (user.is_authenticated and user.is_active) or user.is_superuser:
        return False
    return perm in user.get_group_permissions()


def users_with_permission(perm: str) -> QuerySet[Any]:
    """Every user who holds ``perm`` through their role: the same answer as
    :func:`holds_role_permission`, asked of all users at once (who to tell, who may decide).
    Active users only, never a superuser for being one, never a permission given by hand."""
    app_label, codename = perm.split(".", 1)
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            is_superuser=False,
            groups__permissions__content_type__app_label=app_label,
            groups__permissions__codename=codename,
        )
        .distinct()
    )


def unit_managers(unit_ids: set[int]) -> list[Any]:
    """The managers of these units: who may request grants for the unit (ACCESS-3)."""
    if not unit_ids:
        return []
    return list(
        users_with_permission(UNIT_MANAGER_PERMISSION).filter(staff_profile__unit_id__in=unit_ids)
    )


def permissions_read_once(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Reads all the user's permissions in one query before the view asks for its role's: the
    role checks (``holds_role_permission`` reads the group permissions alone) and the menu's
    (``has_perm``, all of them) then answer from that one read instead of a query each. For a
    view whose page is the product's hot path (the device card, issue 10); the answers are the
    same, and the read, as every permission read here, lives no longer than the request."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A superuser holds no role here (refused by the checks with no read at all).
        if request.user.is_authenticated and not request.user.is_superuser:
            request.user.get_all_permissions()
        return view(request, *args, **kwargs)

    return wrapped


def role_permission_required(
    perm: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not holds_role_permission(request.user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

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

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def holds_role_permission(user: Any, perm: str) -> bool:
    if not (user.is_authenticated and user.is_active) or user.is_superuser:
        return False
    return perm in user.get_group_permissions()


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

"""Who is asking, read in fewer round trips on every request, and nothing of it kept between them.

Every page asks who the user is (the session's user), what their role allows (Django's
permissions) and which unit they act for (the access entry's unit, AUDIT-1). Django's
``ModelBackend`` reads those in four statements: the user, the user's own permissions, their
groups' permissions and, in ``patients.services.Actor``, the staff profile. This backend reads
them in two: the user with their staff profile, and both kinds of permission in one ``UNION``.

Nothing is cached beyond the request (the user object lives as long as it does): a withdrawn
role, a changed unit or a deactivated account counts from the next request on, in every web
process, with no version to bump and no window in which the old rights still work (issue 16;
tests/patients/test_auth_backend.py proves it).

Replacing ``django.contrib.auth.backends.ModelBackend`` in ``AUTHENTICATION_BACKENDS`` by this
one signs out sessions that were opened under the old name once, when it is deployed: Django
only trusts a session's backend if it is still configured.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import CharField, Value


class StaffModelBackend(ModelBackend):
    """``ModelBackend`` with the staff profile joined to the user and one permission query."""

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        # The staff profile may be missing (an administrator without a unit): a LEFT JOIN, and
        # ``user.staff_profile`` then raises DoesNotExist without a query, as Django caches
        # the absent reverse one-to-one row too.
        user = (
            user_model._default_manager.select_related("staff_profile").filter(pk=user_id).first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if (
            obj is not None
            or not user_obj.is_active
            or user_obj.is_anonymous
            or user_obj.is_superuser  # all permissions: Django's own query
            or hasattr(user_obj, "_perm_cache")
        ):
            return super().get_all_permissions(user_obj, obj)
        own = (
            Permission.objects.filter(user=user_obj)
            .annotate(source=Value("user", output_field=CharField()))
            .values_list("source", "content_type__app_label", "codename")
        )
        through_groups = (
            Permission.objects.filter(group__user=user_obj)
            .annotate(source=Value("group", output_field=CharField()))
            .values_list("source", "content_type__app_label", "codename")
        )
        user_perms: set[str] = set()
        group_perms: set[str] = set()
        for source, app_label, codename in own.union(through_groups, all=True):
            (user_perms if source == "user" else group_perms).add(f"{app_label}.{codename}")
        # The caches ModelBackend fills, so that its get_user_permissions and
        # get_group_permissions answer from this read too.
        user_obj._user_perm_cache = user_perms
        user_obj._group_perm_cache = group_perms
        user_obj._perm_cache = user_perms | group_perms
        return set(user_obj._perm_cache)

"""The staff account admin, so that deactivating someone there ends their grants at once.

Django's own user admin would only flip ``is_active``; access would already be refused (an
inactive user has no session), but the grants would linger until the nightly clean-up. Here the
change goes through ``protection.services.grants.staff_deactivate`` (ACCESS-5).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients.services import role_permissions
from protection.gate import AccessContext
from protection.services.grants import staff_deactivate

User = get_user_model()


# Django stores its permissions' names in English ("Can add prescription"); the pickers name
# them from the models' translated names instead.
DEFAULT_PERMISSION_NAMES = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    """The permission as the picker shows it: the app and model, then what it allows."""
    content_type = permission.content_type
    model = content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if (
        model is not None
        and action in DEFAULT_PERMISSION_NAMES
        and model_name == model._meta.model_name
    ):
        name = str(DEFAULT_PERMISSION_NAMES[action] % {"model": model._meta.verbose_name})
    else:
        # The product's own permissions are named with gettext_lazy; the catalogue knows them.
        name = gettext(permission.name)
    return f"{content_type.app_labeled_name} | {name}"


def offered_permissions(site: admin.AdminSite) -> QuerySet[Permission]:
    """The permissions the pickers offer: those of the models the administration shows, those
    a role holds (``role_permissions``), and any already given to a group or a user (so that
    saving keeps them). Not the history tables', nor the libraries' inner tables' (object
    permissions, history contexts): nobody is meant to be given those, and they have no
    names in Swedish."""
    shown = ContentType.objects.get_for_models(*site._registry).values()
    offered = Q(content_type__in=shown) | Q(group__isnull=False) | Q(user__isnull=False)
    for names in role_permissions().values():
        for name in names:
            app_label, codename = name.split(".", 1)
            offered |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(
        pk__in=Permission.objects.filter(offered).values("pk")
    ).select_related("content_type")


class _PermissionsInWords:
    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Permission:
            kwargs["queryset"] = offered_permissions(self.admin_site)  # type: ignore[attr-defined]
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if formfield is not None and db_field.related_model is Permission:
            formfield.label_from_instance = permission_label
        return formfield


# Django's own many-to-many rows, named in English when Django builds their models ("User-group
# relationship: User_groups object (7)"): on the group's delete page, said in words instead.
GROUP_ROWS = {
    User.groups.through: _("Members leaving the group %(group)s: %(names)s"),
    Group.permissions.through: _("Permissions taken from the group %(group)s: %(count)s"),
}


def _without_rows(items: list[Any], prefixes: tuple[str, ...]) -> list[Any]:
    kept: list[Any] = []
    for item in items:
        if isinstance(item, list):
            nested = _without_rows(item, prefixes)
            if nested:
                kept.append(nested)
        elif not str(item).startswith(prefixes):
            kept.append(item)
    return kept


class StaffGroupAdmin(_PermissionsInWords, GroupAdmin):  # type: ignore[misc]
    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        prefixes = tuple(f"{capfirst(model._meta.verbose_name)}: " for model in GROUP_ROWS)
        plurals = {str(model._meta.verbose_name_plural) for model in GROUP_ROWS}
        deleted = _without_rows(deleted, prefixes)
        for group in objs:
            members = [user.get_full_name() or user.get_username() for user in group.user_set.all()]
            if members:
                deleted.append(
                    GROUP_ROWS[User.groups.through]
                    % {"group": group.name, "names": ", ".join(sorted(members))}
                )
            permissions = group.permissions.count()
            if permissions:
                deleted.append(
                    GROUP_ROWS[Group.permissions.through]
                    % {"group": group.name, "count": permissions}
                )
        counts = {name: count for name, count in counts.items() if str(name) not in plurals}
        return deleted, counts, perms_needed, protected


class StaffUserAdmin(_PermissionsInWords, UserAdmin):  # type: ignore[type-arg]
    # Recorded by the system, not typed: when the user last logged in and since when the
    # account exists.
    readonly_fields = ("last_login", "date_joined")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        was_active = change and User.objects.filter(pk=obj.pk, is_active=True).exists()
        super().save_model(request, obj, form, change)
        if was_active and not obj.is_active:
            staff_deactivate(ctx=AccessContext.from_request(request), user_id=obj.pk)


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, StaffGroupAdmin)

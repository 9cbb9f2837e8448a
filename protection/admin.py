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
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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


class _PermissionsInWords:
    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if formfield is not None and db_field.related_model is Permission:
            formfield.label_from_instance = permission_label
        return formfield


class StaffGroupAdmin(_PermissionsInWords, GroupAdmin):  # type: ignore[misc]
    pass


class StaffUserAdmin(_PermissionsInWords, UserAdmin):  # type: ignore[type-arg]
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        was_active = change and User.objects.filter(pk=obj.pk, is_active=True).exists()
        super().save_model(request, obj, form, change)
        if was_active and not obj.is_active:
            staff_deactivate(ctx=AccessContext.from_request(request), user_id=obj.pk)


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, StaffGroupAdmin)

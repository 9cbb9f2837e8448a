"""The staff account admin, so that deactivating someone there ends their grants at once.

Django's own user admin would only flip ``is_active``; access would already be refused (an
inactive user has no session), but the grants would linger until the nightly clean-up. Here the
change goes through ``protection.services.grants.staff_deactivate`` (ACCESS-5).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from protection.gate import AccessContext
from protection.services.grants import staff_deactivate

User = get_user_model()


class StaffUserAdmin(UserAdmin):  # type: ignore[type-arg]
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        was_active = change and User.objects.filter(pk=obj.pk, is_active=True).exists()
        super().save_model(request, obj, form, change)
        if was_active and not obj.is_active:
            staff_deactivate(ctx=AccessContext.from_request(request), user_id=obj.pk)


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)

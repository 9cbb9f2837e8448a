"""``{{ user|staff_name }}``: a member of staff named on a page by their full name, as colleagues
know them; the username only for an account that has no name (a service account, an account
made on the command line)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def staff_name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())

"""The product's admin: Django's, on the site class of patients.admin_masking (LEAK-1)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.templatetags import admin_list
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext


def yes_no_icon(value: Any) -> SafeString:
    """A yes/no value as the word, with Django's icon beside it. Django's own gives the icon the
    alternative text "True" or "False", in English whatever the language, and no word at all;
    a screen reader and a person reading the list both get "Ja" or "Nej" here."""
    icon = {True: "yes", False: "no", None: "unknown"}[value]
    word = {True: gettext("Yes"), False: gettext("No"), None: gettext("Unknown")}[value]
    return format_html(
        '<img src="{}" alt="" width="13" height="13"> {}',
        static(f"admin/img/icon-{icon}.svg"),
        word,
    )


class ProductAdminConfig(AdminConfig):
    default_site = "patients.admin_masking.ProductAdminSite"

    def ready(self) -> None:
        super().ready()
        # The one place every admin list and read-only field gets its yes/no from (items in a
        # list and django.contrib.admin.utils.display_for_field/_value both look it up here).
        admin_list._boolean_icon = yes_no_icon  # type: ignore[attr-defined]

"""The admin's yes/no column says "Ja"/"Nej" (WCAG 1.1.1, the UI in Swedish): config/apps.py
replaces Django's private ``admin_list._boolean_icon``. Django reaches it from the changelist
rows and from ``display_for_field``/``display_for_value``; if an upgrade stops looking it up
there, these tests fail instead of the admin going back to alt="True" in English."""

from __future__ import annotations

from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.utils import display_for_field, display_for_value
from django.db import models
from django.utils import translation

from config.apps import yes_no_icon


def test_the_admin_uses_the_product_yes_no_icon():
    assert admin_list._boolean_icon is yes_no_icon


def test_boolean_fields_and_columns_render_ja_and_nej():
    with translation.override("sv"):
        field_yes = str(display_for_field(True, models.BooleanField(), "-"))
        field_no = str(display_for_field(False, models.BooleanField(), "-"))
        column_yes = str(display_for_value(True, "-", boolean=True))
    assert field_yes.endswith(" Ja")
    assert field_no.endswith(" Nej")
    assert column_yes.endswith(" Ja")
    for html in (field_yes, field_no, column_yes):
        assert 'alt=""' in html
        assert 'alt="True"' not in html
        assert 'alt="False"' not in html

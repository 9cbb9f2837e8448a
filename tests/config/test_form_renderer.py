"""config.forms.AkselFormRenderer writes the plain inputs and the select in Python (issue 16):
the markup must be what Django's own widget templates give, character for character."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from config.forms import AkselFormRenderer

GROUPED = [
    ("Rent", [("rent", "Rent <monthly>"), ("lease", gettext_lazy("Quantity"))]),
    ("Buy & keep", [("sell", mark_safe("<b>Buy</b>")), (1000, 1000)]),
    ("", "Nothing"),
]

CASES: list[tuple[forms.Widget, Any, dict[str, Any]]] = [
    (forms.TextInput(), 'Smith & "Sons" <x>', {"id": "id_name", "required": True}),
    (forms.TextInput(), None, {}),
    (forms.TextInput(attrs={"class": "extra", "data-x": mark_safe("a&b")}), "", {}),
    (forms.NumberInput(), 12, {"min": 1, "max": 999, "required": True, "id": "id_q"}),
    (forms.NumberInput(), 1234.5, {"disabled": False, "aria-invalid": "true"}),
    (forms.CheckboxInput(), True, {"id": "id_c"}),
    (forms.CheckboxInput(), False, {"id": "id_c", "aria-describedby": "id_c_error"}),
    (forms.HiddenInput(), 7, {}),
    (forms.EmailInput(), "a@b.se", {"autocomplete": "email", "readonly": True}),
    (forms.PasswordInput(render_value=True), "secret", {}),
    (forms.DateInput(), date(2026, 12, 7), {}),
    (forms.URLInput(), "https://x.se/?a=1&b=2", {}),
    (forms.Select(choices=[("rent", "hyra"), ("sell", "köp")]), "rent", {"id": "id_s"}),
    (forms.Select(choices=[("", "---"), (1, "one"), (2, "two")]), None, {}),
    (forms.Select(choices=GROUPED), "sell", {"required": True}),
    (forms.SelectMultiple(choices=GROUPED), ["rent", "1000"], {"id": "id_m"}),
    (forms.NullBooleanSelect(), True, {}),
    (forms.RadioSelect(choices=[("a", "A"), ("b", "B")]), "a", {"id": "id_r"}),
    (forms.Textarea(), "Text <with> & marks", {"rows": 3}),
]


@pytest.mark.parametrize(("widget", "value", "attrs"), CASES)
@pytest.mark.parametrize("language", ["sv", "en"])
def test_widgets_render_as_djangos_templates(widget, value, attrs, language):
    with override(language):
        ours = widget.render("field", value, attrs=attrs, renderer=AkselFormRenderer())
        django_s = widget.render("field", value, attrs=attrs, renderer=DjangoTemplates())
    assert ours == django_s


def test_a_whole_form_renders_as_with_djangos_templates():
    class Everything(forms.Form):
        name = forms.CharField(max_length=20, help_text="As in the register")
        quantity = forms.IntegerField(min_value=1, max_value=999)
        supply = forms.ChoiceField(choices=[("rent", "hyra"), ("sell", "köp")])
        adapted = forms.BooleanField(required=False)
        when = forms.DateField(required=False)
        note = forms.CharField(widget=forms.Textarea, required=False)

    data = {"name": "x" * 30, "quantity": "0", "supply": "sell", "adapted": "on"}
    ours = Everything(data, renderer=AkselFormRenderer(), prefix="line-3")
    assert not ours.is_valid()  # errors: aria-invalid and aria-describedby on the inputs

    class Reference(AkselFormRenderer):
        # The same renderer, with the Python path switched off: Django's templates throughout.
        _django_widgets = False

    theirs = Everything(data, renderer=Reference(), prefix="line-3")
    theirs.is_valid()
    assert "aria-invalid" in str(ours)
    assert str(ours) == str(theirs)


def test_renderer_uses_the_python_path_only_for_djangos_own_templates():
    assert AkselFormRenderer()._django_widgets is True

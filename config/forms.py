"""Every form field's input carries NAV Aksel's class for its kind (docs/design-system.md).

The class is added where Django builds a widget's attributes, so a field rendered by
``includes/field.html`` and one rendered by hand (``{{ form.quantity }}``) look the same, and no
form or template has to name it. Django itself adds ``aria-invalid`` and ``aria-describedby``
(help text and error ids) there.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import django
from django import forms
from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.forms.widgets import Input
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, SafeString, mark_safe

# Checkboxes and radio buttons keep the browser's own: Aksel's need the markup of its React
# components around the input (an icon element for the tick, a grid for input and label), which
# Django's widgets (the input inside its label) do not render.
_CLASS_BY_WIDGET: tuple[tuple[type[forms.Widget], str], ...] = (
    (forms.CheckboxInput, ""),
    (forms.CheckboxSelectMultiple, ""),
    (forms.RadioSelect, ""),
    (forms.Select, "aksel-select__input aksel-body-short"),
    (forms.Textarea, "aksel-textarea__input aksel-body-long"),
    (forms.FileInput, ""),
    (Input, "aksel-text-field__input aksel-body-short"),
)


def aksel_input_class(widget: forms.Widget) -> str:
    """The Aksel class for a widget's input element ("" for those Aksel has none for)."""
    for widget_class, css_class in _CLASS_BY_WIDGET:
        if isinstance(widget, widget_class):
            return css_class
    return ""


class AkselBoundField(BoundField):
    def build_widget_attrs(
        self, attrs: dict[str, Any], widget: forms.Widget | None = None
    ) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        css_class = aksel_input_class(widget)
        if css_class and not widget.is_hidden:
            # A class given by the form's widget or the caller is kept after Aksel's.
            own = " ".join(str(c) for c in (attrs.get("class"), widget.attrs.get("class")) if c)
            attrs["class"] = f"{css_class} {own}".strip()
        return attrs


# Django's own widget templates that the renderer writes in Python (below), with the markup
# they would give, character for character (tests/config/test_form_renderer.py compares them).
_WIDGETS = "django/forms/widgets/"
_INPUTS = frozenset(
    f"{_WIDGETS}{name}.html"
    for name in (
        "checkbox", "color", "date", "datetime", "email", "hidden", "input", "number",
        "password", "search", "tel", "text", "time", "url",
    )
)  # fmt: skip
_SELECT = f"{_WIDGETS}select.html"
_OPTION = f"{_WIDGETS}select_option.html"
_HELPERS = (f"{_WIDGETS}input.html", f"{_WIDGETS}attrs.html", _OPTION)
_DJANGO_FORMS_TEMPLATES = Path(django.__file__).parent / "forms" / "templates"
# The template context the widget templates render in: autoescape on, localisation as set.
_CONTEXT = Context(autoescape=True)


def _value(value: Any) -> str:
    """``{{ value }}``: localised and escaped as the template engine does it."""
    return str(render_value_in_context(value, _CONTEXT))


def _string(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: the filter keeps a safe string safe (``is_safe``)."""
    formatted = str(value) if isinstance(value, tuple) else "%s" % (value,)  # noqa: UP031
    return formatted if isinstance(value, SafeData) else str(escape(formatted))


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {conditional_escape(name)}")
        if value is not True:
            out.append(f'="{_string(value)}"')
    return "".join(out)


def _input(widget: dict[str, Any]) -> str:
    value = widget["value"]
    shown = f' value="{_string(value)}"' if value != None else ""  # noqa: E711 - as the template
    return (
        f'<input type="{_value(widget["type"])}" name="{_value(widget["name"])}"{shown}'
        f"{_attrs(widget['attrs'])}>"
    )


def _select(widget: dict[str, Any]) -> str | None:
    out = [f'<select name="{_value(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_value(group_name)}">')
        for option in group_choices:
            if option["template_name"] != _OPTION:
                return None  # a widget with options of its own: the templates render it
            out.append(
                f'\n  <option value="{_string(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_value(option['label'])}</option>\n"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


class AkselFormRenderer(DjangoTemplates):
    """Django's default renderer, with Aksel's classes on every field (settings.FORM_RENDERER).

    The plain inputs and the select are written here instead of through their templates: a
    form with a few fields per row (the prescription page's 20 lines, 60 widgets) spent most of
    its time in the template engine's includes (issue 16). The markup is the templates',
    character for character; an app that overrides one of those templates gets its own."""

    bound_field_class = AkselBoundField

    @cached_property
    def _django_widgets(self) -> bool:
        """True when the widget templates in use are Django's own, not an app's override."""
        names = (*_INPUTS, _SELECT, *_HELPERS)
        origins = {Path(self.get_template(name).origin.name).parent.parent for name in names}
        return origins == {_DJANGO_FORMS_TEMPLATES / "django" / "forms"}

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget is not None and self._django_widgets:
            if template_name in _INPUTS:
                return SafeString(_input(widget))
            if template_name == _SELECT:
                html = _select(widget)
                if html is not None:
                    return mark_safe(html.strip())  # noqa: S308 - escaped above, as the template
        return str(super().render(template_name, context, request=request))

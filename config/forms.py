"""Every form field's input carries NAV Aksel's class for its kind (docs/design-system.md).

The class is added where Django builds a widget's attributes, so a field rendered by
``includes/field.html`` and one rendered by hand (``{{ form.quantity }}``) look the same, and no
form or template has to name it. Django itself adds ``aria-invalid`` and ``aria-describedby``
(help text and error ids) there.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.forms.widgets import Input

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


class AkselFormRenderer(DjangoTemplates):
    """Django's default renderer, with Aksel's classes on every field (settings.FORM_RENDERER)."""

    bound_field_class = AkselBoundField

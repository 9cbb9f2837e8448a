"""The draft's lines on the prescription page, written in Python (issue 16).

Each line repeats the same markup: a heading, its price, three labelled fields, their errors and
two buttons, with the line's number in five hidden label texts. Through the template engine that
was most of the page's own time with 20 lines (every variable resolved, every text translated and
both URLs reversed again for each line). Here each text is translated and each URL reversed once
per page, and the markup is the template's, character for character (the page's HTML, its ids,
labels, errors and hidden texts do not change; tests/prescriptions/test_draft_lines.py compares
it with the template it replaces).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from prescriptions.forms import LineChangeForm
from prescriptions.models import PrescriptionLine

register = template.Library()

# A line id that stands in for every line's in the reversed URL; the URL's last number is the
# line's (the prescription number comes before it).
_MARKER = 987654321


def _shown(value: Any) -> str:
    """A value as ``{{ value }}`` writes it (localised, escaped)."""
    return str(conditional_escape(localize(value)))


def _url(name: str, reference: str) -> tuple[str, str]:
    """The URL of a line's action, reversed once: the parts before and after the line id,
    escaped as ``{% url %}`` does."""
    before, _marker, after = reverse(name, args=[reference, _MARKER]).rpartition(str(_MARKER))
    return str(conditional_escape(before)), str(conditional_escape(after))


def _errors(errors: Iterable[Any], label: str = "") -> str:
    return "".join(f"{label}{_shown(error)} " for error in errors)


# The values an input is rendered once for and reused: hashable and compared by value.
_PLAIN = (bool, int, str, type(None))


class _Inputs:
    """The inputs of the page's lines that show a saved (or typed) value, each distinct value
    of a field rendered by Django once per page: most lines show the same quantity, the same
    choice and the same box. An unbound form's input depends on nothing but its field, its
    value and its prefix (no errors, no data), so it is rendered with a stand-in prefix and
    the line's own put in its place: the markup is Django's, character for character. A bound
    form (what the user sent, with its errors) is rendered as it is."""

    def __init__(self) -> None:
        self._stand_in = f"line-{_MARKER}"
        self._rendered: dict[tuple[str, type, Any], str] = {}

    def __call__(self, form: LineChangeForm, name: str) -> str:
        field = form[name]
        value = None if form.is_bound else field.value()
        if (
            form.is_bound
            or not form.prefix
            or not isinstance(value, _PLAIN)
            # A typed value that holds the stand-in would not survive the swap.
            or self._stand_in in str(value)
        ):
            return _shown(field)
        key = (name, type(value), value)
        html = self._rendered.get(key)
        if html is None:
            stand_in = LineChangeForm(prefix=self._stand_in, initial={name: value})
            html = self._rendered[key] = _shown(stand_in[name])
        return html.replace(self._stand_in, form.prefix)


@register.simple_tag
def draft_lines(
    line_forms: Iterable[tuple[PrescriptionLine, LineChangeForm]], reference: str
) -> SafeString:
    """The ``<li>`` of each draft line with its form, as the page's ``<ol class="lines">``
    holds them."""
    change_before, change_after = _url("prescriptions:line_change", reference)
    remove_before, remove_after = _url("prescriptions:line_remove", reference)
    heading = gettext("Line %(position)s: %(number)s %(name)s")
    line_n = gettext("line %(position)s")
    replaces = gettext("replaces %(requested)s")
    sek_each = gettext("SEK each")
    accessory = f", {gettext('accessory')}"
    save = gettext("Save")
    remove = gettext("Remove")
    inputs = _Inputs()
    out: list[str] = []
    for line, form in line_forms:
        pk = _shown(line.pk)
        position = _shown(line.position)
        article = line.article
        hidden = line_n % {"position": position}
        quantity = form["quantity"]
        supply = form["supply"]
        adapted = form["special_adaptation"]
        quantity_label = _shown(quantity.label)
        title = heading % {
            "position": position,
            "number": _shown(article.article_number),
            "name": _shown(article.name),
        }
        notes = accessory if line.main_line_id else ""
        if line.requested_article:
            notes += ", " + replaces % {"requested": _shown(line.requested_article)}
        non_field = form.non_field_errors()
        line_errors = (
            f'<p class="aksel-error-message aksel-label">{_errors(non_field)}</p>'
            if non_field
            else ""
        )
        quantity_errors = (
            f'<p class="aksel-error-message aksel-label" id="{_shown(quantity.auto_id)}_error">'
            f"{_errors(quantity.errors, f'{quantity_label}: ')}</p>"
            if quantity.errors
            else ""
        )
        out.append(
            f'\n        <li id="line-{pk}">'
            f'\n          <h3 class="aksel-heading aksel-heading--medium">{title}</h3>'
            f"\n          <p>{_shown(article.product_area.name)}, "
            f"{floatformat(line.unit_price_sek, '2g')} {sek_each}{notes}</p>"
            f"\n          {line_errors}"
            '\n          <div class="aksel-form-field">'
            f'\n            <label class="aksel-label" for="{_shown(quantity.id_for_label)}">'
            f'{quantity_label}<span class="aksel-sr-only">, {hidden}</span></label>'
            f"\n            {quantity_errors}"
            f"\n            {inputs(form, 'quantity')}"
            "\n          </div>"
            '\n          <div class="aksel-form-field">'
            f'\n            <label class="aksel-label" for="{_shown(supply.id_for_label)}">'
            f'{_shown(supply.label)}<span class="aksel-sr-only">, {hidden}</span></label>'
            f"\n            {inputs(form, 'supply')}"
            "\n          </div>"
            '\n          <div class="aksel-form-field">'
            f"\n            {inputs(form, 'special_adaptation')}"
            f'\n            <label class="aksel-label" for="{_shown(adapted.id_for_label)}">'
            f'{_shown(adapted.label)}<span class="aksel-sr-only">, {hidden}</span></label>'
            "\n          </div>"
            f'\n          <button type="submit" formaction="{change_before}{pk}{change_after}"'
            ' class="aksel-button aksel-button--small" data-variant="secondary">'
            f'{save}<span class="aksel-sr-only"> {hidden}</span></button>'
            f'\n          <button type="submit" formaction="{remove_before}{pk}{remove_after}"'
            ' class="aksel-button aksel-button--small" data-variant="tertiary">'
            f'{remove}<span class="aksel-sr-only"> {hidden}</span></button>'
            "\n        </li>\n      "
        )
    # Every value above is escaped as the template escapes it; the texts are translations.
    return SafeString("".join(out))

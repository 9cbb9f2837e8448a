"""The draft's lines written in Python (``{% draft_lines %}``, issue 16) are the markup of the
template they replace, character for character: headings, prices, accessory and replacement
notes, labels tied to their inputs with the hidden "line N", errors and the two buttons, in
Swedish and English, unbound and with errors, and with text that needs escaping."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.utils import translation

from prescriptions.forms import LineChangeForm
from prescriptions.models import PrescriptionLine
from tests.prescriptions.conftest import accessory, article
from tests.prescriptions.pages import add, start

pytestmark = pytest.mark.django_db

# The loop of templates/prescriptions/detail.html before issue 16.
TEMPLATE_LOOP = """{% load i18n %}{% for line, form in line_forms %}
        <li id="line-{{ line.pk }}">
          <h3 class="aksel-heading aksel-heading--medium">{% blocktranslate with position=line.position number=line.article.article_number name=line.article.name %}Line {{ position }}: {{ number }} {{ name }}{% endblocktranslate %}</h3>
          <p>{{ line.article.product_area.name }}, {{ line.unit_price_sek|floatformat:"2g" }} {% translate "SEK each" %}{% if line.main_line_id %}, {% translate "accessory" %}{% endif %}{% if line.requested_article %}, {% blocktranslate with requested=line.requested_article %}replaces {{ requested }}{% endblocktranslate %}{% endif %}</p>
          {% if form.non_field_errors %}<p class="aksel-error-message aksel-label">{% for e in form.non_field_errors %}{{ e }} {% endfor %}</p>{% endif %}
          <div class="aksel-form-field">
            <label class="aksel-label" for="{{ form.quantity.id_for_label }}">{{ form.quantity.label }}<span class="aksel-sr-only">, {% blocktranslate with position=line.position %}line {{ position }}{% endblocktranslate %}</span></label>
            {% if form.quantity.errors %}<p class="aksel-error-message aksel-label" id="{{ form.quantity.auto_id }}_error">{% for e in form.quantity.errors %}{{ form.quantity.label }}: {{ e }} {% endfor %}</p>{% endif %}
            {{ form.quantity }}
          </div>
          <div class="aksel-form-field">
            <label class="aksel-label" for="{{ form.supply.id_for_label }}">{{ form.supply.label }}<span class="aksel-sr-only">, {% blocktranslate with position=line.position %}line {{ position }}{% endblocktranslate %}</span></label>
            {{ form.supply }}
          </div>
          <div class="aksel-form-field">
            {{ form.special_adaptation }}
            <label class="aksel-label" for="{{ form.special_adaptation.id_for_label }}">{{ form.special_adaptation.label }}<span class="aksel-sr-only">, {% blocktranslate with position=line.position %}line {{ position }}{% endblocktranslate %}</span></label>
          </div>
          <button type="submit" formaction="{% url 'prescriptions:line_change' prescription.reference line.pk %}" class="aksel-button aksel-button--small" data-variant="secondary">{% translate "Save" %}<span class="aksel-sr-only"> {% blocktranslate with position=line.position %}line {{ position }}{% endblocktranslate %}</span></button>
          <button type="submit" formaction="{% url 'prescriptions:line_remove' prescription.reference line.pk %}" class="aksel-button aksel-button--small" data-variant="tertiary">{% translate "Remove" %}<span class="aksel-sr-only"> {% blocktranslate with position=line.position %}line {{ position }}{% endblocktranslate %}</span></button>
        </li>
      {% endfor %}"""  # noqa: E501 - the template's lines as they were

TAG = "{% load draft_lines %}{% draft_lines line_forms prescription.reference %}"


def _lines(rx_client: Any, ordinary: Any) -> list[PrescriptionLine]:
    number = start(rx_client, ordinary)
    main = article("1234.5", name='Rollator <"Lätt"> & fäll')
    add(rx_client, number, main.pk)
    main_line = PrescriptionLine.objects.get(prescription__reference=number)
    extra = accessory(main, "99")
    add(rx_client, number, f"{main.pk}-{extra.pk}", main_line=main_line.pk)
    add(rx_client, number, article("450").pk)
    lines = list(
        PrescriptionLine.objects.filter(prescription__reference=number)
        .select_related("article__product_area", "requested_article", "prescription")
        .order_by("position")
    )
    assert len(lines) == 3
    assert lines[1].main_line_id == main_line.pk
    # A replaced article (PRESC-8), shown on the line without saving it.
    lines[2].requested_article = article("10", name="Käpp <b>&</b>")
    return lines


def _both(line_forms: list[tuple[PrescriptionLine, LineChangeForm]]) -> tuple[str, str]:
    context = {"line_forms": line_forms, "prescription": line_forms[0][0].prescription}
    return (
        Template(TEMPLATE_LOOP).render(Context(context)),
        Template(TAG).render(Context(context)),
    )


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_lines_are_the_templates_markup(rx_client, ordinary, language):
    lines = _lines(rx_client, ordinary)
    unbound = [
        (
            line,
            LineChangeForm(
                prefix=f"line-{line.pk}",
                initial={"quantity": line.quantity, "supply": line.supply},
            ),
        )
        for line in lines
    ]
    with translation.override(language):
        expected, written = _both(unbound)
    assert written == expected
    assert written.count('<li id="line-') == 3


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_lines_with_different_values_are_the_templates_markup(rx_client, ordinary, language):
    """Each input shows its own line's value, whether saved or typed before a step-up (text):
    the tag renders each distinct value once and reuses it for the lines that show it."""
    lines = _lines(rx_client, ordinary) * 2
    values: list[dict[str, Any]] = [
        {"quantity": 1, "supply": "rent", "special_adaptation": False},
        {"quantity": 3, "supply": "sell", "special_adaptation": True},
        {"quantity": "7", "supply": "sell", "special_adaptation": True},
        {"quantity": "x <b>", "supply": "nonsense", "special_adaptation": False},
        {"quantity": 1, "supply": "rent", "special_adaptation": False},
        {"quantity": None, "supply": "", "special_adaptation": None},
    ]
    line_forms = [
        (line, LineChangeForm(prefix=f"line-{n}{line.pk}", initial=initial))
        for n, (line, initial) in enumerate(zip(lines, values, strict=True))
    ]
    with translation.override(language):
        expected, written = _both(line_forms)
    assert written == expected
    assert written.count(" checked") == 2
    assert 'value="x &lt;b&gt;"' in written


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_lines_with_errors_are_the_templates_markup(rx_client, ordinary, language):
    """Errors on a field and on the line, as a refused save shows them (WCAG 3.3.1)."""
    lines = _lines(rx_client, ordinary)
    line_forms = []
    for n, line in enumerate(lines):
        prefix = f"line-{line.pk}"
        data = {f"{prefix}-quantity": "0" if n else "x", f"{prefix}-supply": "nonsense"}
        if n == 2:
            data = {f"{prefix}-quantity": "2", f"{prefix}-supply": line.supply}
        form = LineChangeForm(data, prefix=prefix)
        form.is_valid()
        if n == 2:
            form.add_error(None, "Refused <here> & now")
        line_forms.append((line, form))
    with translation.override(language):
        expected, written = _both(line_forms)
    assert written == expected
    # Two lines' quantity errors and one line's own (the page shows no supply error here).
    assert written.count("aksel-error-message") == 3

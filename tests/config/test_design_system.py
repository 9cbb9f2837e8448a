"""The design system's CSS (NAV's Aksel, docs/design-system.md) is served from our own static
files, pinned by the npm lock, with nothing from another host; the hand-written site.css is gone;
form fields, messages and the error summary come out in Aksel's markup."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.base import Message
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
AKSEL_VERSION = "8.16.2"
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
# href/src/action attributes and CSS url()s naming a host (an xmlns is a name, not a load).
EXTERNAL_REFERENCE = re.compile(r'(?:href|src|action)="(?:https?:)?//|url\(\s*["\']?(?:https?:)?//')


def _stylesheets(html: str) -> list[str]:
    return STYLESHEET.findall(html)


def _static_path(url: str) -> str:
    """The path a static URL names, as the staticfiles finders take it."""
    return url.removeprefix(static(""))


@pytest.mark.django_db
def test_the_login_page_loads_aksel_from_our_own_static_files():
    html = Client().get("/accounts/login/").content.decode()
    sheets = _stylesheets(html)
    assert [s for s in sheets if s.startswith(static("aksel/"))], sheets
    for url in sheets:
        assert url.startswith(static("")), f"{url} is not one of our static files"
        found = finders.find(_static_path(url))
        assert found, f"{url} does not resolve through the staticfiles finders"
    assert not EXTERNAL_REFERENCE.search(html)


@pytest.mark.django_db
def test_the_served_css_is_the_pinned_aksel_release_and_loads_nothing_from_another_host():
    html = Client().get("/accounts/login/").content.decode()
    aksel = [s for s in _stylesheets(html) if "/aksel/" in s]
    # Not index.css or fonts.css: they load the Source Sans font from cdn.nav.no.
    assert not [s for s in aksel if s.endswith(("index.css", "index.min.css", "fonts.css"))]
    assert not [s for s in aksel if "fonts" in s]
    for url in _stylesheets(html):
        css = Path(finders.find(_static_path(url))).read_text()
        assert "@import" not in css, url
        assert not EXTERNAL_REFERENCE.search(css), url
    package = json.loads((Path(settings.AKSEL_CSS_DIR).parent / "package.json").read_text())
    assert (package["name"], package["version"]) == ("@navikt/ds-css", AKSEL_VERSION)
    lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@navikt/ds-css"]["version"] == AKSEL_VERSION


def test_site_css_and_the_logistics_stylesheets_are_gone():
    for name in ("css/site.css", "css/logistics-queues.css", "css/logistics-reflow.css"):
        assert finders.find(name) is None, name
    # The print stylesheet of protected patients' pages (PRINT-1) is a feature and stays.
    assert finders.find("css/print-protected.css")
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert "site.css" not in text, template
        assert "logistics-reflow.css" not in text, template


def test_no_page_template_references_another_host():
    """Pages (not the PDF documents, which are paper) load nothing from outside our host."""
    for template in (ROOT / "templates").rglob("*.html"):
        if "documents" in template.parts:
            continue
        assert not EXTERNAL_REFERENCE.search(template.read_text()), template


class _Sample(forms.Form):
    name = forms.CharField(label="Namn", help_text="Som i folkbokföringen")
    note = forms.CharField(label="Anteckning", widget=forms.Textarea)
    kind = forms.ChoiceField(label="Sort", choices=[("a", "A"), ("b", "B")])
    urgency = forms.ChoiceField(
        label="Brådska", choices=[("n", "Normal"), ("h", "Hög")], widget=forms.RadioSelect
    )
    agree = forms.BooleanField(label="Jag intygar")
    own = forms.CharField(label="Egen", widget=forms.TextInput(attrs={"class": "wide"}))


def test_form_inputs_carry_aksel_classes_and_errors_sit_next_to_the_field():
    form = _Sample(data={"name": "", "note": "kvar", "kind": "a", "urgency": "n", "own": "x"})
    assert not form.is_valid()
    name = render_to_string("includes/field.html", {"field": form["name"]})
    assert 'class="aksel-form-field aksel-text-field aksel-text-field--error"' in name
    assert 'class="aksel-text-field__input aksel-body-short"' in name
    assert 'aria-invalid="true"' in name
    assert 'aria-describedby="id_name_helptext id_name_error"' in name
    assert '<div class="aksel-form-field__error" id="id_name_error">' in name
    assert "aksel-error-message" in name
    note = render_to_string("includes/field.html", {"field": form["note"]})
    assert "aksel-textarea__input" in note
    assert ">\nkvar</textarea>" in note  # nothing typed is lost
    assert "aria-invalid" not in note
    kind = render_to_string("includes/field.html", {"field": form["kind"]})
    assert '<div class="aksel-select__container"><select' in kind
    assert "aksel-select__input" in kind
    assert "aksel-select__chevron" in kind
    urgency = render_to_string("includes/field.html", {"field": form["urgency"]})
    assert urgency.strip().startswith('<fieldset class="aksel-fieldset')
    assert '<legend class="aksel-fieldset__legend aksel-label">Brådska</legend>' in urgency
    agree = render_to_string("includes/field.html", {"field": form["agree"]})
    assert 'class="aksel-checkbox aksel-checkbox--error"' in agree
    assert 'id="id_agree_error"' in agree
    # A class the form gives its widget is kept, after Aksel's.
    assert 'class="aksel-text-field__input aksel-body-short wide"' in str(form["own"])


def test_the_error_summary_links_each_error_to_its_field():
    form = _Sample(data={"name": "", "note": "", "kind": "a", "urgency": "n", "own": "x"})
    assert not form.is_valid()
    summary = render_to_string("includes/error_summary.html", {"form": form})
    assert 'class="aksel-error-summary"' in summary
    assert re.search(r'<a class="aksel-link" href="#id_name">Namn: [^<]+</a>', summary)
    assert re.search(r'<a class="aksel-link" href="#id_note">Anteckning: [^<]+</a>', summary)
    assert re.search(r'<a class="aksel-link" href="#id_agree">Jag intygar: [^<]+</a>', summary)
    # The prescriptions pages' (field id, message) pairs still work through the old include.
    pairs = render_to_string(
        "prescriptions/_error_summary.html", {"errors": [("id_need", "Behov: saknas")]}
    )
    assert '<a class="aksel-link" href="#id_need">Behov: saknas</a>' in pairs
    assert render_to_string("includes/error_summary.html", {"form": _Sample()}).strip() == ""


@pytest.mark.parametrize(
    ("level", "color", "role"),
    [
        (messages.SUCCESS, "success", "status"),
        (messages.ERROR, "danger", "alert"),
        (messages.WARNING, "warning", "status"),
        (messages.INFO, "info", "status"),
    ],
)
def test_messages_are_aksel_alerts_by_level(level, color, role):
    html = render_to_string("includes/messages.html", {"messages": [Message(level, "Sparat.")]})
    assert (
        f'<div class="aksel-alert aksel-alert--small" data-color="{color}" role="{role}">' in html
    )
    assert "Sparat." in html

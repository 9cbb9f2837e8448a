"""Every page the leak crawl visits (tests/crawl_pages.py, LEAK-1's world), in Chromium, as every
demo role, and the same pages' forms submitted empty (forms with errors):

- axe-core finds no serious or critical violation;
- at 320 CSS pixels the document does not scroll sideways (WCAG 1.4.10; a wide table may
  scroll inside its own container);
- the text a user reads (Swedish UI) holds no rule id, no raw key (``awaiting_agreement``,
  True/False/None) and no English string the catalogues translate to Swedish.

One page of each URL pattern is enough: the first of the crawl's values that opens for the
role (a 200); a pattern that opens for none is looked at once per role and status (the error
pages). The start page and every page of the role's menu are among them. The Django admin:
its index and each model's list; as the superuser, the add and change pages of one model of each
family and the history and delete pages of one (the same templates for every model).
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import django
import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import Resolver404, resolve
from playwright.sync_api import Page

from config.menu import menu_for_user
from patients.demo import DEMO_USERS, DemoUser
from tests.browser.conftest import axe_violations
from tests.crawl_pages import PASSWORD, crawl_world, site_urls

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 800}
# A URL pattern's values are tried in the crawl's order until one opens for the role.
MAX_CANDIDATES = 6

# The rules' ids, from the rules document the tests are checked against.
RULE_PREFIXES = sorted(
    set(
        re.findall(
            r"^## ([A-Z]+)-\d+",
            (Path(settings.BASE_DIR) / "docs" / "rules.md").read_text(encoding="utf-8"),
            flags=re.MULTILINE,
        )
    )
)
RULE_ID = re.compile(r"\b(?:" + "|".join(RULE_PREFIXES) + r")-\d+\b")
RAW_KEY = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
RAW_VALUE = re.compile(r"\b(?:True|False|None)\b")
# Untranslated English a catalogue cannot know of: a Swedish sentence never holds these words.
ENGLISH_WORDS = re.compile(r"\b(?:the|and|with|your|you|this|is|are|has|have|not)\b")
# One-word English source strings that are Swedish words too.
SWEDISH_TOO = frozenset({"Order", "Filter", "Total"})
URLS_AND_ADDRESSES = re.compile(r"\S+@\S+|https?://\S+|/\S*")


def _catalogues() -> list[Path]:
    django_root = Path(django.__file__).resolve().parent
    return [
        Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.mo",
        *sorted(django_root.glob("conf/locale/sv/LC_MESSAGES/django.mo")),
        *sorted(django_root.glob("contrib/*/locale/sv/LC_MESSAGES/django.mo")),
    ]


def _english_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """The English source strings that have a different Swedish translation: on a Swedish page
    they are leftovers. Placeholders match any short text; one-word strings must be whole
    words of at least four letters, so that a name or an abbreviation is not taken for one."""
    patterns: dict[str, re.Pattern[str]] = {}
    for path in _catalogues():
        with path.open("rb") as handle:
            catalog: dict[Any, str] = gettext.GNUTranslations(handle)._catalog
        for key, swedish in catalog.items():
            msgid = key[0] if isinstance(key, tuple) else key
            msgid = " ".join(msgid.split("\x04")[-1].split())
            if not msgid or not swedish or " ".join(swedish.split()) == msgid:
                continue
            if msgid in SWEDISH_TOO:
                continue
            parts = re.split(r"%\(\w+\)[sdfi]|%[sdfi]|\{\w*\}", msgid)
            literal = max(parts, key=len).strip()
            if len(re.sub(r"[^A-Za-z]", "", literal)) < 4 or (" " not in msgid and len(msgid) < 4):
                continue
            regex = r"\b" + ".{1,80}?".join(re.escape(part) for part in parts) + r"(?!\w)"
            patterns[msgid] = re.compile(regex if msgid[0].isalnum() else regex[2:])
    return sorted(patterns.items())


@dataclass
class Walk:
    page: Page
    axe_script: Path
    role: str
    usernames: frozenset[str]
    english: list[tuple[str, re.Pattern[str]]]
    # The forms sent empty so far, by any role: a form's errors read the same for every role.
    forms_sent: set[str]
    problems: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    pages: int = 0

    def report(self, where: str, finding: str) -> None:
        self.problems.append(f"{self.role} {where}: {finding}")
        # Seen at once with -s: the walk takes minutes.
        print(self.problems[-1], flush=True)

    def check(self, where: str) -> None:
        """axe-core, the text, and the reflow at 320 px of the page as it is now."""
        self.pages += 1
        findings = [f"axe {v}" for v in axe_violations(self.page, self.axe_script)]
        findings += text_findings(self.page.evaluate(SWEDISH_TEXT_JS), self.usernames, self.english)
        self.page.set_viewport_size(NARROW)
        overflow = self.page.evaluate(OVERFLOW_JS)
        if overflow:
            findings.append(f"reflow at 320 px: {overflow}")
        self.page.set_viewport_size(DESKTOP)
        if findings:
            self.report(where, "; ".join(findings))

    def visit(self, shape: str, candidates: list[str]) -> None:
        """The first candidate that opens (a 200 page) or, when none does, the error page
        once per status."""
        first = None
        for url in candidates[:MAX_CANDIDATES]:
            response = self.page.request.get(url)
            first = first or response
            if response.status == 200:
                break
        assert first is not None
        if response.status != 200:
            response = first
        if response.status == 405 or "text/html" not in response.headers.get("content-type", ""):
            return  # a POST-only address (log out, the buttons' actions), a PDF: not a page
        chosen = url if response.status == 200 else candidates[0]
        key = route_of(response.url) if response.status == 200 else f"error {response.status}"
        if key in self.seen:
            return
        self.seen.add(key)
        content = self.page.goto(chosen)
        assert content is not None
        where = f"{shape} ({chosen} [{content.status}])"
        self.check(where)
        if content.status == 200:
            self.submit_forms(chosen, where)

    def submit_forms(self, url: str, where: str) -> None:
        """Each of the page's POST forms with fields a user types in, emptied and sent without
        the browser's own checks: the product's errors are what the user then reads."""
        forms: list[dict[str, Any]] = self.page.evaluate(FORMS_JS)
        away = False
        for form in forms:
            key = route_of(form["action"])
            if key in self.forms_sent or re.search(r"/(logout|i18n)/", form["action"]):
                continue
            self.forms_sent.add(key)
            if away:
                self.page.goto(url)
            with self.page.expect_navigation() as navigation:
                self.page.evaluate(SUBMIT_EMPTY_JS, form["index"])
            away = True
            response = navigation.value
            status = response.status if response is not None else 0
            if "text/html" in (response.headers.get("content-type", "") if response else ""):
                self.check(f"form {form['action']} sent empty from {where} [{status}]")


# The page's text without what is marked as another language (the language switch's
# "English" is English on purpose).
SWEDISH_TEXT_JS = """() => {
  let text = document.body.innerText;
  for (const el of document.body.querySelectorAll("[lang]:not([lang|=sv])")) {
    const foreign = el.innerText.trim();
    if (foreign) text = text.split(foreign).join(" ");
  }
  return text;
}"""

OVERFLOW_JS = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth + 1) return "";
  const limit = root.clientWidth + 1;
  const scrolls = (el) => {
    const s = getComputedStyle(el).overflowX;
    return ["auto", "scroll", "hidden"].includes(s) && el !== root && el !== document.body;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.getBoundingClientRect().right <= limit) continue;
    let inside = false;
    for (let up = el.parentElement; up && !inside; up = up.parentElement) inside = scrolls(up);
    if (inside) continue;
    if (el.parentElement && el.parentElement.getBoundingClientRect().right > limit
        && el.parentElement !== document.body) continue;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (el.classList.length ? "." + Array.from(el.classList).join(".") : "");
    wide.push(name + " (" + Math.round(el.getBoundingClientRect().right) + "px)");
    if (wide.length >= 3) break;
  }
  return `scrollWidth ${root.scrollWidth} > ${root.clientWidth}: ` + wide.join(", ");
}"""

SUBMIT = "button[type=submit], button:not([type]), input[type=submit]"
TYPED = (
    "['text','search','email','number','tel','password','date','textarea','url',"
    "'datetime-local','time','month','select-one','select-multiple']"
)
# The attributes, not form.action / form.method: a field named "action" (a page's buttons say
# which action they take) shadows the form's own property in the DOM.
FORMS_JS = f"""() => Array.from(document.forms).map((form, index) => ({{
  index, action: new URL(form.getAttribute("action") || "", document.baseURI).href,
  method: (form.getAttribute("method") || "get").toLowerCase(),
  typed: Array.from(form.elements).filter((el) => {TYPED}.includes(el.type) && !el.disabled
    && !el.readOnly && el.getClientRects().length > 0).length,
  buttons: form.querySelectorAll("{SUBMIT}").length,
}})).filter((form) => form.method === "post" && form.typed > 0 && form.buttons > 0)"""

SUBMIT_EMPTY_JS = f"""(index) => {{
  const form = document.forms[index];
  for (const el of form.elements) {{
    if ({TYPED}.includes(el.type)) {{
      if (el.tagName === "SELECT") {{ el.selectedIndex = -1; }} else {{ el.value = ""; }}
    }} else if (el.type === "checkbox" || el.type === "radio") {{ el.checked = false; }}
  }}
  form.noValidate = true;
  form.requestSubmit(form.querySelector("{SUBMIT}"));
}}"""


def route_of(url: str) -> str:
    """The URL pattern a URL belongs to, with the names of its query parameters."""
    parts = urlsplit(url)
    try:
        route = str(resolve(parts.path).route)
    except Resolver404:
        route = parts.path
    query = sorted({name for name, _ in parse_qsl(parts.query)})
    return route + (f"?{'&'.join(query)}" if query else "")


def text_findings(
    text: str, usernames: frozenset[str], english: list[tuple[str, re.Pattern[str]]]
) -> list[str]:
    """Rule ids, raw keys and English leftovers in the text a user reads."""
    flat = " ".join(text.split())
    found = [f"rule ids {sorted(set(RULE_ID.findall(flat)))}"] if RULE_ID.search(flat) else []
    # A username is what the user typed as a name (the admin shows them), not a key.
    for name in usernames:
        flat = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", " ", flat)
    words = URLS_AND_ADDRESSES.sub(" ", flat)
    found += [f"raw key {m!r}" for m in sorted(set(RAW_KEY.findall(words)))]
    found += [f"raw value {m!r}" for m in sorted(set(RAW_VALUE.findall(words)))]
    found += [f"English word {m!r}" for m in sorted(set(ENGLISH_WORDS.findall(words)))]
    found += [f"English {msgid!r}" for msgid, pattern in english if pattern.search(flat)]
    return found


def shapes(values: dict[str, list[str]]) -> dict[str, list[str]]:
    """The crawl's URLs grouped by URL pattern, in the crawl's order."""
    grouped: dict[str, list[str]] = {}
    for url in [*site_urls(values), *values["extra_urls"]]:
        grouped.setdefault(route_of(url), []).append(url)
    return grouped


# The admin's add and change pages are one template with the model's form: one model of each
# family is enough, chosen for what its form holds that others do not (the two-list permission
# picker, the password pages, autocomplete boxes, inlines, read-only fields, encrypted fields).
ADMIN_FORMS = (
    "auth.group",
    "auth.user",
    "patients.patient",
    "patients.staffprofile",
    "prescriptions.prescription",
    "prescriptions.article",
    "prescriptions.prescriberprofile",
    "logistics.device",
)
# The history and delete pages are one template each for every model: the group's delete page
# lists related objects of Django's own models, the hardest case.
ADMIN_HISTORY_AND_DELETE = ("auth.group",)


def admin_shapes(*, lists_only: bool) -> dict[str, list[str]]:
    """The admin's pages: its index and every model's list; unless ``lists_only``, the add and
    change pages of ADMIN_FORMS and the history and delete pages of ADMIN_HISTORY_AND_DELETE."""
    grouped: dict[str, list[str]] = {"admin/": ["/admin/"]}
    models = sorted(admin.site._registry, key=lambda model: model._meta.label)
    for model in models:
        label = model._meta.label_lower
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        grouped[base] = [base]
        if lists_only or label not in ADMIN_FORMS:
            continue
        grouped[base + "add/"] = [base + "add/"]
        pk = model._default_manager.values_list("pk", flat=True).first()
        assert pk is not None, f"the crawl's world has no {label} to change"
        grouped[base + "<pk>/change/"] = [f"{base}{pk}/change/"]
        if label in ADMIN_HISTORY_AND_DELETE:
            grouped[base + "<pk>/history/"] = [f"{base}{pk}/history/"]
            grouped[base + "<pk>/delete/"] = [f"{base}{pk}/delete/"]
    return grouped


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert "/accounts/login/" not in page.url, f"login as {username} failed: still on {page.url}"
    # Step-up done, as the crawl does, so that only the missing grant stands between the user
    # and the patient.
    page.goto("/protection/step-up/")
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


@pytest.fixture
def walk_world(shared_dir: Path) -> dict[str, list[str]]:
    return crawl_world(shared_dir)


def test_every_crawled_page_passes_axe_reflow_and_reads_as_plain_swedish(
    walk_world: dict[str, list[str]],
    new_page: Callable[..., Page],
    axe_script: Path,
) -> None:
    """LEAK-1's pages as every demo role, and their forms sent empty: no serious or critical
    axe-core violation, no sideways scrolling at 320 px, no rule id, raw key or English."""
    site = shapes(walk_world)
    english = _english_patterns()
    # Account names and the roles' group names are identifiers the admin shows as they are.
    usernames = frozenset(get_user_model().objects.values_list("username", flat=True)) | frozenset(
        Group.objects.values_list("name", flat=True)
    )
    problems: list[str] = []
    pages = 0
    forms_sent: set[str] = set()
    # One user per role (the second prescriber has the first one's pages).
    one_per_role: dict[str | None, DemoUser] = {}
    for demo in DEMO_USERS:
        one_per_role.setdefault(demo.role, demo)
    for demo in one_per_role.values():
        print(f"-- {demo.username}", flush=True)
        page = new_page(viewport=DESKTOP)
        log_in(page, demo.username)
        walk = Walk(page, axe_script, demo.username, usernames, english, forms_sent)
        for shape, candidates in site.items():
            walk.visit(shape, candidates)
        # A role without the admin is sent to the admin's login page, looked at once. Staff
        # other than the superuser see the same forms in the admin: their lists are enough.
        if page.request.get("/admin/", max_redirects=0).status != 200:
            walk.visit("admin/", ["/admin/"])
        else:
            lists_only = demo.role is not None
            for shape, candidates in admin_shapes(lists_only=lists_only).items():
                walk.visit(shape, candidates)
        # The start page and every page of the role's menu were among those looked at.
        user = get_user_model().objects.get(username=demo.username)
        for url in ["/start/", *(link.url for link in menu_for_user(user))]:
            if route_of(url) not in walk.seen:
                walk.report(url, "a page of the menu that the walk did not open")
        problems += walk.problems
        pages += walk.pages
        page.context.close()
    assert pages > 100, f"only {pages} pages were looked at"
    assert problems == [], f"{len(problems)} findings on {pages} pages:\n" + "\n".join(problems)


def test_the_text_check_sees_rule_ids_raw_keys_and_english() -> None:
    """The walk's text check is not blind (LEAK-1's pages): each kind of finding is seen."""
    english = _english_patterns()
    found = text_findings(
        "Status: awaiting_agreement, PRESC-3 passed True. Log in to the site. unit_manager",
        frozenset({"unit_manager"}),
        english,
    )
    assert "rule ids ['PRESC-3']" in found
    assert "raw key 'awaiting_agreement'" in found
    assert "raw value 'True'" in found
    assert "English 'Log in'" in found
    assert "English word 'the'" in found
    swedish = "Inloggad som unit_manager. Logga in"
    assert text_findings(swedish, frozenset({"unit_manager"}), english) == []

"""The start page's registry: where each role lands after logging in (``/start/``).

The page lists, for the logged-in user, the work each floor has for them: a queue with its
exact count and a link to its list, or a link to a page where the user's work starts (a search)
with nothing to count. This lowest floor keeps the registry; every floor adds its sections in
its ``AppConfig.ready``, so that the page itself, and the floors below, import no higher floor.

A section's ``items(user)`` answers ``None`` when the section is not for this user (the role
does not do that work), and otherwise its items, an empty count included: "0 to handle" is an
answer. Counts must be cheap (one query per section, at most a few): the start page pins its
query count per role. Items carry counts and links only, never a patient (ACCESS-1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class StartItem:
    """One line of a section: a label, the page it opens and, for a queue, how many wait."""

    label: str | Promise
    url: str
    count: int | None = None


@dataclass(frozen=True)
class StartSection:
    """A floor's part of the start page. ``order`` places it: lower first. ``template_name``,
    when given, is included above the items with ``panel`` (what ``panel(user)`` answers) in
    its context: a form where the work starts, such as the patient search."""

    key: str
    title: str | Promise
    order: int
    items: Callable[[Any], Sequence[StartItem] | None]
    template_name: str = ""
    panel: Callable[[Any], dict[str, Any]] | None = None


@dataclass(frozen=True)
class ShownSection:
    key: str
    title: str | Promise
    items: Sequence[StartItem]
    template_name: str = ""
    panel: dict[str, Any] = field(default_factory=dict)


start_sections: list[StartSection] = []


def start_section_register(section: StartSection) -> None:
    """Add a section once (``ready`` may run more than once, in tests); a section of the same
    key replaces the earlier one."""
    start_sections[:] = [known for known in start_sections if known.key != section.key]
    start_sections.append(section)
    start_sections.sort(key=lambda known: (known.order, known.key))


def start_sections_for(user: Any) -> list[ShownSection]:
    """The sections this user has work in, in order; a section with no items is left out."""
    shown: list[ShownSection] = []
    for section in start_sections:
        items = section.items(user)
        if items:
            shown.append(
                ShownSection(
                    key=section.key,
                    title=section.title,
                    items=items,
                    template_name=section.template_name,
                    panel=section.panel(user) if section.panel is not None else {},
                )
            )
    return shown

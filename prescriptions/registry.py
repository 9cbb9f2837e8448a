"""Extension points the logistics floor fills in ``LogisticsConfig.ready``, so that this floor
never imports it (house style 1).

``draft_changed_handlers``: callables taking a prescription id, called inside the transaction
that changed a draft's lines or moved it out of draft (submitted, cancelled), so that the goods
its lines hold reserved (LOG-1) follow in the same transaction.

``order_released_handlers``: callables taking a prescription id, called when the transaction
that approved it (and wrote its ``OrderRelease``) commits; the handler enqueues a task of its
own (ids only, LEAK-1). A release whose message is lost is found by the logistics sweep.

``availability_providers``: callables taking article ids and returning, per article, how many
are available in the region's stores now (PRESC-8 proposes what is ready in stock first). None
registered: the catalogue's own out-of-stock flag decides, as before the logistics floor.

``order_summary_providers``: callables taking a prescription id and returning the
:class:`OrderSummary` of the customer order it became, or None; the prescription page shows the
first one found, so that a prescriber follows the order and its delivery promise from there.

``order_withdraw_handlers``: callables taking a prescription id, a reason and the user, called
inside the transaction that cancels a consumable withdrawal (issue 14): the handler stops the
approved order's supply if nothing of it has been picked yet (the release not taken, or its
customer order cancelled) and raises ``StateNotAllowed`` otherwise, which rolls the whole
cancellation back.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction

draft_changed_handlers: list[Callable[[int], None]] = []
order_released_handlers: list[Callable[[int], None]] = []
availability_providers: list[Callable[[Iterable[int]], dict[int, int]]] = []


@dataclass(frozen=True)
class OrderSummary:
    """What the prescription page says of its order: nothing about the patient, only the
    order's number, its state in words, its delivery promise and where the order page is."""

    number: str
    state: str
    promised_on: datetime.date | None
    url: str


order_summary_providers: list[Callable[[int], OrderSummary | None]] = []
order_withdraw_handlers: list[Callable[[int, str, Any], None]] = []


def draft_changed(prescription_id: int) -> None:
    """Tell the higher floors, in the caller's transaction, that a draft's lines changed."""
    for handler in draft_changed_handlers:
        handler(prescription_id)


def order_released_on_commit(prescription_id: int) -> None:
    for handler in order_released_handlers:
        transaction.on_commit(partial(handler, prescription_id))


def availability(article_ids: Iterable[int]) -> dict[int, int] | None:
    """Available quantity per article, or None when no floor keeps stock (PRESC-8)."""
    if not availability_providers:
        return None
    ids = list(article_ids)
    found: dict[int, int] = {}
    for provider in availability_providers:
        for article_id, quantity in provider(ids).items():
            found[article_id] = found.get(article_id, 0) + quantity
    return found


def order_summary(prescription_id: int) -> OrderSummary | None:
    """The order an approved prescription became, or None (not yet made, or no logistics)."""
    for provider in order_summary_providers:
        found = provider(prescription_id)
        if found is not None:
            return found
    return None


def order_withdraw(prescription_id: int, reason: str, by: Any) -> bool:
    """Stop an approved order's supply before it is picked, in the caller's transaction. False
    when no floor supplies orders (nothing to stop); a handler refuses by raising."""
    for handler in order_withdraw_handlers:
        handler(prescription_id, reason, by)
    return bool(order_withdraw_handlers)

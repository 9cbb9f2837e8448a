"""What the agreement owner reads of their agreements' life (CAT-1, house style 4): every move
of their agreement headers and of the rows registered under them, newest first."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from prescriptions.models import (
    AgreementRowState,
    AgreementRowTransition,
    AgreementState,
    AgreementTransition,
)

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class AgreementHistoryEntry:
    at: datetime.datetime
    agreement_code: str
    # The row's article number; empty for a move of the header itself.
    article_number: str
    state: str
    by: Any
    note: str


def agreement_history_for_owner(user: Any) -> list[AgreementHistoryEntry]:
    """The latest moves of the owner's agreements and their rows, by state name (never a key).
    Two queries, whatever the number of agreements."""
    headers = (
        AgreementTransition.objects.filter(agreement__owner_id=user.pk)
        .select_related("agreement", "by")
        .order_by("-at", "-pk")[:HISTORY_LIMIT]
    )
    rows = (
        AgreementRowTransition.objects.filter(row__agreement__owner_id=user.pk)
        .select_related("row__agreement", "by")
        .order_by("-at", "-pk")[:HISTORY_LIMIT]
    )
    entries = [
        AgreementHistoryEntry(
            t.at, t.agreement.code, "", str(AgreementState(t.to_state).label), t.by, t.note
        )
        for t in headers
    ] + [
        AgreementHistoryEntry(
            t.at,
            t.row.agreement.code,
            t.row.article_number,
            str(AgreementRowState(t.to_state).label),
            t.by,
            t.note,
        )
        for t in rows
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:HISTORY_LIMIT]

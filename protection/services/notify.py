"""Telling people on this floor: a message to each of several users, once each."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from patients.services import notification_send


def notify_each_once(users: Iterable[Any], *, subject: str, body: str) -> None:
    """A user named twice (a grant holder who is also an administrator) is told once."""
    seen: set[int] = set()
    for user in users:
        if user.pk not in seen:
            seen.add(user.pk)
            notification_send(user=user, subject=subject, body=body)

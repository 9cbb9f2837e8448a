"""Step-up (ACCESS-4): the user confirms their password again before a protected patient opens."""

from __future__ import annotations

import enum
import time

from django.db import transaction

from patients.models import AccessAction, AccessOutcome
from patients.services import access_entry_record
from protection.gate import STEP_UP_SESSION_KEY, AccessContext

STEP_UP_FAILURES_SESSION_KEY = "protection_step_up_failures"
# ACCESS-4 exists for a session someone else may be using: it must not become a place to guess
# the password. After this many wrong answers the session is ended.
STEP_UP_MAX_FAILURES = 5


class StepUp(enum.Enum):
    CONFIRMED = "confirmed"
    WRONG = "wrong"
    SIGNED_OUT = "signed_out"  # too many wrong answers: the caller must end the session


def step_up_confirm(*, ctx: AccessContext, password: str) -> StepUp:
    """ACCESS-4: the user re-enters their password; on success the session may open protected
    patients for the configured window."""
    ok = bool(ctx.user.is_authenticated and ctx.user.check_password(password))
    with transaction.atomic():
        access_entry_record(
            actor=ctx.actor,
            action=AccessAction.STEP_UP,
            outcome=AccessOutcome.ALLOWED if ok else AccessOutcome.DENIED,
        )
    if ctx.session is None:
        return StepUp.CONFIRMED if ok else StepUp.WRONG
    if ok:
        ctx.session[STEP_UP_SESSION_KEY] = time.time()
        ctx.session.pop(STEP_UP_FAILURES_SESSION_KEY, None)
        return StepUp.CONFIRMED
    failures = int(ctx.session.get(STEP_UP_FAILURES_SESSION_KEY, 0)) + 1
    ctx.session[STEP_UP_FAILURES_SESSION_KEY] = failures
    return StepUp.SIGNED_OUT if failures >= STEP_UP_MAX_FAILURES else StepUp.WRONG

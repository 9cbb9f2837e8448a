"""One refusal path for every floor: "not found", "confirm your password", and their audit.

The gate answers a read of a patient with a decision (``protection.gate``). A page or service
that needs the patient turns that answer into one of two exceptions, here and nowhere else:

- :class:`PatientNotFound`: a missing patient and a patient the user may not see get the same
  answer, a 404 (house style 5, ACCESS-1);
- :class:`StepUpRequired`: the user holds a grant but has not confirmed the password within the
  step-up window (ACCESS-4); the page sends them to confirm it and back.

Both are :class:`Refusal`\\ s. A refusal of a patient is logged (AUDIT-1), but it is usually raised
inside a service's transaction, and the exception rolls that transaction back, denied access
entry included. So a refusal carries its denied entries (:class:`Denial`), and
:func:`refusal_audit_keep` writes them again once the transaction that held them is gone. It is
called at the edges a refusal passes on its way out, and only there:

- :func:`refusals_kept`, a decorator placed *outside* a service's ``@transaction.atomic``;
- :func:`refusals_answered`, the view decorator that turns the two exceptions into the answer.

Whichever edge sees the exception first outside the rolled-back block writes the entries, so
each denial is kept exactly once, also when a service runs inside an outer transaction that the
same exception rolls back in turn. Floors build on :class:`Refusal` for refusals of their own
that must be audited (a refused document, PRINT-1).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlencode

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from patients.models import AccessAction, AccessOutcome, Patient
from patients.services import Actor, access_entries_record
from protection.gate import AccessContext, Decision, GateAnswer, patient_get_for_user

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Denial:
    """One denied access entry a refusal stands for (AUDIT-1). Internal ids only."""

    actor: Actor
    action: AccessAction
    patient: Patient
    object_type: str
    object_id: str


def _depth() -> int:
    """How many atomic blocks are open on the connection: 0 in autocommit."""
    return len(transaction.get_connection().atomic_blocks)


class Refusal(Exception):
    """A refusal whose denied access entries must outlive the transaction it rolls back.

    ``denials`` not yet written are written by the first edge the exception reaches
    (:func:`refusal_audit_keep`). Denials the code already wrote where it raised (the gate does,
    as it reads) are marked with :meth:`recorded_here`: they are written again only if the
    exception leaves the transaction they were written in.
    """

    def __init__(self, message: str = "", *, denials: Iterable[Denial] = ()) -> None:
        super().__init__(message)
        self.denials = list(denials)
        # The depth at which ``denials`` stand written; None: not written yet.
        self.recorded_at_depth: int | None = None

    def recorded_here(self) -> Refusal:
        self.recorded_at_depth = _depth()
        return self


class PatientNotFound(Refusal):
    """Missing, or not the user's to see: answered 404 either way (house style 5)."""


class StepUpRequired(Refusal):
    """The user must confirm the password first (ACCESS-4); answered by sending them to it."""


def refusal_audit_keep(refusal: Refusal) -> None:
    """Write the refusal's denials if no open transaction still holds them (AUDIT-1).

    Inside the transaction the denials were written in, nothing is to be done; once outside it
    (it rolled back as the exception left it), they are written at the current depth, and
    remembered as written there, so a further rolled-back level writes them once more and an
    edge that finds them in place writes nothing. A transaction already doomed cannot take a
    write: the next edge out does it.
    """
    if not refusal.denials:
        return
    depth = _depth()
    if refusal.recorded_at_depth is not None and depth >= refusal.recorded_at_depth:
        return
    if transaction.get_connection().needs_rollback:
        return
    # The denials of one object (a refused document names every patient it concerns) in one
    # INSERT: all of them are written, or none.
    patients: dict[tuple[Actor, AccessAction, str, str], list[Patient]] = {}
    for denial in refusal.denials:
        key = (denial.actor, denial.action, denial.object_type, denial.object_id)
        patients.setdefault(key, []).append(denial.patient)
    for (actor, action, object_type, object_id), denied in patients.items():
        access_entries_record(
            actor=actor,
            action=action,
            outcome=AccessOutcome.DENIED,
            patients=denied,
            object_type=object_type,
            object_id=object_id,
        )
    refusal.recorded_at_depth = depth


def refusals_kept(service: Callable[P, R]) -> Callable[P, R]:
    """Keep the audit of a refusal the service's own transaction rolled back. Put it above
    ``@transaction.atomic``, so that it runs after the rollback."""

    @functools.wraps(service)
    def kept(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return service(*args, **kwargs)
        except Refusal as refusal:
            refusal_audit_keep(refusal)
            raise

    return kept


def step_up_url(next_url: str) -> str:
    """The step-up page, coming back to ``next_url`` (a path of ours) once confirmed."""
    return f"{reverse('protection:step_up')}?{urlencode({'next': next_url})}"


NextUrl = Callable[..., str]


def refusals_answered(
    view: Callable[..., HttpResponse] | None = None, *, next_url: NextUrl | None = None
) -> Any:
    """The answer to a refused patient, for a view: 404 for :class:`PatientNotFound`, the
    step-up page for :class:`StepUpRequired`, coming back to ``next_url(request, *args,
    **kwargs)`` (default: the page asked for, for a GET; a POST has no page to come back to, so
    give ``next_url``). Keeps the refusal's audit first (AUDIT-1)."""

    def decorate(inner: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(inner)
        def answered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return inner(request, *args, **kwargs)
            except Refusal as refusal:
                refusal_audit_keep(refusal)
                if isinstance(refusal, StepUpRequired):
                    back = (
                        next_url(request, *args, **kwargs)
                        if next_url is not None
                        else request.get_full_path()
                    )
                    return redirect(step_up_url(back))
                if isinstance(refusal, PatientNotFound):
                    raise Http404 from None
                raise

        return answered

    return decorate(view) if view is not None else decorate


def not_found() -> PatientNotFound:
    """The one "not found" answer's message, for a missing object of any kind about a patient."""
    return PatientNotFound(_("No such patient or prescription."))


def patient_answer(ctx: AccessContext, patient_reference: str) -> GateAnswer:
    """The gate's answer for a page or service that needs to see who the patient is: the full
    answer, or :class:`PatientNotFound` (missing or masked, one answer) or
    :class:`StepUpRequired`. The gate logged the read (AUDIT-1); the refusal carries that
    denied entry, so it is kept if the caller's transaction rolls back."""
    try:
        answer = patient_get_for_user(ctx, patient_reference)
    except Patient.DoesNotExist:
        raise not_found() from None
    if answer.decision is Decision.FULL:
        return answer
    refusal: Refusal = (
        StepUpRequired(_("Confirm your password to work with this patient."))
        if answer.decision is Decision.STEP_UP
        else not_found()
    )
    refusal.denials.append(
        Denial(
            actor=ctx.actor,
            action=AccessAction.READ,
            patient=answer.patient,
            object_type="patient",
            object_id=answer.patient.reference,
        )
    )
    raise refusal.recorded_here()

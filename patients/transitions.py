"""State machines as data (house style 4), for every floor.

A floor describes each of its state machines once, as a :class:`StateMachine`: the table of
allowed moves and the model that keeps the history. Every change of state then goes through
:func:`transition_apply`, the one function that checks the move against the table, locks the
row, moves it and writes the history row, in the caller's transaction::

    DOCUMENT_JOB = StateMachine(
        name="document job",
        moves={"queued": frozenset({"rendering", "cancelled"}), ...},
        history_model=DocumentJobTransition,
        subject_field="job",
    )

    with transaction.atomic():
        transition_apply(machine=DOCUMENT_JOB, obj=job, to_state="cancelled", by=user)

The lock is a conditional UPDATE (``WHERE pk = ... AND state = <the state the caller read>``):
it takes the row lock, and it fails with :class:`StaleState` when someone else moved the row
since the caller read it, so two people acting at once can never both move it. A machine may
turn a refused move into the floor's own domain exception (``refuse``), with a message the user
can act on; without one, a refused move is a programming error (:class:`TransitionNotAllowed`).

The history model has ``from_state``, ``to_state``, ``note`` and a nullable user field (named
by ``actor_field``); it lives on the floor of the machine, beside the model it records. A new
one inherits :class:`TransitionRecord` and adds only the foreign key to what moved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy

# The "from" state of a row being created, in a table of moves: ``{"": {"queued"}}``.
CREATED = ""
NOTE_LENGTH = 300


class TransitionNotAllowed(RuntimeError):
    """The table of moves does not allow this move (a programming error, unless the machine
    turns it into a domain exception with ``refuse``)."""


class StaleState(TransitionNotAllowed):
    """The row is no longer in the state the caller read: someone moved it meanwhile."""


Refusal = Callable[[Any, str, str], Exception]


@dataclass(frozen=True)
class StateMachine:
    name: str
    # from-state -> the states it may move to; CREATED ("") for a row being created.
    moves: Mapping[str, frozenset[str]]
    history_model: type[models.Model]
    # The history row's foreign key to the object that moved.
    subject_field: str
    state_field: str = "state"
    # The history row's field for the user who made the move (None: the product itself).
    actor_field: str = "by"
    # (obj, from_state, to_state) -> the exception to raise for a move the table refuses.
    refuse: Refusal | None = field(default=None, compare=False)

    def allowed(self, from_state: str, to_state: str) -> bool:
        return to_state in self.moves.get(from_state, frozenset())

    def check(self, obj: Any, from_state: str, to_state: str) -> None:
        if self.allowed(from_state, to_state):
            return
        if self.refuse is not None:
            raise self.refuse(obj, from_state, to_state)
        raise TransitionNotAllowed(
            f"{self.name} {obj.pk}: {str(from_state)!r} -> {str(to_state)!r}"
        )


def _user_or_none(by: Any) -> Any:
    # An anonymous user (or None) is the product itself: the history stores no user then.
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def history_record(
    *,
    machine: StateMachine,
    obj: Any,
    from_state: str,
    to_state: str,
    by: Any = None,
    note: str = "",
) -> models.Model:
    """Write one history row without moving anything: for a move already made by a claim (a
    conditional UPDATE of a worker), or a note on the object's life that keeps its state
    (``from_state == to_state``)."""
    return machine.history_model._default_manager.create(
        **{
            machine.subject_field: obj,
            "from_state": from_state,
            "to_state": to_state,
            machine.actor_field: _user_or_none(by),
            "note": note[:NOTE_LENGTH],
        }
    )


def transition_apply(
    *,
    machine: StateMachine,
    obj: Any,
    to_state: str,
    by: Any = None,
    note: str = "",
    **fields: Any,
) -> models.Model:
    """Move ``obj`` to ``to_state``, setting ``fields`` with it, and write the history row.

    Checks the move against the table (from the state the caller read), locks and moves the row
    with a conditional UPDATE (:class:`StaleState` when it moved meanwhile), updates ``obj`` in
    memory and returns the history row. Must run inside the caller's transaction, so that the
    move, the fields and the history commit together or not at all.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{machine.name}: a transition must run inside a transaction")
    from_state = getattr(obj, machine.state_field)
    machine.check(obj, from_state, to_state)
    moved = (
        type(obj)
        ._default_manager.filter(pk=obj.pk, **{machine.state_field: from_state})
        .update(**{machine.state_field: to_state}, **fields)
    )
    if moved != 1:
        raise StaleState(f"{machine.name} {obj.pk}: no longer {str(from_state)!r}")
    setattr(obj, machine.state_field, to_state)
    for name, value in fields.items():
        setattr(obj, name, value)
    return history_record(
        machine=machine, obj=obj, from_state=from_state, to_state=to_state, by=by, note=note
    )


def transition_created(
    *, machine: StateMachine, obj: Any, by: Any = None, note: str = ""
) -> models.Model:
    """The history row of a row just created in its first state (a move from CREATED)."""
    to_state = getattr(obj, machine.state_field)
    machine.check(obj, CREATED, to_state)
    return history_record(
        machine=machine, obj=obj, from_state=CREATED, to_state=to_state, by=by, note=note
    )


class TransitionRecord(models.Model):
    """The fields of a history model (abstract): a floor's model adds the foreign key to the
    object that moved, named by the machine's ``subject_field``; ``by`` is its ``actor_field``.
    The states are checked by the machine's table, so the columns need no choices."""

    from_state = models.CharField(gettext_lazy("from"), max_length=32, blank=True)
    to_state = models.CharField(gettext_lazy("to"), max_length=32)
    # Null when the product itself made the change (a scheduled task, a worker).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("by"),
    )
    at = models.DateTimeField(gettext_lazy("when"), db_default=Now())
    note = models.CharField(gettext_lazy("note"), max_length=NOTE_LENGTH, blank=True, default="")

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        # People read this as a history row's title in the admin: the states' names, never the
        # keys or the subject's id ("7:->draft").
        to_label = self._state_label("to_state")
        if not self.from_state:
            return to_label
        return f"{self._state_label('from_state')} → {to_label}"

    def _state_label(self, name: str) -> str:
        value = getattr(self, name)
        labels = dict(self._meta.get_field(name).flatchoices)  # type: ignore[union-attr]
        return str(labels.get(value, value))

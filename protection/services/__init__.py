"""Writes on the protection floor, one module per concern; callers import from the module:

- ``step_up``: the password confirmed again before a protected patient opens (ACCESS-4);
- ``emergency``: break the glass (ACCESS-7);
- ``grants``: grant requests, their decision, and the end of grants (ACCESS-2, -3, -5, -6);
- ``local`` and ``reserve_number``: the kinds of protection health care decides (PROT-1, PROT-6),
  sharing what every such decision does in ``decisions``;
- ``holds``: the decision that lifts a protection the register no longer reports (PROT-3/4);
- ``register_events``: telling the responsible people what the register changed (PROT-3/4);
- ``reminders``: told before a local protection or a grant ends (PROT-6, ACCESS-5);
- ``review``: the review of an emergency access (ACCESS-7, AUDIT-3).

Each service locks what it changes, checks, then writes, and records an access entry for every
change about a patient (AUDIT-1). Messages carry case numbers and internal references, never a
person (LEAK-2). Every refusal a user can act on is a :class:`ProtectionError`.
"""

from __future__ import annotations


class ProtectionError(Exception):
    """A request the rules refuse; the message tells the user what to do instead."""

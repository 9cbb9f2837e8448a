"""Extension points higher floors fill in, so that this floor never imports them.

``open_case_providers``: callables returning short descriptions of a patient's open cases
(prescriptions, orders) per unit; shown to the protection administrator before a grant is
decided (ACCESS-3). Higher floors append to it in their ``AppConfig.ready``.

``protection_added_handlers``: callables taking a patient id, called when the transaction that
put the patient under protection commits (PROT-1, PROT-3; the register or a decision here).
Higher floors hand the work to a task of their own (ids only, LEAK-1); PRESC-2 moves open
orders to the prescriber's unit that way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from patients.models import Patient


@dataclass(frozen=True)
class OpenCase:
    unit_name: str
    reference: str
    kind: str


# provider(patient, exclude_unit_id) -> the patient's open cases in units other than that one
open_case_providers: list[Callable[[Patient, int | None], list[OpenCase]]] = []


def open_cases_elsewhere(patient: Patient, *, exclude_unit_id: int | None) -> list[OpenCase]:
    return [case for provider in open_case_providers for case in provider(patient, exclude_unit_id)]


# handler(patient_id) -> None; enqueue a task, never do the work in the caller's transaction
protection_added_handlers: list[Callable[[int], None]] = []


def protection_added_on_commit(patient_id: int) -> None:
    """Tell the higher floors, once the transaction commits, that the patient is protected."""
    for handler in protection_added_handlers:
        transaction.on_commit(partial(handler, patient_id))

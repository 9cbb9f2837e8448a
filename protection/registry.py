"""Extension points higher floors fill in, so that this floor never imports them.

``open_case_providers``: callables returning short descriptions of a patient's open cases
(prescriptions, orders) per unit; shown to the protection administrator before a grant is
decided (ACCESS-3). Higher floors append to it in their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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

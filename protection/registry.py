"""Extension points higher floors fill in, so that this floor never imports them.

``open_case_providers``: callables returning short descriptions of a patient's open cases
(prescriptions, orders) per unit; shown to the protection administrator before a grant is
decided (ACCESS-3). Higher floors append to it in their ``AppConfig.ready``.

``protection_added_handlers``: callables taking a patient id, called when the transaction that
put the patient under protection commits (PROT-1, PROT-3; the register or a decision here).
Higher floors hand the work to a task of their own (ids only, LEAK-1); PRESC-2 moves open
orders to the prescriber's unit that way.

``unit_case_open_checks``: callables ``(patient_id, unit_id) -> bool`` answering whether the
unit still has an open case for the patient (a prescription not yet decided, an order not yet
delivered, a pickup not done, a work order not finished). A higher floor that closes a case
records it with ``protection.services.case_end.case_closed_record``; once no check answers
True, the grants the unit's requests gave for the patient end (ACCESS-8).

``patient_page_sections``: ``PatientPageSectionProvider``s that add a section to the patient
page (the logistics floor lists the devices the patient holds). The page asks them only when the
gate shows the full card, never on the masked card, and after the gate logged the read
(AUDIT-1); each answers with a title, its own template and that template's context, or None to
show nothing to this user. They run on every full patient page, and most patients have nothing
in most sections: so each names the rows it lists (``rows``), the page asks whether any exist
for every section in one statement, and a section with none draws its empty state without a
query of its own (issue 16).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Exists, QuerySet
from django.utils.functional import Promise

from patients.models import Patient

if TYPE_CHECKING:
    from protection.gate import AccessContext


@dataclass(frozen=True)
class OpenCase:
    unit_name: str
    reference: str
    kind: str


# provider(patient, exclude_unit_id) -> the patient's open cases in units other than that one
open_case_providers: list[Callable[[Patient, int | None], list[OpenCase]]] = []


def open_cases_elsewhere(patient: Patient, *, exclude_unit_id: int | None) -> list[OpenCase]:
    return [case for provider in open_case_providers for case in provider(patient, exclude_unit_id)]


# check(patient_id, unit_id) -> does the unit still have an open case for the patient (ACCESS-8)
unit_case_open_checks: list[Callable[[int, int], bool]] = []


def unit_has_open_case(*, patient_id: int, unit_id: int) -> bool:
    return any(check(patient_id, unit_id) for check in unit_case_open_checks)


# handler(patient_id) -> None; enqueue a task, never do the work in the caller's transaction
protection_added_handlers: list[Callable[[int], None]] = []


def protection_added_on_commit(patient_id: int) -> None:
    """Tell the higher floors, once the transaction commits, that the patient is protected."""
    for handler in protection_added_handlers:
        transaction.on_commit(partial(handler, patient_id))


@dataclass(frozen=True)
class PatientPageSection:
    """One section of the full patient page, drawn by the page under an ``<h2>`` of ``title``
    (so headings stay in order): the body is ``template_name`` rendered with ``context``."""

    # Unique on the page: the section's heading id is made from it.
    key: str
    title: str | Promise
    template_name: str
    context: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class PatientPageSectionProvider:
    """A higher floor's section of the full patient page."""

    # The section for this user and patient; ``has_rows`` is False when ``rows`` found none for
    # the patient, and the section then reads nothing more (its empty state). None: nothing to
    # show this user.
    section: Callable[[AccessContext, Patient, bool], PatientPageSection | None]
    # The rows the section lists for a patient (by id), as the user may read them: asked with
    # the other sections' in one ``EXISTS`` statement, so it must be the section's own filter.
    rows: Callable[[int], QuerySet[Any]]
    # Whether the section is for this user at all (their role); no query of any kind if not.
    shown_to: Callable[[AccessContext], bool] = lambda ctx: True


patient_page_sections: list[PatientPageSectionProvider] = []


def patient_page_sections_for(ctx: AccessContext, patient: Patient) -> list[PatientPageSection]:
    """The sections of the full card for this user, in the order they were registered. Call it
    only for a patient the gate showed this user in full. One statement asks which sections
    have rows for the patient (none when no section is for this user); each section with rows
    then reads them."""
    providers = [provider for provider in patient_page_sections if provider.shown_to(ctx)]
    if not providers:
        return []
    # On the patient's own row, which the gate has just read as this user: one index lookup.
    has_rows = (
        Patient.objects.filter(pk=patient.pk)
        .values_list(*(Exists(provider.rows(patient.pk)) for provider in providers))
        .get()
    )
    found = (
        provider.section(ctx, patient, bool(present))
        for provider, present in zip(providers, has_rows, strict=True)
    )
    return [section for section in found if section is not None]

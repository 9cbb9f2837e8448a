"""Free text that people without a grant read (LEAK-1, LEAK-2): what it may not say.

A grant request's case number and reason, a break-the-glass reason and the receiver and reason
of a document forwarded to another principal reach notifications, the request list, the log
review and the history, read by people who may not know who the patient is. So such text may
not hold an identity number in any spelling, nor the patient's own name or address, which the
server reads in a system context for this check only, even when the writer may not see it. The
refusal names the field and the kinds of thing not allowed, never what it found.

A case number is stricter: it is a case or an order number in that format and nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

from django.utils.translation import gettext as _

from patients.freetext import mentions_patient
from patients.identity import contains_identity_number
from patients.models import PatientIdentity
from protection.rls import system_context

__all__ = ["CASE_OR_ORDER_NUMBER", "case_number_canonical", "free_text_refusal"]

# The region's case number (ÄR-2026-0042: year and running number) or a prescription's order
# number (F- and eight characters, prescriptions.models.new_prescription_reference). Neither
# has room for the ten digits of a personnummer.
CASE_OR_ORDER_NUMBER: Final = re.compile(r"ÄR-20[0-9]{2}-[0-9]{1,5}|F-[0-9A-Z]{8}")


def case_number_canonical(text: str) -> str | None:
    """The case or order number in ``text`` in its canonical form (upper case, no spaces
    around), or ``None`` when ``text`` is anything else."""
    canonical = unicodedata.normalize("NFKC", text).strip().upper()
    return canonical if CASE_OR_ORDER_NUMBER.fullmatch(canonical) else None


def free_text_refusal(
    text: str, *, field: str, patient_ids: Iterable[int], city: bool = True
) -> str | None:
    """The message refusing ``text`` for ``field`` when it holds an identity number or names
    one of the patients (name, street, c/o, postal code and, with ``city``, the city), else
    ``None``. The message never repeats what was found."""
    if not text.strip():
        return None
    names_patient = contains_identity_number(text)
    if not names_patient:
        # For this check only: the identity is compared here and goes nowhere else.
        with system_context():
            identities = list(PatientIdentity.objects.filter(patient_id__in=list(patient_ids)))
        names_patient = any(mentions_patient(text, one, city=city) for one in identities)
    if not names_patient:
        return None
    return _(
        "%(field)s: write no personnummer, name or address of the patient here. People who "
        "may not know who the patient is read this text."
    ) % {"field": field}

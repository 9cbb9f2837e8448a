"""Opaque, short-lived handles to a patient shown as a masked card.

A masked search hit must not reveal the patient's internal reference: whoever can search by
personnummer would otherwise learn which reference is whose, and the log review shows
references with units (ACCESS-1: nothing that links the person to a place). The masked card's
actions (emergency access, a grant request) carry this token instead, in a POST body only. It is
encrypted (AES-GCM, not merely signed, so the patient id cannot be read from it), bound to the
user who saw the card, and expires.
"""

from __future__ import annotations

import time

from patients.crypto import DecryptionError, decrypt_text, encrypt_text
from patients.models import Patient

_CONTEXT = "protection.masked-patient"
MAX_AGE_SECONDS = 30 * 60


def masked_token(*, patient_id: int, user_id: int) -> str:
    return encrypt_text(f"{patient_id}:{user_id}:{int(time.time())}", context=_CONTEXT)


def patient_from_masked_token(token: str, *, user_id: int) -> Patient | None:
    """The patient, or None for a token that is forged, expired, or another user's."""
    try:
        patient_id, token_user, issued = (
            int(part) for part in decrypt_text(token, context=_CONTEXT).split(":")
        )
    except (DecryptionError, ValueError):
        return None
    if token_user != user_id or not 0 <= time.time() - issued <= MAX_AGE_SECONDS:
        return None
    return Patient.objects.filter(pk=patient_id).first()

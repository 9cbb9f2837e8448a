"""The people and numbers that tests on every floor share, as plain functions and constants.

The fixtures built from them (``protected``, ``prescriber``) are in tests/conftest.py. Identity
numbers are Skatteverket's test numbers (IDENT-4).
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client
from django.utils import timezone
from guardian.shortcuts import assign_perm

from patients.models import Patient, PatientIdentity, StaffProfile
from patients.services import Actor
from protection.gate import PROTECTED_PERMISSION, STEP_UP_SESSION_KEY, AccessContext
from protection.models import Grant
from tests.factories import PatientIdentityFactory

# The patient with protected identity (Hemlig Gömdasson) and an ordinary one.
PROTECTED_NUMBER = "198912232389"
ORDINARY_NUMBER = "198912222398"


def ordinary_identity_create() -> PatientIdentity:
    """An ordinary resident (Karin Nilsson) with no address on file."""
    return PatientIdentityFactory.create(
        personal_identity_number=ORDINARY_NUMBER, given_names="Karin", surname="Nilsson"
    )


def today() -> date:
    return timezone.localdate()


def reloaded(patient: Patient) -> Patient:
    """The patient as the database has it now (``is_protected`` is computed there)."""
    return Patient.objects.get(pk=patient.pk)


def protected_identity_create() -> PatientIdentity:
    """The patient with protected identity (Hemlig Gömdasson, with an address) that the tests
    hide (ACCESS-1, LEAK-1); nobody holds a grant yet (:func:`give_grant` gives one). The
    fixture ``protected`` in tests/conftest.py is this."""
    identity = PatientIdentityFactory.create(
        personal_identity_number=PROTECTED_NUMBER,
        given_names="Hemlig",
        surname="Gömdasson",
        registered_address={"street2": "Gömdavägen 7", "postal_code": "21120", "city": "MALMÖ"},
    )
    identity.patient.protected_registration = True
    identity.patient.save()
    # The database computes is_protected from the flag; reload it so the test sees it.
    identity.patient.refresh_from_db()
    return identity


def give_grant(
    user: Any, identity: PatientIdentity, *, days: int = 30, started_days_ago: int = 1
) -> Grant:
    """A grant in force, as a decided request would create it (dates and guardian permission)."""
    now = timezone.now()
    grant = Grant.objects.create(
        user=user,
        patient=identity.patient,
        starts_at=now - timedelta(days=started_days_ago),
        ends_at=now + timedelta(days=days),
    )
    assign_perm(PROTECTED_PERMISSION, user, identity.patient)
    return grant


def ctx_for(user: Any, *, stepped_up: bool = False) -> AccessContext:
    """What a request of ``user`` would hand the services (a session for the step-up check)."""
    session = SessionBase()
    if stepped_up:
        session[STEP_UP_SESSION_KEY] = time.time()
    # A user without a staff profile (a bare account) acts from no unit.
    unit_id = StaffProfile.objects.filter(user_id=user.pk).values_list("unit_id", flat=True).first()
    actor = Actor(user_id=user.pk, unit_id=unit_id, ip_address=None, session_ref="")
    return AccessContext(user=user, actor=actor, session=session)


def logged_in(client: Client, user: Any, *, stepped_up: bool = False) -> Client:
    """``client`` logged in as ``user``, in English; ``stepped_up`` confirms the password too
    (ACCESS-4), as a user would on the step-up page."""
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if stepped_up:
        response = client.post("/protection/step-up/", {"password": "pw-for-tests-only"})
        assert response.status_code == 302
    return client


def masked_token(client: Client, number: str = PROTECTED_NUMBER) -> str:
    """Search like a user and take the opaque token the masked card's buttons carry."""
    content = client.post("/", {"number": number}).content.decode()
    match = re.search(r'name="patient_token" value="([^"]+)"', content)
    assert match, "the masked card offers no action"
    return match.group(1)

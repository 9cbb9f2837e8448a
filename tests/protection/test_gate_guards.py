"""The gate counts a patient's PROT-5 guards as the database does, whatever the user may read.

A guardian of a protected child is guarded by the child (PROT-5). The register row that links
them is hidden by row-level security from a user who cannot open every protected patient
guarding it: when the child is linked to a second protected person (a protected sibling) and
the user holds a grant for the child only, the user reads the guardian's identity (its only
guard, the child, is open to them) but not the link. Counting the guards from what the user
reads found none, and the grant holder saw the guardian in full without confirming the
password (ACCESS-4). The guards come from ``hjm_patient_guards`` now, read whoever asks.
"""

from __future__ import annotations

from typing import Any

import pytest

from patients.models import AccessEntry, AccessOutcome, PatientIdentity
from protection.gate import Decision, decide
from protection.rls import patient_guard_ids
from tests.factories import PatientIdentityFactory, PatientRelationFactory
from tests.personas import give_grant, logged_in, reloaded

pytestmark = pytest.mark.django_db

GUARDIAN_NUMBER = "197501079292"
SIBLING_NUMBER = "201201012398"
CHILD_NUMBER = "201201012380"


def _protected(number: str, given_names: str) -> PatientIdentity:
    identity = PatientIdentityFactory.create(
        personal_identity_number=number, given_names=given_names, surname="Skyddadsson"
    )
    identity.patient.protected_registration = True
    identity.patient.save()
    identity.patient = reloaded(identity.patient)
    return identity


def _family(guardian_link: str) -> tuple[PatientIdentity, PatientIdentity, PatientIdentity]:
    """A protected child, their protected sibling, and the child's guardian (not protected
    themself). ``guardian_link``: on whose record the register keeps the guardian link."""
    child = _protected(CHILD_NUMBER, "Lilla")
    sibling = _protected(SIBLING_NUMBER, "Syskon")
    guardian = PatientIdentityFactory.create(
        personal_identity_number=GUARDIAN_NUMBER,
        given_names="Vårdnadshavare",
        surname="Föräldersson",
    )
    PatientRelationFactory(patient=child.patient, related_identity_number=SIBLING_NUMBER)
    if guardian_link == "on_guardian":
        PatientRelationFactory(patient=guardian.patient, related_identity_number=CHILD_NUMBER)
    else:
        PatientRelationFactory(
            patient=child.patient, related_identity_number=GUARDIAN_NUMBER, kind="V"
        )
    return child, sibling, guardian


def _page(client: Any, identity: PatientIdentity) -> Any:
    return client.get(f"/patients/{identity.patient.reference}/")


@pytest.mark.parametrize("guardian_link", ["on_guardian", "on_child"])
def test_prot_5_access_4_guardian_of_a_grant_holders_child_asks_for_step_up(
    client, prescriber, guardian_link
):
    """PROT-5, ACCESS-4: the guardian of a protected child, for a user holding a grant for the
    child (not for the child's protected sibling), opens only after the password is confirmed,
    as the child does. Before the fix the guardian's page opened straight away."""
    child, _sibling, guardian = _family(guardian_link)
    assert patient_guard_ids(guardian.patient.pk) == [child.patient.pk]
    give_grant(prescriber, child)
    logged_in(client, prescriber)
    response = _page(client, guardian)
    assert response.status_code == 302
    assert response["Location"].startswith("/protection/step-up/")
    # AUDIT-1: the refused read is logged.
    entry = AccessEntry.objects.filter(action="read", patient=guardian.patient).get()
    assert entry.outcome == AccessOutcome.DENIED
    assert AccessEntry.objects.filter(action="read", outcome=AccessOutcome.ALLOWED).count() == 0


@pytest.mark.parametrize("guardian_link", ["on_guardian", "on_child"])
def test_prot_5_access_4_guardian_opens_after_step_up(client, prescriber, guardian_link):
    """PROT-5, ACCESS-1: the same guardian opens in full once the password is confirmed (the
    grant for the child is enough, the sibling guards the child, not the guardian)."""
    _child, _sibling, guardian = _family(guardian_link)
    give_grant(prescriber, _child)
    logged_in(client, prescriber, stepped_up=True)
    response = _page(client, guardian)
    assert response.status_code == 200
    assert "Föräldersson" in response.content.decode()
    entry = AccessEntry.objects.filter(action="read", patient=guardian.patient).get()
    assert entry.outcome == AccessOutcome.ALLOWED


@pytest.mark.parametrize("guardian_link", ["on_guardian", "on_child"])
def test_prot_5_guardian_stays_masked_without_a_grant_for_the_child(
    client, prescriber, guardian_link
):
    """PROT-5: a grant for the sibling alone opens neither the child nor the guardian."""
    _child, sibling, guardian = _family(guardian_link)
    give_grant(prescriber, sibling)
    logged_in(client, prescriber, stepped_up=True)
    assert "Föräldersson" not in _page(client, guardian).content.decode()


def test_access_4_decide_asks_a_grant_holder_to_step_up_for_every_guarded_patient(prescriber):
    """ACCESS-4: ``decide`` answers STEP_UP, never FULL, for a grant holder who has not
    confirmed the password, for the protected patient and for each person linked to them,
    whatever identity row the caller hands it; FULL once confirmed."""
    from tests.personas import ctx_for

    child, sibling, guardian = _family("on_guardian")
    give_grant(prescriber, child)
    give_grant(prescriber, sibling)
    for identity in (child, sibling, guardian):
        assert decide(ctx_for(prescriber), identity.patient, identity) is Decision.STEP_UP
        assert (
            decide(ctx_for(prescriber, stepped_up=True), identity.patient, identity)
            is Decision.FULL
        )

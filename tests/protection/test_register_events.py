"""What the register changes reaches the people responsible, and held protection is lifted only by
a recorded decision (PROT-3, PROT-4, LEAK-2). Register events come from the real Navet import.
Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

import inspect
import threading
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from patients.models import (
    AccessEntry,
    Notification,
    Patient,
    PatientIdentity,
    RegisterEvent,
)
from protection import kinds, tasks
from protection.gate import Decision, decide
from protection.models import ProtectionReview
from protection.services import ProtectionError
from tests.audit_log import access_log_cleared  # noqa: F401 (a fixture the worker requests)
from tests.celery_worker import celery_worker_process  # noqa: F401 (a fixture, used by name)
from tests.factories import UnitFactory, UserFactory
from tests.patients.test_navet_import import navet, post
from tests.personas import ctx_for, give_grant, logged_in


@pytest.fixture(autouse=True)
def _english_messages():
    """Messages are compared in English; the Swedish catalogue is exercised by the pages."""
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db

KARL = "194201077098"
MARIA = "194201199124"
# What a message must never carry (LEAK-2): the person's names, address and numbers.
PERSONAL = ("Testa", "Testsson", "Provgatan", "MALMÖ", KARL, KARL[2:], MARIA, MARIA[2:])
DECEASED = (
    "<Avregistrering><AvregistreringsorsakKod>AV</AvregistreringsorsakKod>"
    "<Avregistreringsdatum>20261118</Avregistreringsdatum></Avregistrering>"
)


class Register:
    """Imports small Navet files in order, as the register would deliver them."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.count = 0

    def deliver(self, *posts: str) -> None:
        self.count += 1
        path = navet(self.tmp_path / f"avi-{self.count}.xml", *posts, order=f"T-{self.count}")
        call_command("import_navet", str(path), "--json", stdout=StringIO())


def identity(number: str) -> PatientIdentity:
    return PatientIdentity.objects.select_related("patient").get(personal_identity_number=number)


def patient_of(number: str) -> Patient:
    return Patient.objects.get(identity__personal_identity_number=number)


def assert_no_personal_data() -> None:
    """LEAK-2: every message names the internal reference only."""
    for subject, body in Notification.objects.values_list("subject", "body"):
        for secret in PERSONAL:
            assert secret not in subject
            assert secret not in body


@pytest.fixture
def register(tmp_path) -> Register:
    return Register(tmp_path)


@pytest.fixture
def unit():
    return UnitFactory(name="Hjälpmedel Syd")


@pytest.fixture
def nurse(unit):
    return UserFactory(username="nurse", role="prescriber", unit=unit)


@pytest.fixture
def manager(unit):
    return UserFactory(username="chefen", role="unit_manager", unit=unit)


@pytest.fixture
def elsewhere_manager():
    return UserFactory(username="annan", role="unit_manager", unit=UnitFactory(name="Rehab Norr"))


@pytest.fixture
def admin():
    return UserFactory(username="skydd", role="protection_admin")


def inbox(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("subject", flat=True))


# --- PROT-4 ------------------------------------------------------------------------------------


def test_prot_4_register_dropping_protection_keeps_the_patient_protected(register, nurse):
    register.deliver(post(KARL, sekretess="J"))
    give_grant(nurse, identity(KARL))
    register.deliver(post(KARL, sekretess="N"))
    patient = patient_of(KARL)
    assert (patient.confidentiality_marking, patient.protection_held) == (False, True)
    assert patient.is_protected
    ctx = ctx_for(UserFactory(username="ingen", role="prescriber"))
    assert decide(ctx, patient, identity(KARL)) is Decision.MASKED
    assert RegisterEvent.objects.filter(patient=patient, kind="protection_removed").exists()


def test_prot_4_handling_tells_holders_their_managers_and_admins_without_personal_data(
    register, nurse, manager, elsewhere_manager, admin
):
    register.deliver(post(KARL, sekretess="J"))
    give_grant(nurse, identity(KARL))
    register.deliver(post(KARL, sekretess="N"))
    assert kinds.register_events_handle() == 2  # protection_added, then protection_removed
    reference = patient_of(KARL).reference
    dropped = f"Patient {reference}: the register no longer reports protection"
    assert inbox(nurse) == [dropped]
    assert inbox(manager) == [dropped]
    assert inbox(elsewhere_manager) == []  # not responsible for this patient
    assert set(inbox(admin)) == {dropped, f"Patient {reference}: protection added by the register"}
    assert RegisterEvent.objects.filter(handled_at__isnull=True).count() == 0
    assert_no_personal_data()


def test_prot_4_handling_twice_notifies_once(register, nurse, manager, admin):
    register.deliver(post(KARL, sekretess="J"))
    give_grant(nurse, identity(KARL))
    register.deliver(post(KARL, sekretess="N"))
    tasks.handle_register_events()
    sent = Notification.objects.count()
    assert tasks.handle_register_events() == 0
    assert Notification.objects.count() == sent == 4  # admin twice, nurse, manager


def test_prot_4_handling_works_in_batches_and_marks_every_kind(register, admin):
    register.deliver(post(KARL, sekretess="J"), post(MARIA, extra=DECEASED))
    assert kinds.register_events_handle(batch_size=1) == 2
    # The unprotected death needs nothing from this floor, but is marked handled here.
    assert RegisterEvent.objects.get(kind="deceased").handled_at is not None
    assert inbox(admin) == [
        f"Patient {patient_of(KARL).reference}: protection added by the register"
    ]


def test_prot_4_only_a_protection_admin_releases_the_hold(register, manager, admin, nurse):
    register.deliver(post(KARL, sekretess="J"))
    register.deliver(post(KARL, sekretess="N"))
    patient = patient_of(KARL)
    for user in (manager, nurse):
        with pytest.raises(ProtectionError, match="Only a protection administrator"):
            kinds.protection_hold_release(
                ctx=ctx_for(user), patient=patient, note="Skatteverket har hävt skyddet"
            )
    assert patient_of(KARL).is_protected
    review = kinds.protection_hold_release(
        ctx=ctx_for(admin), patient=patient, note="Skatteverket har hävt skyddet"
    )
    assert review.register_event is not None
    assert (review.decided_by, review.register_event.kind) == (admin, "protection_removed")
    released = patient_of(KARL)
    assert (released.protection_held, released.is_protected) == (False, False)
    entry = AccessEntry.objects.get(object_type="protection_review")
    assert (entry.action, entry.user_id, entry.patient_protected) == ("change", admin.pk, True)


def test_prot_4_release_is_refused_while_a_register_flag_is_still_j(register, admin):
    register.deliver(post(KARL, skyddad="J"))
    register.deliver(post(KARL, skyddad="N"))
    register.deliver(post(KARL, skyddad="J"))  # the register protects again; the hold stays
    patient = patient_of(KARL)
    assert (patient.protected_registration, patient.protection_held) == (True, True)
    with pytest.raises(ProtectionError, match="still reports"):
        kinds.protection_hold_release(ctx=ctx_for(admin), patient=patient, note="Felaktigt hävt")
    assert patient_of(KARL).protection_held
    assert ProtectionReview.objects.count() == 0


def test_prot_4_release_needs_a_note_and_a_hold(register, admin):
    register.deliver(post(KARL, sekretess="J"))
    with pytest.raises(ProtectionError, match="no held protection"):
        kinds.protection_hold_release(
            ctx=ctx_for(admin), patient=patient_of(KARL), note="Skatteverket har hävt skyddet"
        )
    register.deliver(post(KARL, sekretess="N"))
    with pytest.raises(ProtectionError, match=r"^Note:"):
        kinds.protection_hold_release(ctx=ctx_for(admin), patient=patient_of(KARL), note=" ")
    assert patient_of(KARL).is_protected


# serialized_rollback: the rows the migrations load (regions) come back after the flush.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_prot_4_a_run_skips_events_another_run_holds(register, admin):
    """Two runs at once never act on one event: rows another run has locked are skipped, and
    handled by whichever run gets them next."""
    register.deliver(post(KARL, sekretess="J"))
    holding, done = threading.Event(), threading.Event()

    def other_run() -> None:
        try:
            with transaction.atomic():
                list(RegisterEvent.objects.select_for_update())
                holding.set()
                done.wait(30)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_run)
    other.start()
    try:
        assert holding.wait(30)
        assert kinds.register_events_handle() == 0
    finally:
        done.set()
        other.join()
    assert kinds.register_events_handle() == 1
    assert Notification.objects.count() == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_prot_4_the_periodic_task_runs_on_a_real_worker(
    celery_worker_process,  # noqa: F811 (the imported fixture)
    register,
    nurse,
    manager,
    admin,
):
    """The beat entry's task, sent through the broker with no arguments, does the same work."""
    register.deliver(post(KARL, sekretess="J"))
    give_grant(nurse, identity(KARL))
    register.deliver(post(KARL, sekretess="N"))
    tasks.handle_register_events.delay()
    deadline = time.monotonic() + 30
    while RegisterEvent.objects.filter(handled_at__isnull=True).exists():
        assert time.monotonic() < deadline, celery_worker_process.log()
        time.sleep(0.2)
    # The worker has no request and writes in the product's default language, Swedish.
    with translation.override("sv"):
        dropped = str(
            translation.gettext("Patient %(reference)s: the register no longer reports protection")
            % {"reference": patient_of(KARL).reference}
        )
    assert inbox(nurse) == inbox(manager) == [dropped]
    assert_no_personal_data()


# --- PROT-3 ------------------------------------------------------------------------------------


def test_prot_3_death_of_a_protected_patient_reveals_nothing_and_tells_admins(
    register, admin, nurse
):
    register.deliver(post(KARL, sekretess="J"))
    give_grant(nurse, identity(KARL))
    register.deliver(post(KARL, sekretess="J", extra=DECEASED))
    patient = patient_of(KARL)
    assert (patient.status, patient.is_protected) == ("deceased", True)
    kinds.register_events_handle()
    died = f"Patient {patient.reference}: deceased, protection kept"
    assert died in inbox(admin)
    assert died not in inbox(nurse)  # the special routine ends; administrators decide
    assert_no_personal_data()
    # The register dropping the flag after the death still needs the recorded decision.
    register.deliver(post(KARL, sekretess="N", extra=DECEASED))
    assert patient_of(KARL).is_protected
    review = kinds.protection_hold_release(
        ctx=ctx_for(admin), patient=patient, note="Beslut efter prövning enligt OSL 25:1"
    )
    assert review.register_event is not None
    assert review.register_event.kind == "protection_removed"
    assert not patient_of(KARL).is_protected


def test_prot_3_local_protection_of_a_deceased_patient_is_held_when_it_ends(register, admin):
    register.deliver(post(KARL, extra=DECEASED))
    manager = UserFactory(username="chefen", role="unit_manager", unit=UnitFactory())
    protection = kinds.local_protection_decide(
        ctx=ctx_for(manager),
        patient=patient_of(KARL),
        unit_id=manager.staff_profile.unit_id,
        reason="Hot mot familjen efter dödsfallet",
        ends_on=timezone.localdate() + timedelta(days=10),
    )
    kinds.local_protection_end(ctx=ctx_for(manager), protection_id=protection.pk, reason="")
    patient = patient_of(KARL)
    assert (patient.local_protection, patient.protection_held, patient.is_protected) == (
        False,
        True,
        True,
    )
    kinds.protection_hold_release(
        ctx=ctx_for(admin), patient=patient, note="Inget skyddsbehov kvar efter prövning"
    )
    assert not patient_of(KARL).is_protected


# --- the administrators' page ------------------------------------------------------------------


def test_prot_4_holds_page_lists_held_patients_by_reference_and_releases(client, register, admin):
    register.deliver(post(KARL, sekretess="J"))
    register.deliver(post(KARL, sekretess="N"))
    reference = patient_of(KARL).reference
    logged_in(client, admin)
    content = client.get("/protection/holds/").content.decode()
    assert reference in content
    assert "1942" in content  # birth year
    assert "Protection dropped by the register" in content  # the event that caused the hold
    assert not any(secret in content for secret in PERSONAL)
    refused = client.post(f"/protection/holds/{reference}/release/", {f"{reference}-note": ""})
    assert "Decision note: This field is required." in refused.content.decode()
    response = client.post(
        f"/protection/holds/{reference}/release/",
        {f"{reference}-note": "Skatteverket har hävt skyddet, kontrollerat"},
    )
    assert response.status_code == 302
    assert not patient_of(KARL).is_protected
    after = client.get("/protection/holds/").content.decode()
    assert "Skatteverket har hävt skyddet, kontrollerat" in after  # recent decisions


def test_prot_4_releasing_a_patient_without_a_hold_says_why(client, register, admin):
    register.deliver(post(KARL, sekretess="J"))
    reference = patient_of(KARL).reference
    logged_in(client, admin)
    response = client.post(
        f"/protection/holds/{reference}/release/", {f"{reference}-note": "Försök att häva skyddet"}
    )
    assert f"Patient {reference} has no held protection to release." in response.content.decode()
    assert patient_of(KARL).is_protected


def test_prot_4_holds_page_refuses_release_while_the_register_protects(client, register, admin):
    register.deliver(post(KARL, skyddad="J"))
    register.deliver(post(KARL, skyddad="N"))
    register.deliver(post(KARL, skyddad="J"))
    reference = patient_of(KARL).reference
    logged_in(client, admin)
    assert "the hold cannot be released" in client.get("/protection/holds/").content.decode()
    response = client.post(
        f"/protection/holds/{reference}/release/", {f"{reference}-note": "Försök att häva skyddet"}
    )
    assert "The register still reports" in response.content.decode()
    assert patient_of(KARL).protection_held


def test_prot_4_holds_page_pins_its_query_count(client, register, admin):
    register.deliver(post(KARL, sekretess="J"))
    register.deliver(post(KARL, sekretess="N"))
    logged_in(client, admin)
    client.get("/protection/holds/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/protection/holds/")
    few = len(queries)
    register.deliver(post(MARIA, skyddad="J"))
    register.deliver(post(MARIA, skyddad="N"))
    with CaptureQueriesContext(connection) as queries:
        client.get("/protection/holds/")
    assert len(queries) == few


@pytest.mark.parametrize("role", ["prescriber", "unit_manager", "customer_service"])
def test_prot_4_holds_pages_are_denied_to_other_roles(client, register, role):
    register.deliver(post(KARL, sekretess="J"))
    register.deliver(post(KARL, sekretess="N"))
    reference = patient_of(KARL).reference
    logged_in(client, UserFactory(username=f"x-{role}", role=role))
    assert client.get("/protection/holds/").status_code == 403
    response = client.post(
        f"/protection/holds/{reference}/release/", {f"{reference}-note": "Försök att häva skyddet"}
    )
    assert response.status_code == 403
    assert patient_of(KARL).protection_held


def test_leak_1_tasks_take_no_arguments():
    """Nothing about a patient can reach the broker: the tasks have no parameters."""
    for task in (tasks.handle_register_events, tasks.daily_protection_maintenance):
        assert inspect.signature(task.run).parameters == {}


def test_leak_1_a_hold_release_note_carries_no_personnummer(register, admin):
    register.deliver(post(KARL, sekretess="J"))
    register.deliver(post(KARL, sekretess="N"))
    with pytest.raises(ProtectionError, match="do not write the patient's personnummer"):
        kinds.protection_hold_release(
            ctx=ctx_for(admin), patient=patient_of(KARL), note=f"Hävt för {KARL} enligt SKV"
        )
    assert patient_of(KARL).is_protected

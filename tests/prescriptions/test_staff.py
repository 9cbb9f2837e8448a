"""Staff applications for ordering rights (STAFF-1) and competence decisions (STAFF-3)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from patients.models import Notification
from prescriptions.models import (
    Authorisation,
    CompetenceDecision,
    CompetenceLevel,
    CompetenceRegistration,
    PrescriberProfile,
    StaffApplication,
    StaffApplicationState,
)
from prescriptions.services.drafts import prescription_draft_start
from prescriptions.services.errors import (
    FieldRefused,
    PrescriptionError,
    RuleRefused,
    StateNotAllowed,
)
from prescriptions.services.lines import prescription_line_add
from prescriptions.services.staff import (
    competence_decide,
    staff_application_confirm,
    staff_application_decide,
    staff_application_submit,
)
from protection.models import AccountEvent, AccountEventKind
from tests.factories import UnitFactory, UserFactory
from tests.personas import ctx_for
from tests.prescriptions.conftest import article
from tests.prescriptions.factories import PrescribingUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit() -> Any:
    return PrescribingUnitFactory()


@pytest.fixture
def manager(unit: Any) -> Any:
    return UserFactory(username="ulla", role="unit_manager", unit=unit.unit)


@pytest.fixture
def account_admin() -> Any:
    return UserFactory(username="kim", role="customer_service")


@pytest.fixture
def applicant(unit: Any) -> Any:
    """A new member of staff with an account and no role yet."""
    return UserFactory(username="nils", unit=unit.unit)


def apply(applicant: Any, unit: Any, authorisation: str = Authorisation.PERSONAL_HEALTH) -> Any:
    return staff_application_submit(
        by=applicant,
        unit_id=unit.pk,
        authorisation=authorisation,
        einvoice_access=True,
        hsa_id="SE2321000255-N001",
        title="Arbetsterapeut",
    )


def test_staff_1_applied_confirmed_and_approved_gives_exactly_the_role(
    applicant: Any, unit: Any, manager: Any, account_admin: Any
) -> None:
    application = apply(applicant, unit)
    assert application.state == StaffApplicationState.SUBMITTED
    assert application.einvoice_access is True
    # The manager hears of it by the case number.
    assert Notification.objects.filter(user=manager, subject__contains=application.reference)

    staff_application_confirm(by=manager, application_id=application.pk)
    before = set(AccountEvent.objects.filter(subject=applicant).values_list("pk", flat=True))
    staff_application_decide(by=account_admin, application_id=application.pk, approve=True)

    application.refresh_from_db()
    assert application.state == StaffApplicationState.APPROVED
    assert application.confirmed_by == manager
    assert application.decided_by == account_admin
    assert application.decided_at is not None
    assert list(application.transitions.values_list("from_state", "to_state", "by")) == [
        ("", "submitted", applicant.pk),
        ("submitted", "confirmed", manager.pk),
        ("confirmed", "approved", account_admin.pk),
    ]
    # Exactly the role applied for, and a profile with the right at the unit.
    assert list(applicant.groups.values_list("name", flat=True)) == ["prescriber"]
    profile = PrescriberProfile.objects.get(user=applicant)
    assert profile.authorisation == Authorisation.PERSONAL_HEALTH
    assert list(profile.units.all()) == [unit]
    applicant.staff_profile.refresh_from_db()
    assert applicant.staff_profile.hsa_id == "SE2321000255-N001"
    # ACCESS-10: the role change is an account event (its actor is the request's user: the
    # page test shows it; a service called outside a request records nobody).
    events = AccountEvent.objects.filter(subject=applicant).exclude(pk__in=before)
    assert list(events.values_list("kind", flat=True)) == [AccountEventKind.GROUPS]
    # The applicant is told, by the case number only.
    assert Notification.objects.filter(
        user=applicant, subject__contains=application.reference
    ).exists()


def test_staff_1_the_orderer_right_gives_the_orderer_role_only(
    applicant: Any, unit: Any, manager: Any, account_admin: Any
) -> None:
    application = apply(applicant, unit, Authorisation.UNIT_ORDERER)
    staff_application_confirm(by=manager, application_id=application.pk)
    staff_application_decide(by=account_admin, application_id=application.pk, approve=True)
    assert list(applicant.groups.values_list("name", flat=True)) == ["orderer"]


def test_staff_1_refused_with_a_reason_gives_nothing(
    applicant: Any, unit: Any, manager: Any, account_admin: Any
) -> None:
    application = apply(applicant, unit)
    staff_application_confirm(by=manager, application_id=application.pk)
    with pytest.raises(FieldRefused) as refused:
        staff_application_decide(by=account_admin, application_id=application.pk, approve=False)
    assert refused.value.field == "reason"
    staff_application_decide(
        by=account_admin,
        application_id=application.pk,
        approve=False,
        reason="Arbetar inte med förskrivning",
    )
    application.refresh_from_db()
    assert application.state == StaffApplicationState.REFUSED
    assert application.reason == "Arbetar inte med förskrivning"
    assert application.transitions.last().note == "Arbetar inte med förskrivning"
    assert not applicant.groups.exists()
    assert not PrescriberProfile.objects.filter(user=applicant).exists()
    # Decided once: a second decision is refused with the state in its message.
    with pytest.raises(StateNotAllowed):
        staff_application_decide(by=account_admin, application_id=application.pk, approve=True)


def test_staff_1_denied_the_administrator_cannot_approve_before_the_manager_confirms(
    applicant: Any, unit: Any, manager: Any, account_admin: Any
) -> None:
    application = apply(applicant, unit)
    with pytest.raises(StateNotAllowed):
        staff_application_decide(by=account_admin, application_id=application.pk, approve=True)
    assert not applicant.groups.exists()


def test_staff_1_denied_only_the_manager_of_the_unit_confirms(
    applicant: Any, unit: Any, account_admin: Any
) -> None:
    other_manager = UserFactory(username="otto", role="unit_manager", unit=UnitFactory())
    application = apply(applicant, unit)
    for user in (other_manager, account_admin, applicant):
        with pytest.raises(PrescriptionError):
            staff_application_confirm(by=user, application_id=application.pk)
    assert StaffApplication.objects.get().state == StaffApplicationState.SUBMITTED


def test_staff_1_denied_a_manager_cannot_approve_nor_decide_their_own(
    applicant: Any, unit: Any, manager: Any, account_admin: Any
) -> None:
    application = apply(applicant, unit)
    staff_application_confirm(by=manager, application_id=application.pk)
    with pytest.raises(PrescriptionError):
        staff_application_decide(by=manager, application_id=application.pk, approve=True)
    own = apply(account_admin, unit)
    with pytest.raises(PrescriptionError):
        staff_application_decide(by=account_admin, application_id=own.pk, approve=True)


def test_staff_1_the_form_fields_are_checked_and_one_open_application_at_a_time(
    applicant: Any, unit: Any
) -> None:
    with pytest.raises(FieldRefused) as refused:
        staff_application_submit(
            by=applicant,
            unit_id=unit.pk,
            authorisation="everything",
            einvoice_access=False,
            hsa_id="SE2321000255-N001",
            title="Arbetsterapeut",
        )
    assert refused.value.field == "authorisation"
    with pytest.raises(FieldRefused) as refused:
        staff_application_submit(
            by=applicant,
            unit_id=unit.pk,
            authorisation=Authorisation.PERSONAL_SOCIAL,
            einvoice_access=False,
            hsa_id=" ",
            title="Arbetsterapeut",
        )
    assert refused.value.field == "hsa_id"
    apply(applicant, unit)
    with pytest.raises(PrescriptionError):
        apply(applicant, unit)
    assert StaffApplication.objects.count() == 1


def test_staff_3_the_manager_decides_the_level_and_a_new_decision_supersedes(
    unit: Any, manager: Any, ordinary: Any
) -> None:
    wheel = article()
    prescriber = UserFactory(username="petra", role="prescriber", unit=unit.unit)
    profile = PrescriberProfile.objects.create(
        user=prescriber, authorisation=Authorisation.PERSONAL_HEALTH
    )
    profile.units.add(unit)
    area = wheel.product_area.competence_area

    # Without a decided level for the area, the prescriber cannot prescribe in it (PRESC-5).
    reference = prescription_draft_start(
        ctx=ctx_for(prescriber), patient_reference=ordinary.reference
    ).reference
    with pytest.raises(RuleRefused):
        prescription_line_add(ctx=ctx_for(prescriber), reference=reference, article_id=wheel.pk)

    with pytest.raises(FieldRefused) as refused:
        competence_decide(
            by=manager,
            prescriber_id=profile.pk,
            competence_area_code=area.pk,
            level=CompetenceLevel.BASIC,
            decided_on=datetime.date(2026, 1, 10),
        )
    assert refused.value.field == "trained_on"
    competence_decide(
        by=manager,
        prescriber_id=profile.pk,
        competence_area_code=area.pk,
        level=CompetenceLevel.BASIC,
        decided_on=datetime.date(2026, 1, 10),
        trained_on=datetime.date(2026, 1, 5),
    )
    prescription_line_add(ctx=ctx_for(prescriber), reference=reference, article_id=wheel.pk)

    # A newer decision takes the area away; the older one stays as history.
    competence_decide(
        by=manager,
        prescriber_id=profile.pk,
        competence_area_code=area.pk,
        level=CompetenceLevel.NONE,
        decided_on=datetime.date(2026, 2, 1),
    )
    registration = CompetenceRegistration.objects.get(prescriber=profile, competence_area=area)
    assert registration.level == CompetenceLevel.NONE
    assert registration.trained_on == datetime.date(2026, 1, 5)
    assert list(
        CompetenceDecision.objects.filter(prescriber=profile).values_list(
            "level", "decided_on", "decided_by"
        )
    ) == [
        ("none", datetime.date(2026, 2, 1), manager.pk),
        ("basic", datetime.date(2026, 1, 10), manager.pk),
    ]
    with pytest.raises(RuleRefused) as refused_line:
        prescription_line_add(ctx=ctx_for(prescriber), reference=reference, article_id=wheel.pk)
    assert refused_line.value.rule == "PRESC-5"


def test_staff_3_denied_only_a_manager_of_the_prescribers_unit_decides(
    unit: Any, account_admin: Any
) -> None:
    profile = PrescriberProfile.objects.create(
        user=UserFactory(username="petra", role="prescriber", unit=unit.unit),
        authorisation=Authorisation.PERSONAL_HEALTH,
    )
    profile.units.add(unit)
    area = article().product_area.competence_area
    other_manager = UserFactory(username="otto", role="unit_manager", unit=UnitFactory())
    for user in (other_manager, account_admin, profile.user):
        with pytest.raises(PrescriptionError):
            competence_decide(
                by=user,
                prescriber_id=profile.pk,
                competence_area_code=area.pk,
                level=CompetenceLevel.BASIC,
                decided_on=datetime.date(2026, 1, 10),
                trained_on=datetime.date(2026, 1, 5),
            )
    assert not CompetenceDecision.objects.exists()


def test_staff_3_denied_an_orderer_cannot_prescribe(unit: Any, ordinary: Any) -> None:
    """The orderer for a unit is a role of its own: it orders replenishment for the unit and
    never starts a prescription."""
    orderer = UserFactory(username="oskar", role="orderer", unit=unit.unit)
    group = Group.objects.get(name="orderer")
    perms = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert "logistics.order_replenishment" in perms
    assert "prescriptions.add_prescription" not in perms
    profile = PrescriberProfile.objects.create(
        user=orderer, authorisation=Authorisation.UNIT_ORDERER
    )
    profile.units.add(unit)
    with pytest.raises(RuleRefused) as refused:
        prescription_draft_start(ctx=ctx_for(orderer), patient_reference=ordinary.reference)
    assert refused.value.rule == "PRESC-5"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE prescriptions_competencedecision SET level = 'advanced' WHERE id = %s",
        "UPDATE prescriptions_competencedecision SET decided_on = '2020-01-01' WHERE id = %s",
        "UPDATE prescriptions_competencedecision SET decided_by_id = NULL WHERE id = %s",
        "DELETE FROM prescriptions_competencedecision WHERE id = %s",
    ],
)
def test_staff_3_a_competence_decision_cannot_be_rewritten_or_deleted(
    unit: Any, manager: Any, statement: str
) -> None:
    """STAFF-3, LEAK-6: who decided which level on which day stays as recorded: the role the
    product connects as (every test runs as it) may add decisions, never change or remove one,
    even by hand-written SQL. A newer level is a new decision."""
    profile = PrescriberProfile.objects.create(
        user=UserFactory(username="petra", role="prescriber", unit=unit.unit),
        authorisation=Authorisation.PERSONAL_HEALTH,
    )
    profile.units.add(unit)
    decision = competence_decide(
        by=manager,
        prescriber_id=profile.pk,
        competence_area_code=article().product_area.competence_area.pk,
        level=CompetenceLevel.BASIC,
        decided_on=datetime.date(2026, 1, 10),
        trained_on=datetime.date(2026, 1, 5),
    )
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [decision.pk])
    decision.refresh_from_db()
    assert (decision.level, decision.decided_on, decision.decided_by_id) == (
        CompetenceLevel.BASIC,
        datetime.date(2026, 1, 10),
        manager.pk,
    )
    # Deleting the profile would cascade into its decisions: refused before any SQL runs.
    with pytest.raises(ProtectedError):
        profile.delete()


def test_staff_1_a_manager_applies_on_behalf_of_a_person_confirmed_by_the_same_flow(
    applicant: Any, unit: Any, manager: Any, account_admin: Any
) -> None:
    """STAFF-1: the unit's manager sends the application for a person at the unit: it records
    who applied and for whom, the person is told, and it goes the same way: confirmed by the
    manager, decided by the account administration, the role given to the person applied for."""
    application = staff_application_submit(
        by=manager,
        applicant_id=applicant.pk,
        unit_id=unit.pk,
        authorisation=Authorisation.UNIT_ORDERER,
        einvoice_access=False,
        hsa_id="SE2321000255-N002",
        title="Undersköterska",
    )
    assert (application.applicant, application.applied_by) == (applicant, manager)
    assert application.on_behalf
    assert application.state == StaffApplicationState.SUBMITTED
    assert Notification.objects.filter(
        user=applicant,
        subject=f"Behörighetsansökan {application.reference} har skickats åt dig",
    ).exists()
    staff_application_confirm(by=manager, application_id=application.pk)
    staff_application_decide(by=account_admin, application_id=application.pk, approve=True)
    application.refresh_from_db()
    assert application.state == StaffApplicationState.APPROVED
    assert set(applicant.groups.values_list("name", flat=True)) == {"orderer"}
    assert not manager.groups.filter(name="orderer").exists()
    assert [(t.to_state, t.by) for t in application.transitions.order_by("pk")] == [
        (StaffApplicationState.SUBMITTED, manager),
        (StaffApplicationState.CONFIRMED, manager),
        (StaffApplicationState.APPROVED, account_admin),
    ]
    # One's own application records the applicant as the one who applied.
    own = apply(UserFactory(username="vera", unit=unit.unit), unit)
    assert own.applied_by == own.applicant
    assert not own.on_behalf


def test_staff_1_denied_applying_on_behalf_outside_ones_own_unit(
    applicant: Any, unit: Any, manager: Any
) -> None:
    """Only a manager, only for their unit, only for a person at it; nothing is recorded."""
    stranger = UserFactory(username="sven", unit=UnitFactory())
    other_unit = PrescribingUnitFactory()
    colleague = UserFactory(username="carl", role="prescriber", unit=unit.unit)
    attempts = [
        (manager, stranger.pk, unit.pk, "applicant"),
        (manager, applicant.pk, other_unit.pk, "unit"),
        (colleague, applicant.pk, unit.pk, "unit"),
    ]
    for by, applicant_id, unit_id, field in attempts:
        with pytest.raises(FieldRefused) as refused:
            staff_application_submit(
                by=by,
                applicant_id=applicant_id,
                unit_id=unit_id,
                authorisation=Authorisation.UNIT_ORDERER,
                einvoice_access=False,
                hsa_id="SE2321000255-N003",
                title="Undersköterska",
            )
        assert refused.value.field == field
    assert not StaffApplication.objects.exists()
    # A second open application for the same person is refused, in words about them.
    staff_application_submit(
        by=manager, applicant_id=applicant.pk, unit_id=unit.pk,
        authorisation=Authorisation.UNIT_ORDERER, einvoice_access=False,
        hsa_id="SE2321000255-N003", title="Undersköterska",
    )  # fmt: skip
    with pytest.raises(PrescriptionError) as twice:
        apply(applicant, unit)
    assert str(twice.value) == "Du har redan en ansökan som väntar på beslut. Vänta på den först."

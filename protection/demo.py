"""Demo data of the protection floor: a pending grant request for a protected demo patient.

The demo story (README): the prescriber finds Eva Holm masked; the protection administrator
approves the unit manager's request; the prescriber confirms the password and opens her record;
Maria Ek stays without a grant for the break-the-glass demo; the log review shows it all.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone

from patients.demo import DEMO_USERS
from patients.models import Patient, StaffProfile
from patients.transitions import transition_created
from protection.models import AccountSuspension, GrantRequest
from protection.rls import PatientIdForNumber
from protection.services.grants import GRANT_REQUEST

EVA_HOLM = "194202269207"  # skyddad folkbokföring in the sample register file (a test number)


def demo_seed(*, shared_dir: Path, password: str) -> list[str]:
    del shared_dir, password  # the patients floor loaded the register and the users
    # The seeding set the demo users' passwords, which suspends their grants (ACCESS-10). The
    # demo's passwords are known to all by design and its story starts with accounts in use,
    # so those suspensions are dropped; the changes stay on the log review.
    AccountSuspension.objects.filter(
        user__username__in=[demo.username for demo in DEMO_USERS], lifted_at__isnull=True
    ).delete()
    users = get_user_model().objects.in_bulk(["unit_manager", "prescriber"], field_name="username")
    # By id: row-level security hides a protected patient's identity from the demo's seeding.
    patient = Patient.objects.filter(pk=PatientIdForNumber(EVA_HOLM)).first()
    if patient is None or len(users) < 2:
        return ["protection: the patients floor's demo data is missing; nothing added"]
    manager, prescriber = users["unit_manager"], users["prescriber"]
    unit_id = StaffProfile.objects.get(user=manager).unit_id
    if unit_id is None:
        return ["protection: the demo unit manager has no unit; nothing added"]
    today = timezone.localdate()
    request, created = GrantRequest.objects.get_or_create(
        case_reference="ÄR-2026-1",
        defaults={
            "patient": patient,
            "unit_id": unit_id,
            "requested_by": manager,
            "starts_on": today,
            "ends_on": today + timedelta(days=90),
            "reason": "Förskrivning av hjälpmedel (demo)",
        },
    )
    if created:
        transition_created(machine=GRANT_REQUEST, obj=request, by=manager)
        request.staff.add(prescriber)
    return [
        "protection: grant request ÄR-2026-1 "
        + ("created" if created else "already there")
        + " (log in as protection_admin to decide it)"
    ]

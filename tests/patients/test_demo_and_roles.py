"""Demo data, roles and the IDENT-4 rule over the whole repository."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from patients.models import Patient, Region, StaffProfile, Unit
from patients.roles import ROLE_PERMISSIONS
from prescriptions.models import AgreementRow

ROOT = Path(settings.BASE_DIR)
DEMO_USERNAMES = {
    "prescriber", "prescriber2", "customer_service", "logistics", "technician",
    "unit_manager", "protection_admin", "billing", "assortment_owner", "agreement_owner",
    "supplier_user", "catalogue_role_assigner", "admin",
}  # fmt: skip


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_creates_one_user_per_role(shared_dir, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "a-demo-password")
    call_command("seed_demo", "--shared", str(shared_dir), stdout=StringIO())
    first = (Patient.objects.count(), Unit.objects.count(), get_user_model().objects.count())
    out = StringIO()
    call_command("seed_demo", "--shared", str(shared_dir), stdout=out)
    assert (
        Patient.objects.count(),
        Unit.objects.count(),
        get_user_model().objects.count(),
    ) == first
    assert "already imported" in out.getvalue()
    assert first[0] == 6
    assert Region.objects.count() == 21
    users = get_user_model().objects.in_bulk(field_name="username")
    assert set(users) == DEMO_USERNAMES
    assert all(user.check_password("a-demo-password") for user in users.values())
    assert users["admin"].is_superuser
    assert not any(u.is_superuser for name, u in users.items() if name != "admin")
    assert users["prescriber"].staff_profile.unit != users["prescriber2"].staff_profile.unit
    for name, user in users.items():
        if name != "admin":
            assert [g.name for g in user.groups.all()] == [name.rstrip("2")]
    assert StaffProfile.objects.count() == len(DEMO_USERNAMES)
    # CAT-1: the supplier user's rows wait for the agreement owner, once however often seeded.
    waiting = AgreementRow.objects.filter(state="submitted")
    pairs = waiting.values_list("registered_by__username", "agreement__owner__username")
    assert set(pairs) == {("supplier_user", "agreement_owner")}
    assert waiting.count() == 2


def test_seed_demo_refuses_production_settings(monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.production")
    with pytest.raises(CommandError, match="refuses to run under production"):
        call_command("seed_demo", stdout=StringIO())


def test_seed_demo_refuses_production_settings_in_a_real_process():
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "Zq8" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ",
        "FIELD_ENCRYPTION_KEYS": "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "IDENTITY_DIGEST_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "REGION_COUNTY_CODE": "12",
        "ALLOWED_HOSTS": "example.se",
        "AUDIT_HEAD_EXPORT_DIR": "/var/lib/hjalpmedel/audit-heads",
        "BILLING_OUTBOX_DIR": "/var/lib/hjalpmedel/peppol-outbox",
        "BILLING_INBOX_DIR": "/var/lib/hjalpmedel/peppol-inbox",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "refuses to run under production settings" in result.stderr


@pytest.mark.django_db
def test_roles_hold_exactly_their_permissions():
    from patients.services import role_permissions

    call_command("sync_roles", stdout=StringIO())
    for role, expected in role_permissions().items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert held == set(expected), role
    # Only roles that may search patients get the permission that opens patient data.
    openers = {r for r, perms in ROLE_PERMISSIONS.items() if "patients.view_patient" in perms}
    assert openers == {"prescriber", "customer_service", "protection_admin", "unit_manager"}
    # Nobody gets a permission that changes identities through a generic path.
    everything = {p for perms in ROLE_PERMISSIONS.values() for p in perms}
    assert not any(p.endswith("_patientidentity") for p in everything)


@pytest.mark.django_db
def test_roles_sync_removes_permissions_added_by_hand():
    call_command("sync_roles", stdout=StringIO())
    group = Group.objects.get(name="logistics")
    from django.contrib.auth.models import Permission

    group.permissions.add(Permission.objects.get(codename="view_patient"))
    call_command("sync_roles", stdout=StringIO())
    assert not group.permissions.filter(codename="view_patient").exists()


def test_ident_4_repository_holds_only_test_personnummer():
    """IDENT-4: the shared checker over every tracked file finds no real-looking number."""
    checker = ROOT.parent / "shared" / "tools" / "check_test_identities.py"
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    files = [f for f in files if f]
    assert len(files) > 20
    result = subprocess.run(
        [sys.executable, str(checker), *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.django_db
def test_access_3_demo_has_a_pending_grant_request_for_a_protected_patient(shared_dir):
    from protection.models import GrantRequest

    out = StringIO()
    call_command("seed_demo", "--shared", str(shared_dir), stdout=out)
    call_command("seed_demo", "--shared", str(shared_dir), stdout=out)
    request = GrantRequest.objects.get()
    assert request.status == "requested"
    assert request.patient.is_protected
    assert [u.username for u in request.staff.all()] == ["prescriber"]
    assert "ÄR-2026-1" in out.getvalue()

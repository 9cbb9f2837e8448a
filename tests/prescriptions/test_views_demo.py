"""The prescribing demo: seeded twice, the same; the three README flows have what they need."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from patients.models import Patient
from prescriptions.models import Article, CompetenceRegistration, PrescribingUnit
from protection.rls import PatientIdForNumber

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_the_prescribing_demo_idempotently(shared_dir, client):
    call_command("seed_demo", "--shared", str(shared_dir), stdout=StringIO())
    first = (
        Article.objects.count(),
        PrescribingUnit.objects.count(),
        CompetenceRegistration.objects.count(),
    )
    out = StringIO()
    call_command("seed_demo", "--shared", str(shared_dir), stdout=out)
    assert (
        Article.objects.count(),
        PrescribingUnit.objects.count(),
        CompetenceRegistration.objects.count(),
    ) == first
    # The logistics demo trains prescriber2 in mobility aids too (their protected patients' orders).
    assert first == (53, 3, 5)
    assert "53 unchanged" in out.getvalue()
    assert Article.objects.get(article_number="62154").out_of_stock
    users = get_user_model().objects.in_bulk(["prescriber", "prescriber2"], field_name="username")
    for user in users.values():
        unit = user.prescriber_profile.units.get()
        assert unit.unit == user.staff_profile.unit
        assert unit.delivery_street
    # The out-of-region patient of the README (LanKod 01) and the protected one.
    olof = Patient.objects.get(pk=PatientIdForNumber("194203027018"))
    assert olof.home_region_id == "01"
    assert Patient.objects.get(pk=PatientIdForNumber("194202269207")).is_protected

    # The ordinary flow's first step works for the demo prescriber.
    client.force_login(users["prescriber"])
    karl = Patient.objects.get(pk=PatientIdForNumber("194201077098"))
    response = client.post(f"/prescriptions/patients/{karl.reference}/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/prescriptions/F-")

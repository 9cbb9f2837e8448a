"""The demo story of the document pipeline (README step 7): the summary of the protected demo
patient is refused, a letter to her goes through Skatteverket's forwarding service."""

from __future__ import annotations

import pytest

from patients.demo import demo_seed
from patients.models import Patient
from protection.demo import EVA_HOLM
from protection.demo import demo_seed as protection_demo_seed
from protection.documents.services import document_job_render
from protection.models import DocumentJob, GrantRequest, Letter
from protection.rls import PatientIdForNumber
from protection.services.grants import grant_request_decide
from tests.factories import UserFactory
from tests.personas import ctx_for, logged_in
from tests.protection.documents.conftest import pdf_pages

pytestmark = pytest.mark.django_db

PASSWORD = "demo-docs-pw"
KARL = "194201077098"


def test_print_1_and_letter_1_the_demo_refuses_eva_holms_summary_and_makes_her_letter(
    shared_dir, client
):
    demo_seed(shared_dir=shared_dir, password=PASSWORD)
    protection_demo_seed(shared_dir=shared_dir, password=PASSWORD)
    admin = UserFactory(username="demo-admin", role="protection_admin")
    request = GrantRequest.objects.get(case_reference="ÄR-2026-1")
    grant_request_decide(ctx=ctx_for(admin, stepped_up=True), request_id=request.pk, approve=True)
    client = logged_in(client, request.staff.get(), stepped_up=False)
    client.post("/protection/step-up/", {"password": PASSWORD})
    eva = Patient.objects.get(pk=PatientIdForNumber(EVA_HOLM))
    refused = client.post(f"/protection/patients/{eva.reference}/summary/", follow=True)
    assert "never printed or made into PDFs" in refused.content.decode()
    assert not DocumentJob.objects.exists()
    response = client.post(
        f"/protection/patients/{eva.reference}/letter/",
        {"template": "fitting", "subject": "Kallelse", "body": "Välkommen till utprovning."},
    )
    assert response.status_code == 302
    letter = Letter.objects.get()
    assert letter.channel == "forwarding"
    assert document_job_render(job_id=letter.job_id) == "ready"
    pdf = client.get(f"/protection/documents/{letter.job_id}/pdf/").content
    letter_page, inner, outer = pdf_pages(pdf)
    assert "Eva Holm" in letter_page
    assert "19420226-9207" in inner
    # Her special postal address from the register is the forwarding address (LETTER-1).
    assert outer.strip() == "Förmedlingsuppdrag\nBox 2820\n403 20 GÖTEBORG"
    karl = Patient.objects.get(identity__personal_identity_number=KARL)
    client.post(
        f"/protection/patients/{karl.reference}/letter/",
        {"template": "general", "subject": "Om ditt hjälpmedel", "body": "Hej!"},
    )
    ordinary = Letter.objects.get(patient=karl)
    assert ordinary.channel == "post"

"""LEAK-3: the special delivery agreement, the one exception to PRESC-2. The grant holder
records it (encrypted at rest, each read audited) and chooses it for a draft; the prescription
page shows only that it exists."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from patients.models import AccessAction, AccessEntry
from prescriptions.models import (
    DeliveryKind,
    Prescription,
    SpecialDeliveryAgreement,
)
from tests.personas import logged_in
from tests.prescriptions.leaks import AGREEMENT, leaks
from tests.prescriptions.pages import page, record_agreement, start

pytestmark = pytest.mark.django_db


# --- LEAK-3: the special delivery agreement -----------------------------------------------------


def test_leak_3_grant_holder_records_the_agreement_encrypted_at_rest_every_read_audited(
    client, rx, hidden
):
    logged_in(client, rx, stepped_up=True)
    url = f"/prescriptions/patients/{hidden.reference}/special-delivery/"
    devices = client.get(f"/prescriptions/patients/{hidden.reference}/").content.decode()
    assert f'href="{url}"' in devices
    assert "No special delivery agreement is recorded." in client.get(url).content.decode()
    assert record_agreement(client, hidden).status_code == 302
    agreement = SpecialDeliveryAgreement.objects.get()
    assert agreement.details == AGREEMENT
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT details::text FROM prescriptions_specialdeliveryagreement WHERE id = %s",
            [agreement.pk],
        )
        stored = cursor.fetchone()[0]
    assert leaks(stored) == []

    reads = AccessEntry.objects.filter(
        object_type="special_delivery_agreement", object_id=str(agreement.pk)
    )
    assert reads.filter(action=AccessAction.CHANGE).count() == 1
    before = reads.filter(action=AccessAction.READ).count()
    content = client.get(url).content.decode()
    assert "Hemliga gränd 3" in content
    assert "Portkod 9931X" in content
    assert reads.filter(action=AccessAction.READ).count() == before + 1
    assert all(entry.patient_protected for entry in reads)


def test_leak_3_a_new_agreement_ends_the_earlier_one(client, rx, hidden):
    logged_in(client, rx, stepped_up=True)
    record_agreement(client, hidden)
    client.post(
        f"/prescriptions/patients/{hidden.reference}/special-delivery/",
        {"address": "Annan väg 1"},
    )
    assert SpecialDeliveryAgreement.objects.filter(ended_at__isnull=True).count() == 1
    assert SpecialDeliveryAgreement.objects.count() == 2


def test_leak_3_agreement_error_summary_names_the_field(client, rx, hidden):
    logged_in(client, rx, stepped_up=True)
    response = client.post(
        f"/prescriptions/patients/{hidden.reference}/special-delivery/", {"phone": "1"}
    )
    assert response.status_code == 400
    assert re.search(r'<a [^>]*href="#id_address">Delivery address: ', response.content.decode())
    assert not SpecialDeliveryAgreement.objects.exists()


def test_leak_3_no_agreement_page_for_an_ordinary_patient(rx_client, ordinary):
    url = f"/prescriptions/patients/{ordinary.reference}/special-delivery/"
    assert rx_client.get(url).status_code == 404
    assert rx_client.post(url, AGREEMENT).status_code == 404
    devices = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert "special-delivery" not in devices


def test_presc_2_protected_draft_follows_the_agreement_and_the_page_shows_only_that_it_exists(
    client, rx, hidden
):
    """PRESC-2's one exception (LEAK-3): the grant holder chooses the agreement for the draft;
    the prescription page says the delivery follows an agreement and shows none of it."""
    logged_in(client, rx, stepped_up=True)
    number = start(client, hidden)
    choice = f"/prescriptions/{number}/special-delivery/"
    assert f'href="{choice}"' in page(client, number)
    response = client.post(choice, {"kind": "special_agreement"})
    assert response.status_code == 400
    assert "no special delivery agreement in force" in response.content.decode()

    record_agreement(client, hidden)
    assert "Hemliga gränd 3" in client.get(choice).content.decode()
    assert client.post(choice, {"kind": "special_agreement"}).status_code == 302
    prescription = Prescription.objects.get(reference=number)
    agreement = SpecialDeliveryAgreement.objects.get()
    assert prescription.delivery_kind == DeliveryKind.SPECIAL_AGREEMENT
    assert prescription.special_agreement_id == agreement.pk
    content = page(client, number)
    assert "As in the recorded special delivery agreement" in content
    for content_of_agreement in ("Hemliga gränd", "Skuggby", "9931X", "Skuggsson", "111 22 33"):
        assert content_of_agreement not in content

    assert client.post(choice, {"kind": "unit"}).status_code == 302
    prescription.refresh_from_db()
    assert prescription.delivery_kind == DeliveryKind.UNIT
    assert prescription.special_agreement_id is None
    assert prescription.delivery_unit_id == prescription.unit_id


def test_presc_2_no_delivery_choice_page_for_an_ordinary_patient(rx_client, ordinary):
    number = start(rx_client, ordinary)
    assert rx_client.get(f"/prescriptions/{number}/special-delivery/").status_code == 404
    assert (
        rx_client.post(f"/prescriptions/{number}/special-delivery/", {"kind": "unit"}).status_code
        == 404
    )

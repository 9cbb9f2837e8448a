"""The billing demo: a price list and every region's account, with valid demo numbers; twice
changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing.demo import demo_seed
from billing.models import BillingAccount, Tariff
from billing.seller import organisation_number_valid
from patients.models import Region


@pytest.mark.django_db
def test_bill_7_the_demo_gives_every_region_an_account_with_a_valid_organisation_number():
    demo_seed(shared_dir=Path("."), password="demo")
    counts = (BillingAccount.objects.count(), Tariff.objects.count())
    demo_seed(shared_dir=Path("."), password="demo")
    assert (BillingAccount.objects.count(), Tariff.objects.count()) == counts
    assert counts[0] == Region.objects.count() > 0
    numbers = list(BillingAccount.objects.values_list("organisation_number", flat=True))
    assert all(organisation_number_valid(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)

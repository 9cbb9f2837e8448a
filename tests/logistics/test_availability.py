"""PRESC-8 with real availability: the logistics floor's central store tells the catalogue what
is in stock (``prescriptions.registry.availability``), and within a replacement group what is
ready in stock and older assortment is proposed first."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from prescriptions.models import ReplacementGroup, ReplacementKind
from prescriptions.selectors.catalogue import StockState, article_detail, replacement_for
from tests.logistics.factories import StockLevelFactory
from tests.prescriptions.conftest import article
from tests.prescriptions.drafting import draft_with
from tests.prescriptions.factories import AgreementFactory

pytestmark = pytest.mark.django_db


def _group(kind: str) -> ReplacementGroup:
    return ReplacementGroup.objects.create(code=f"G-{kind}", kind=kind)


def test_presc_8_stock_zero_in_the_store_gets_the_replacement_despite_the_flag(central):
    group = _group(ReplacementKind.OPTIONAL)
    wanted = article("2900", replacement_group=group)
    stand_in = article("3600", replacement_group=group)
    assert not wanted.out_of_stock
    StockLevelFactory(article=wanted, location=central, physical=0)
    StockLevelFactory(article=stand_in, location=central, physical=2)
    assert replacement_for(wanted, day=timezone.localdate()) == stand_in
    entry = article_detail(article_number=wanted.article_number, day=timezone.localdate())
    assert entry is not None
    assert entry.stock_state == StockState.OUT_OF_STOCK
    assert entry.available == 0


def test_presc_8_in_stock_older_assortment_is_proposed_first(central):
    group = _group(ReplacementKind.OPTIONAL)
    old = AgreementFactory(valid_from=datetime.date(2019, 1, 1))
    new = AgreementFactory(valid_from=datetime.date(2025, 1, 1))
    wanted = article("2900", replacement_group=group)
    cheap_new = article("1000", replacement_group=group, agreement=new)
    dear_old = article("5000", replacement_group=group, agreement=old)
    old_but_empty = article("900", replacement_group=group, agreement=old)
    for item, physical in ((wanted, 0), (cheap_new, 5), (dear_old, 5), (old_but_empty, 0)):
        StockLevelFactory(article=item, location=central, physical=physical)
    assert replacement_for(wanted, day=timezone.localdate()) == dear_old


def test_presc_8_without_a_store_figure_the_flag_decides(central):
    group = _group(ReplacementKind.OPTIONAL)
    wanted = article("2900", replacement_group=group, out_of_stock=True)
    stand_in = article("3600", replacement_group=group)
    assert replacement_for(wanted, day=timezone.localdate()) == stand_in


def test_presc_8_fixed_group_substitutes_on_real_availability(rx, ordinary, central):
    group = _group(ReplacementKind.FIXED)
    wanted = article("2900", replacement_group=group)
    stand_in = article("3600", replacement_group=group)
    StockLevelFactory(article=wanted, location=central, physical=0)
    StockLevelFactory(article=stand_in, location=central, physical=1)
    reference = draft_with(rx, ordinary, wanted)
    from prescriptions.models import Prescription

    line = Prescription.objects.get(reference=reference).lines.get()
    assert line.article == stand_in
    assert line.requested_article == wanted


def test_presc_8_availability_is_one_query(central, django_assert_num_queries):
    from prescriptions.registry import availability

    items = [article("100"), article("200")]
    for item in items:
        StockLevelFactory(article=item, location=central, physical=4)
    with django_assert_num_queries(1):
        found = availability([i.pk for i in items])
    assert found == {items[0].pk: 4, items[1].pk: 4}

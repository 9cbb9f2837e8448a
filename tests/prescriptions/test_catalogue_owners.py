"""CAT-1: the catalogue's owners, at the services: agreement headers, rows and their decision,
publishing and withdrawing, and the role assigner (whose changes are ACCESS-10 account events)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from prescriptions.models import (
    AgreementRowState,
    AgreementState,
    Article,
    ArticleKind,
    AssortmentPeriod,
    SupplierUser,
)
from prescriptions.selectors.assortment import public_article_get, public_article_search
from prescriptions.selectors.catalogue import article_detail
from prescriptions.services.errors import FieldRefused, StateNotAllowed
from prescriptions.services.ownership import (
    CatalogueRoleRefused,
    agreement_create,
    agreement_row_approve,
    agreement_row_refuse,
    agreement_row_register,
    agreement_state_set,
    article_publish,
    article_withdraw,
    catalogue_role_give,
    catalogue_role_take,
)
from protection.models import AccountEvent, AccountEventKind
from tests.factories import UserFactory
from tests.prescriptions.factories import ArticleFactory, ProductAreaFactory, SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    supplier = SupplierFactory.create(name="Rull AB")
    owner = UserFactory.create(role="agreement_owner")
    agreement = agreement_create(
        user=owner,
        code="AVT-CAT1",
        supplier_id=supplier.pk,
        kind="framework",
        valid_from=datetime.date(2024, 1, 1),
        valid_until=None,
        state=AgreementState.ACTIVE,
    )
    seller = UserFactory.create(role="supplier_user")
    SupplierUser.objects.create(user=seller, supplier=supplier)
    return {
        "supplier": supplier,
        "owner": owner,
        "agreement": agreement,
        "seller": seller,
        "area": ProductAreaFactory.create(),
    }


def _register(world: dict[str, Any], user: Any, **over: Any) -> Any:
    values: dict[str, Any] = {
        "agreement_id": world["agreement"].pk,
        "article_number": "CAT1-001",
        "name": "Rollator Cat",
        "iso9999": "120606",
        "product_area_id": world["area"].pk,
        "price_sek": Decimal("3100.00"),
        "kind": ArticleKind.MAIN,
        "supply": "rent",
        "assortment_days": 7,
        "weight_kg": Decimal("7.5"),
        "length_cm": 70,
        "girth_cm": 180,
    }
    values.update(over)
    return agreement_row_register(user=user, **values)


def test_cat_1_the_agreement_owner_creates_a_header_they_own(world: dict[str, Any]) -> None:
    agreement = world["agreement"]
    assert agreement.owner == world["owner"]
    assert agreement.kind == "framework"
    assert agreement.state == AgreementState.ACTIVE
    agreement_state_set(user=world["owner"], agreement_id=agreement.pk, state=AgreementState.ENDED)
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.ENDED
    with pytest.raises(StateNotAllowed):
        agreement_state_set(
            user=world["owner"], agreement_id=agreement.pk, state=AgreementState.ACTIVE
        )


def test_cat_1_a_header_refuses_bad_fields_by_name(world: dict[str, Any]) -> None:
    with pytest.raises(FieldRefused) as duplicate:
        agreement_create(
            user=world["owner"],
            code="AVT-CAT1",
            supplier_id=world["supplier"].pk,
            kind="framework",
            valid_from=None,
            valid_until=None,
        )
    assert duplicate.value.field == "code"
    with pytest.raises(FieldRefused) as backwards:
        agreement_create(
            user=world["owner"],
            code="AVT-2",
            supplier_id=world["supplier"].pk,
            kind="framework",
            valid_from=datetime.date(2025, 1, 1),
            valid_until=datetime.date(2024, 1, 1),
        )
    assert backwards.value.field == "valid_until"


def test_cat_1_denied_a_header_without_the_agreement_owner_role(world: dict[str, Any]) -> None:
    with pytest.raises(CatalogueRoleRefused):
        agreement_create(
            user=world["seller"],
            code="AVT-X",
            supplier_id=world["supplier"].pk,
            kind="direct",
            valid_from=None,
            valid_until=None,
        )


def test_cat_1_a_supplier_row_approved_creates_the_article_unpublished(
    world: dict[str, Any],
) -> None:
    row = _register(world, world["seller"])
    assert row.state == AgreementRowState.SUBMITTED
    assert not Article.objects.filter(article_number="CAT1-001").exists()
    agreement_row_approve(user=world["owner"], row_id=row.pk)
    row.refresh_from_db()
    assert row.state == AgreementRowState.APPROVED
    article = Article.objects.get(article_number="CAT1-001")
    assert row.article == article
    assert (article.name, article.price_sek, article.agreement) == (
        "Rollator Cat",
        Decimal("3100.00"),
        world["agreement"],
    )
    # Publishing is the assortment owner's decision, not the approval's.
    assert not article.in_assortment
    assert [(t.from_state, t.to_state, t.by) for t in row.transitions.order_by("pk")] == [
        ("", "submitted", world["seller"]),
        ("submitted", "approved", world["owner"]),
    ]


def test_cat_1_an_approved_row_changes_the_existing_articles_price(world: dict[str, Any]) -> None:
    article = ArticleFactory.create(
        article_number="CAT1-OLD", agreement=world["agreement"], price_sek=Decimal("1000.00")
    )
    row = _register(world, world["owner"], article_number="CAT1-OLD", price_sek=Decimal("1250.50"))
    assert row.article == article
    agreement_row_approve(user=world["owner"], row_id=row.pk)
    article.refresh_from_db()
    assert article.price_sek == Decimal("1250.50")
    assert article.in_assortment


def test_cat_1_a_refused_row_keeps_the_reason_and_leaves_the_article(
    world: dict[str, Any],
) -> None:
    article = ArticleFactory.create(
        article_number="CAT1-R", agreement=world["agreement"], price_sek=Decimal("900.00")
    )
    row = _register(world, world["seller"], article_number="CAT1-R", price_sek=Decimal("1.00"))
    with pytest.raises(FieldRefused) as no_reason:
        agreement_row_refuse(user=world["owner"], row_id=row.pk, reason="  ")
    assert no_reason.value.field == "reason"
    agreement_row_refuse(user=world["owner"], row_id=row.pk, reason="Priset följer inte avtalet")
    row.refresh_from_db()
    article.refresh_from_db()
    assert row.state == AgreementRowState.REFUSED
    assert row.refusal_reason == "Priset följer inte avtalet"
    assert article.price_sek == Decimal("900.00")
    # Decided once: a second decision is refused with a message, not applied.
    with pytest.raises(StateNotAllowed):
        agreement_row_approve(user=world["owner"], row_id=row.pk)


def test_cat_1_denied_rows_for_another_supplier_or_anothers_agreement(
    world: dict[str, Any],
) -> None:
    stranger = UserFactory.create(role="supplier_user")
    SupplierUser.objects.create(user=stranger, supplier=SupplierFactory.create(name="Annan AB"))
    with pytest.raises(FieldRefused) as other:
        _register(world, stranger)
    assert other.value.field == "agreement"
    row = _register(world, world["seller"])
    other_owner = UserFactory.create(role="agreement_owner")
    with pytest.raises(FieldRefused):
        agreement_row_approve(user=other_owner, row_id=row.pk)
    with pytest.raises(CatalogueRoleRefused):
        agreement_row_approve(user=world["seller"], row_id=row.pk)


def test_cat_1_a_row_refuses_bad_fields_by_name(world: dict[str, Any]) -> None:
    for field, value in (
        ("iso9999", "12x"),
        ("price_sek", Decimal("-1")),
        ("article_number", " "),
        ("kind", "gadget"),
        ("weight_kg", Decimal("0")),
    ):
        with pytest.raises(FieldRefused) as refused:
            _register(world, world["seller"], **{field: value})
        assert refused.value.field == field


def test_cat_1_publish_and_withdraw_drive_the_public_assortment(world: dict[str, Any]) -> None:
    publisher = UserFactory.create(role="assortment_owner")
    article = ArticleFactory.create(
        article_number="CAT1-P", agreement=world["agreement"], in_assortment=False
    )
    today = timezone.localdate()
    assert public_article_get(article_number="CAT1-P", day=today) is None
    article_publish(user=publisher, article_id=article.pk)
    assert public_article_get(article_number="CAT1-P", day=today) == article
    with pytest.raises(StateNotAllowed):
        article_publish(user=publisher, article_id=article.pk)
    article_withdraw(user=publisher, article_id=article.pk)
    assert public_article_get(article_number="CAT1-P", day=today) is None
    # Withdrawal keeps the history: the period is closed, not deleted, and a new one can open.
    article_publish(user=publisher, article_id=article.pk)
    periods = list(AssortmentPeriod.objects.filter(article=article).order_by("pk"))
    assert [(p.until, p.withdrawn_by) for p in periods] == [(today, publisher), (None, None)]
    # The database holds one open period per article, whoever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        AssortmentPeriod.objects.create(
            article=article, published_from=today, published_by=publisher
        )


def test_cat_1_denied_publishing_without_the_assortment_owner_role(world: dict[str, Any]) -> None:
    article = ArticleFactory.create(agreement=world["agreement"], in_assortment=False)
    with pytest.raises(CatalogueRoleRefused):
        article_publish(user=world["owner"], article_id=article.pk)
    with pytest.raises(CatalogueRoleRefused):
        article_withdraw(user=UserFactory.create(role="technician"), article_id=article.pk)


def test_cat_1_the_role_assigner_gives_and_takes_catalogue_roles_as_account_events(
    world: dict[str, Any],
) -> None:
    assigner = UserFactory.create(role="catalogue_role_assigner")
    technician = UserFactory.create(role="technician")
    before = AccountEvent.objects.filter(subject_id=technician.pk).count()
    catalogue_role_give(user=assigner, subject_id=technician.pk, role="catalogue_search")
    assert technician.groups.filter(name="catalogue_search").exists()
    catalogue_role_give(
        user=assigner,
        subject_id=technician.pk,
        role="supplier_user",
        supplier_id=world["supplier"].pk,
    )
    assert SupplierUser.objects.get(user=technician).supplier == world["supplier"]
    catalogue_role_take(user=assigner, subject_id=technician.pk, role="supplier_user")
    assert not SupplierUser.objects.filter(user=technician).exists()
    events = AccountEvent.objects.filter(subject_id=technician.pk).order_by("pk")[before:]
    assert [e.kind for e in events] == [AccountEventKind.GROUPS] * 3
    # Only the catalogue's roles: never one that opens patients.
    with pytest.raises(FieldRefused) as other:
        catalogue_role_give(user=assigner, subject_id=technician.pk, role="prescriber")
    assert other.value.field == "role"
    assert not technician.groups.filter(name="prescriber").exists()
    with pytest.raises(CatalogueRoleRefused):
        catalogue_role_give(user=world["owner"], subject_id=technician.pk, role="catalogue_search")
    assert Group.objects.filter(name="catalogue_search").exists()


def test_cat_1_a_publication_ahead_of_time_takes_effect_on_its_day(world: dict[str, Any]) -> None:
    """CAT-1, CAT-2: the assortment owner publishes an article from a later day: until then the
    public assortment does not show it and prescribing cannot order it; from that day both do,
    with nothing run in between (the readers compare the day)."""
    publisher = UserFactory.create(role="assortment_owner")
    article = ArticleFactory.create(
        article_number="CAT1-F", name="Rollator Framtid", agreement=world["agreement"],
        in_assortment=False,
    )  # fmt: skip
    today = timezone.localdate()
    on = today + datetime.timedelta(days=14)
    period = article_publish(user=publisher, article_id=article.pk, published_from=on)
    assert period.published_from == on

    for day, shown in ((today, False), (on - datetime.timedelta(days=1), False), (on, True)):
        # The public assortment (CAT-2): the article's page and the search.
        assert (public_article_get(article_number="CAT1-F", day=day) is not None) is shown
        found = public_article_search(query="Framtid", day=day)
        assert [a.article_number for a in found] == (["CAT1-F"] if shown else [])
        # Prescribing: the catalogue's entry says whether it can be ordered that day, and why.
        entry = article_detail(article_number="CAT1-F", day=day)
        assert entry is not None
        assert entry.orderable is shown
        if not shown:
            assert entry.orderability.reason == (
                f"Artikeln ingår i sortimentet från och med {on.isoformat()}."
            )

    # Publishing again before the day is refused as for any open publication.
    with pytest.raises(StateNotAllowed):
        article_publish(user=publisher, article_id=article.pk)


def test_cat_1_a_publication_cannot_start_in_the_past(world: dict[str, Any]) -> None:
    publisher = UserFactory.create(role="assortment_owner")
    article = ArticleFactory.create(agreement=world["agreement"], in_assortment=False)
    with pytest.raises(FieldRefused) as refused:
        article_publish(
            user=publisher,
            article_id=article.pk,
            published_from=timezone.localdate() - datetime.timedelta(days=1),
        )
    assert refused.value.field == "published_from"
    assert not AssortmentPeriod.objects.filter(article=article).exists()


def test_cat_1_every_agreement_move_has_a_history_row(world: dict[str, Any]) -> None:
    """House style 4: an agreement header's state changes go through the transition helper,
    one history row per move with who made it; a refused move writes nothing."""
    owner = world["owner"]
    draft = agreement_create(
        user=owner,
        code="AVT-HIST",
        supplier_id=world["supplier"].pk,
        kind="direct",
        valid_from=None,
        valid_until=None,
    )
    agreement_state_set(user=owner, agreement_id=draft.pk, state=AgreementState.ACTIVE)
    agreement_state_set(user=owner, agreement_id=draft.pk, state=AgreementState.ENDED)
    with pytest.raises(StateNotAllowed) as refused:
        agreement_state_set(user=owner, agreement_id=draft.pk, state=AgreementState.ACTIVE)
    assert str(refused.value) == "Avtalet är avslutad och kan inte bli aktiv."
    moves = [(t.from_state, t.to_state, t.by) for t in draft.transitions.order_by("pk")]
    assert moves == [
        ("", AgreementState.DRAFT, owner),
        (AgreementState.DRAFT, AgreementState.ACTIVE, owner),
        (AgreementState.ACTIVE, AgreementState.ENDED, owner),
    ]
    # The fixture's header was created active: its first row says so.
    assert [(t.from_state, t.to_state) for t in world["agreement"].transitions.all()] == [
        ("", AgreementState.ACTIVE)
    ]


def test_cat_1_a_withdrawal_ahead_of_time_takes_effect_after_its_last_day(
    world: dict[str, Any],
) -> None:
    """CAT-1, CAT-2: withdrawn with a later date, the article stays in the public assortment
    and orderable through that day (the page's "last day in the assortment") and is gone the
    day after, with nothing run in between; a second withdrawal meanwhile is refused."""
    publisher = UserFactory.create(role="assortment_owner")
    article = ArticleFactory.create(
        article_number="CAT1-W", agreement=world["agreement"], in_assortment=False
    )
    today = timezone.localdate()
    article_publish(user=publisher, article_id=article.pk)
    last = today + datetime.timedelta(days=10)
    period = article_withdraw(user=publisher, article_id=article.pk, until=last)
    assert (period.until, period.withdrawn_by) == (last, publisher)
    for day, shown in ((today, True), (last, True), (last + datetime.timedelta(days=1), False)):
        assert (public_article_get(article_number="CAT1-W", day=day) is not None) is shown
        entry = article_detail(article_number="CAT1-W", day=day)
        assert entry is not None
        assert entry.orderable is shown
    with pytest.raises(StateNotAllowed):
        article_withdraw(user=publisher, article_id=article.pk)
    # Published again before the last day: in the assortment from then on, with no end.
    article_publish(user=publisher, article_id=article.pk)
    far = last + datetime.timedelta(days=365)
    assert public_article_get(article_number="CAT1-W", day=far) is not None

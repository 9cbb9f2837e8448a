"""The catalogue's owners (CAT-1): agreement headers, agreement rows and their decision,
publishing and withdrawing the assortment, and giving and taking the catalogue's roles.

Each service checks the actor's role itself (the page checks it too, to answer 403): a service
called from a command or a test is held to the same rule as the page.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Final

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients import roles
from patients.transitions import CREATED, StateMachine, transition_apply, transition_created
from prescriptions.models import (
    Agreement,
    AgreementKind,
    AgreementRow,
    AgreementRowState,
    AgreementRowTransition,
    AgreementState,
    AgreementTransition,
    Article,
    ArticleKind,
    AssortmentPeriod,
    ProductArea,
    Supplier,
    SupplierUser,
    Supply,
)
from prescriptions.services.errors import FieldRefused, PrescriptionError, StateNotAllowed
from protection.permissions import holds_role_permission

OWN_AGREEMENTS: Final = "prescriptions.own_agreements"
REGISTER_ROWS: Final = "prescriptions.register_agreement_rows"
PUBLISH: Final = "prescriptions.publish_assortment"
ASSIGN_ROLES: Final = "prescriptions.assign_catalogue_roles"

R = AgreementRowState


class CatalogueRoleRefused(PrescriptionError):
    """The user does not hold the role this change of the catalogue needs."""


def _row_refused(row: AgreementRow, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("The agreement row %(number)s is %(state)s and has already been decided.")
        % {"number": row.article_number, "state": AgreementRowState(from_state).label}
    )


# A row is decided once; a corrected row is registered anew (the refused one stays as history).
AGREEMENT_ROW_MACHINE: Final = StateMachine(
    name="agreement row",
    moves={CREATED: frozenset({R.SUBMITTED}), R.SUBMITTED: frozenset({R.APPROVED, R.REFUSED})},
    history_model=AgreementRowTransition,
    subject_field="row",
    refuse=_row_refused,
)


def _agreement_refused(agreement: Agreement, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("The agreement is %(state)s and cannot become %(to)s.")
        % {
            "state": AgreementState(from_state).label,
            "to": AgreementState(to_state).label if to_state in AgreementState.values else to_state,
        }
    )


# A new header is a draft or active; an ended agreement stays ended (its articles can no longer
# be ordered, and rows can no longer be added).
AGREEMENT_MACHINE: Final = StateMachine(
    name="agreement",
    moves={
        CREATED: frozenset({AgreementState.DRAFT, AgreementState.ACTIVE}),
        AgreementState.DRAFT: frozenset({AgreementState.ACTIVE, AgreementState.ENDED}),
        AgreementState.ACTIVE: frozenset({AgreementState.ENDED}),
    },
    history_model=AgreementTransition,
    subject_field="agreement",
    refuse=_agreement_refused,
)


def _require(user: Any, perm: str) -> None:
    if not holds_role_permission(user, perm):
        raise CatalogueRoleRefused(_("Your role does not allow this change of the catalogue."))


def _owned_agreement_for_update(*, user: Any, agreement_id: int) -> Agreement:
    agreement = Agreement.objects.select_for_update().filter(pk=agreement_id).first()
    if agreement is None or agreement.owner_id != user.pk:
        raise FieldRefused(_("Choose one of your own agreements."), field="agreement")
    return agreement


@transaction.atomic
def agreement_create(
    *,
    user: Any,
    code: str,
    supplier_id: int,
    kind: str,
    valid_from: datetime.date | None,
    valid_until: datetime.date | None,
    state: str = AgreementState.DRAFT,
) -> Agreement:
    """CAT-1: an agreement owner creates an agreement header; they own it and decide its rows."""
    _require(user, OWN_AGREEMENTS)
    code = code.strip()
    if not code:
        raise FieldRefused(_("Enter the agreement's code."), field="code")
    if Agreement.objects.filter(code=code).exists():
        raise FieldRefused(_("An agreement with this code already exists."), field="code")
    if not Supplier.objects.filter(pk=supplier_id).exists():
        raise FieldRefused(_("Choose the supplier."), field="supplier")
    if kind not in AgreementKind.values:
        raise FieldRefused(_("Choose the agreement type."), field="kind")
    if state not in (AgreementState.DRAFT, AgreementState.ACTIVE):
        raise FieldRefused(_("A new agreement is a draft or active."), field="state")
    if valid_from and valid_until and valid_until < valid_from:
        raise FieldRefused(
            _("The end date must not be before the start date."), field="valid_until"
        )
    agreement = Agreement.objects.create(
        code=code,
        supplier_id=supplier_id,
        kind=kind,
        valid_from=valid_from,
        valid_until=valid_until,
        state=state,
        owner=user,
    )
    transition_created(machine=AGREEMENT_MACHINE, obj=agreement, by=user)
    return agreement


@transaction.atomic
def agreement_state_set(*, user: Any, agreement_id: int, state: str) -> Agreement:
    """CAT-1: the owner activates a draft or ends an agreement; an ended one stays ended. The
    move and its history row (who, when) commit together."""
    _require(user, OWN_AGREEMENTS)
    agreement = _owned_agreement_for_update(user=user, agreement_id=agreement_id)
    transition_apply(machine=AGREEMENT_MACHINE, obj=agreement, to_state=state, by=user)
    return agreement


def _supplier_may_register(user: Any, agreement: Agreement) -> bool:
    link = SupplierUser.objects.filter(user=user).first()
    return link is not None and link.supplier_id == agreement.supplier_id


@transaction.atomic
def agreement_row_register(
    *,
    user: Any,
    agreement_id: int,
    article_number: str,
    name: str,
    iso9999: str,
    product_area_id: str,
    price_sek: Decimal,
    kind: str,
    supply: str,
    assortment_days: int,
    weight_kg: Decimal,
    length_cm: int,
    girth_cm: int,
) -> AgreementRow:
    """CAT-1: the supplier (a user tied to the agreement's supplier) or the agreement's owner on
    its behalf registers an article and its price under an agreement, for the owner to decide."""
    agreement = Agreement.objects.select_for_update().filter(pk=agreement_id).first()
    if agreement is None:
        raise FieldRefused(_("Choose the agreement."), field="agreement")
    as_supplier = holds_role_permission(user, REGISTER_ROWS) and _supplier_may_register(
        user, agreement
    )
    as_owner = holds_role_permission(user, OWN_AGREEMENTS) and agreement.owner_id == user.pk
    if not (as_supplier or as_owner):
        raise FieldRefused(
            _("Choose an agreement of your own supplier or one you own."), field="agreement"
        )
    if agreement.state == AgreementState.ENDED:
        raise FieldRefused(
            _("The agreement has ended; rows can no longer be added."), field="agreement"
        )
    article_number = article_number.strip()
    if not article_number:
        raise FieldRefused(_("Enter the article number."), field="article_number")
    if not name.strip():
        raise FieldRefused(_("Enter the article's name."), field="name")
    iso9999 = iso9999.strip()
    if iso9999 and not (iso9999.isdigit() and len(iso9999) == 6):
        raise FieldRefused(_("An ISO 9999 code is six digits."), field="iso9999")
    if not ProductArea.objects.filter(pk=product_area_id).exists():
        raise FieldRefused(_("Choose the product area."), field="product_area")
    if price_sek < 0:
        raise FieldRefused(_("The price cannot be negative."), field="price_sek")
    if kind not in ArticleKind.values:
        raise FieldRefused(_("Choose the kind of article."), field="kind")
    if supply not in Supply.values:
        raise FieldRefused(_("Choose rent or buy."), field="supply")
    if assortment_days < 1:
        raise FieldRefused(_("The delivery promise is at least one day."), field="assortment_days")
    if weight_kg <= 0:
        raise FieldRefused(_("Enter the weight in kilograms."), field="weight_kg")
    if length_cm < 1:
        raise FieldRefused(_("Enter the length in centimetres."), field="length_cm")
    if girth_cm < 1:
        raise FieldRefused(_("Enter the girth in centimetres."), field="girth_cm")
    existing = Article.objects.filter(article_number=article_number).first()
    if existing is not None and existing.agreement_id != agreement.pk:
        raise FieldRefused(
            _("This article number belongs to another agreement."), field="article_number"
        )
    row = AgreementRow.objects.create(
        agreement=agreement,
        article=existing,
        article_number=article_number,
        name=name.strip(),
        iso9999=iso9999,
        product_area_id=product_area_id,
        price_sek=price_sek,
        kind=kind,
        supply=supply,
        assortment_days=assortment_days,
        weight_kg=weight_kg,
        length_cm=length_cm,
        girth_cm=girth_cm,
        registered_by=user,
    )
    transition_created(machine=AGREEMENT_ROW_MACHINE, obj=row, by=user)
    return row


def _row_for_owner(*, user: Any, row_id: int) -> AgreementRow:
    _require(user, OWN_AGREEMENTS)
    row = (
        AgreementRow.objects.select_for_update()
        .select_related("agreement")
        .filter(pk=row_id)
        .first()
    )
    if row is None or row.agreement.owner_id != user.pk:
        raise FieldRefused(_("Choose a row of one of your own agreements."), field="row")
    return row


@transaction.atomic
def agreement_row_approve(*, user: Any, row_id: int) -> AgreementRow:
    """CAT-1: the owner approves a row: the article it names gets its name, ISO code, area and
    price, or is created under the agreement. A new article is not yet published: that is the
    assortment owner's decision (CAT-1)."""
    row = _row_for_owner(user=user, row_id=row_id)
    article = row.article
    if article is None:
        article = Article.objects.filter(article_number=row.article_number).first()
    fields = {
        "name": row.name,
        "iso9999": row.iso9999,
        "product_area_id": row.product_area_id,
        "price_sek": row.price_sek,
        "kind": row.kind,
        "supply": row.supply,
        "assortment_days": row.assortment_days,
        "weight_kg": row.weight_kg,
        "length_cm": row.length_cm,
        "girth_cm": row.girth_cm,
    }
    if article is None:
        # Published only by the assortment owner (CAT-1), never by the approval.
        article = Article.objects.create(
            article_number=row.article_number,
            agreement=row.agreement,
            in_assortment=False,
            **fields,
        )
    else:
        for name, value in fields.items():
            setattr(article, name, value)
        article.save(update_fields=[*fields])
    transition_apply(
        machine=AGREEMENT_ROW_MACHINE, obj=row, to_state=R.APPROVED, by=user, article=article
    )
    return row


@transaction.atomic
def agreement_row_refuse(*, user: Any, row_id: int, reason: str) -> AgreementRow:
    """CAT-1: the owner refuses a row, saying why; the article is not touched."""
    reason = reason.strip()
    if not reason:
        raise FieldRefused(
            _("Say why the row is refused, so the supplier can correct it."), field="reason"
        )
    row = _row_for_owner(user=user, row_id=row_id)
    transition_apply(
        machine=AGREEMENT_ROW_MACHINE,
        obj=row,
        to_state=R.REFUSED,
        by=user,
        note=reason,
        refusal_reason=reason[:300],
    )
    return row


@transaction.atomic
def article_publish(
    *, user: Any, article_id: int, published_from: datetime.date | None = None
) -> AssortmentPeriod:
    """CAT-1: the assortment owner publishes an article from ``published_from`` (today when
    none): prescribing and the public assortment (CAT-2) offer it from that day, as both read
    ``published_on`` / ``Article.in_assortment_on``; a later day takes effect on that day."""
    _require(user, PUBLISH)
    article = (
        Article.objects.select_for_update()
        .select_related("agreement")
        .filter(pk=article_id)
        .first()
    )
    if article is None:
        raise FieldRefused(_("Choose the article."), field="article")
    if article.assortment_periods.filter(withdrawn_by__isnull=True).exists():
        raise StateNotAllowed(_("The article is already published."))
    if article.agreement.state == AgreementState.ENDED:
        raise StateNotAllowed(_("The article's agreement has ended; it cannot be published."))
    today = timezone.localdate()
    start = published_from or today
    if start < today:
        raise FieldRefused(_("The publication date cannot be in the past."), field="published_from")
    period = AssortmentPeriod.objects.create(
        article=article, published_from=start, published_by=user
    )
    article.in_assortment = True
    article.assortment_from = start
    article.assortment_until = None
    article.save(update_fields=["in_assortment", "assortment_from", "assortment_until"])
    return period


@transaction.atomic
def article_withdraw(
    *, user: Any, article_id: int, until: datetime.date | None = None
) -> AssortmentPeriod:
    """CAT-1: the assortment owner withdraws an article; its period is closed, not deleted.
    Without a date it leaves at once; with a date from today on, that is its last day in the
    assortment, as the page says (prescribing and the public assortment read the date)."""
    _require(user, PUBLISH)
    article = Article.objects.select_for_update().filter(pk=article_id).first()
    if article is None:
        raise FieldRefused(_("Choose the article."), field="article")
    today = timezone.localdate()
    period = article.assortment_periods.filter(withdrawn_by__isnull=True).first()
    if period is None and article.assortment_until is not None:
        raise StateNotAllowed(_("The article's withdrawal is already recorded."))
    if period is None:
        if not article.in_assortment:
            raise StateNotAllowed(_("The article is not published."))
        # Published before owners existed (by the import): its period starts unknown, so the
        # withdrawal records it as the day of withdrawal.
        period = AssortmentPeriod.objects.create(
            article=article, published_from=min(until or today, today), published_by=user
        )
    end = until or today
    if end < period.published_from:
        raise FieldRefused(
            _("The withdrawal date must not be before the publication date."), field="until"
        )
    period.until = end
    period.withdrawn_by = user
    period.save(update_fields=["until", "withdrawn_by"])
    if until is not None and until >= today:
        article.assortment_until = until
        article.save(update_fields=["assortment_until"])
    else:
        article.in_assortment = False
        article.assortment_from = None
        article.assortment_until = None
        article.save(update_fields=["in_assortment", "assortment_from", "assortment_until"])
    return period


def _catalogue_group(role: str) -> Group:
    if role not in roles.CATALOGUE_ROLES:
        raise FieldRefused(_("Choose one of the catalogue's roles."), field="role")
    return Group.objects.get(name=role)


@transaction.atomic
def catalogue_role_give(
    *, user: Any, subject_id: int, role: str, supplier_id: int | None = None
) -> None:
    """CAT-1: the role assigner gives one of the catalogue's roles (and no other). The change of
    groups is recorded as an account event (ACCESS-10) by protection.account_watch, as every
    change of a user's roles is, naming the assigner as actor."""
    _require(user, ASSIGN_ROLES)
    group = _catalogue_group(role)
    subject = (
        get_user_model().objects.select_for_update().filter(pk=subject_id, is_active=True).first()
    )
    if subject is None:
        raise FieldRefused(_("Choose the user."), field="user")
    if role == roles.SUPPLIER_USER:
        if supplier_id is None or not Supplier.objects.filter(pk=supplier_id).exists():
            raise FieldRefused(
                _("Choose the supplier the user registers rows for."), field="supplier"
            )
        SupplierUser.objects.update_or_create(user=subject, defaults={"supplier_id": supplier_id})
    if subject.groups.filter(pk=group.pk).exists():
        raise FieldRefused(_("The user already has this role."), field="role")
    subject.groups.add(group)


@transaction.atomic
def catalogue_role_take(*, user: Any, subject_id: int, role: str) -> None:
    """CAT-1: the role assigner takes one of the catalogue's roles back (ACCESS-10 as above)."""
    _require(user, ASSIGN_ROLES)
    group = _catalogue_group(role)
    subject = get_user_model().objects.select_for_update().filter(pk=subject_id).first()
    if subject is None or not subject.groups.filter(pk=group.pk).exists():
        raise FieldRefused(_("The user does not have this role."), field="role")
    subject.groups.remove(group)
    if role == roles.SUPPLIER_USER:
        SupplierUser.objects.filter(user=subject).delete()

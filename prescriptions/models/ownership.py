"""The catalogue's owners (CAT-1): who owns an agreement, the rows suppliers register under it,
and the periods an article is published in the region's assortment.

The agreement header and its rows are kept apart from :class:`Article` on purpose: a supplier's
row is only a proposal until the agreement owner approves it, and only the approval touches the
article that prescribers order.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patients.transitions import TransitionRecord
from prescriptions.models.catalogue import (
    Agreement,
    AgreementState,
    Article,
    ArticleKind,
    ProductArea,
    Supplier,
    Supply,
)


class AgreementRowState(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")


class SupplierUser(models.Model):
    """CAT-1: a user who registers agreement rows on behalf of one supplier."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="supplier_link",
        verbose_name=_("user"),
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="users", verbose_name=_("supplier")
    )

    class Meta:
        verbose_name = _("supplier user")
        verbose_name_plural = _("supplier users")
        permissions = [("assign_catalogue_roles", _("Can give and take the catalogue's roles"))]

    def __str__(self) -> str:
        return str(self.supplier)


class AgreementRow(models.Model):
    """CAT-1: one article and its price, registered under an agreement by the supplier (or by
    the owner on its behalf), waiting for the owner's decision. ``article`` is the existing
    article the row changes, or (after approval) the one it created."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="rows", verbose_name=_("agreement")
    )
    article = models.ForeignKey(
        Article,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreement_rows",
        verbose_name=_("article"),
    )
    article_number = models.CharField(_("article number"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    iso9999 = models.CharField(_("ISO 9999"), max_length=6, blank=True, default="")
    product_area = models.ForeignKey(
        ProductArea, on_delete=models.PROTECT, verbose_name=_("product area")
    )
    price_sek = models.DecimalField(_("price (SEK)"), max_digits=12, decimal_places=2)
    kind = models.CharField(_("kind"), max_length=16, choices=ArticleKind.choices)
    # What logistics needs of a new article (delivery promise, parcel limits for LETTER-4), as
    # the supplier states them; an approval writes them to the article.
    supply = models.CharField(_("rent or buy"), max_length=8, choices=Supply.choices)
    assortment_days = models.PositiveSmallIntegerField(_("delivery promise (days)"))
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=8, decimal_places=3)
    length_cm = models.PositiveIntegerField(_("length (cm)"))
    girth_cm = models.PositiveIntegerField(_("girth (cm)"))
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=AgreementRowState.choices,
        default=AgreementRowState.SUBMITTED,
    )
    refusal_reason = models.CharField(_("reason"), max_length=300, blank=True, default="")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered by"),
    )
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True)

    class Meta:
        ordering = ["-registered_at", "-pk"]
        verbose_name = _("agreement row")
        verbose_name_plural = _("agreement rows")
        permissions = [
            ("own_agreements", _("Can create agreements and decide their rows")),
            ("register_agreement_rows", _("Can register agreement rows for a supplier")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price_sek__gte=0), name="agreement_row_price_ok"),
            # A refusal always says why, so the supplier can correct the row.
            models.CheckConstraint(
                condition=~Q(state="refused") | ~Q(refusal_reason=""),
                name="agreement_row_refusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} {self.article_number}"


class AgreementRowTransition(TransitionRecord):
    """One move of an agreement row (house style 4), written by ``patients.transitions``."""

    row = models.ForeignKey(AgreementRow, on_delete=models.CASCADE, related_name="transitions")

    class Meta(TransitionRecord.Meta):
        verbose_name = _("agreement row transition")
        verbose_name_plural = _("agreement row transitions")


class AgreementTransition(TransitionRecord):
    """One move of an agreement header (created, activated, ended): who, when (house style 4),
    written by ``patients.transitions`` and shown on the owner's agreements page."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(
        _("from"), max_length=32, choices=AgreementState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=32, choices=AgreementState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("agreement transition")
        verbose_name_plural = _("agreement transitions")


class AssortmentPeriod(models.Model):
    """CAT-1: one period an article is published in the region's assortment. Withdrawal closes
    the period (sets ``until`` and who withdrew) instead of deleting it, so the history stays."""

    article = models.ForeignKey(
        Article,
        on_delete=models.PROTECT,
        related_name="assortment_periods",
        verbose_name=_("article"),
    )
    published_from = models.DateField(_("published from"))
    until = models.DateField(_("published until"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("published by"),
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )

    class Meta:
        ordering = ["-published_from", "-pk"]
        verbose_name = _("assortment period")
        verbose_name_plural = _("assortment periods")
        permissions = [("publish_assortment", _("Can publish and withdraw the assortment"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("published_from")),
                name="assortment_period_ordered",
            ),
            # One open period per article: publishing twice is refused, not doubled.
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(withdrawn_by__isnull=True),
                name="assortment_period_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article} {self.published_from}"

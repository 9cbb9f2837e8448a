"""The region's catalogue: articles under agreements with suppliers, grouped by product area.

Loaded by ``import_catalogue`` (docs/catalogue.md); agreement and assortment owners keep it up to
date in the admin (CAT-1).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CompetenceArea(models.Model):
    """Training a prescriber must have registered to prescribe in its product areas (PRESC-5)."""

    code = models.SlugField(_("code"), max_length=64, primary_key=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["name"]
        verbose_name = _("competence area")
        verbose_name_plural = _("competence areas")

    def __str__(self) -> str:
        return self.name


class ProductArea(models.Model):
    code = models.SlugField(_("code"), max_length=64, primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    competence_area = models.ForeignKey(
        CompetenceArea, on_delete=models.PROTECT, verbose_name=_("competence area")
    )
    # Läkemedelsnära produkter (incontinence, diabetes, nutrition): REGION-3 registration applies.
    medicine_related = models.BooleanField(_("medicine-related products"), default=False)
    # Consumables: a withdrawal against a consumable prescription is refused until this many
    # days after the last one (0: no time lock).
    withdrawal_interval_days = models.PositiveSmallIntegerField(
        _("days between withdrawals"), default=0
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("product area")
        verbose_name_plural = _("product areas")

    def __str__(self) -> str:
        return self.name


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return self.name


class AgreementState(models.TextChoices):
    DRAFT = "draft", _("draft")
    ACTIVE = "active", _("active")
    ENDED = "ended", _("ended")


class AgreementKind(models.TextChoices):
    # The procurement forms a region's agreements take (seed 003).
    FRAMEWORK = "framework", _("framework agreement")
    DIRECT = "direct", _("direct procurement")
    CALL_OFF = "call_off", _("call-off agreement")


class Agreement(models.Model):
    """A procurement agreement; an article whose agreement is not in force cannot be ordered."""

    code = models.CharField(_("agreement"), max_length=64, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, verbose_name=_("supplier"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # CAT-1: the agreement owner who created the header and decides its rows (null: agreements
    # from before owners, kept by customer service in the admin).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_agreements",
        verbose_name=_("agreement owner"),
    )
    # CAT-1: "active" for the agreements that existed before owners, so that ordering under
    # them goes on unchanged.
    state = models.CharField(
        _("state"), max_length=16, choices=AgreementState.choices, default=AgreementState.ACTIVE
    )
    kind = models.CharField(
        _("agreement type"), max_length=16, choices=AgreementKind.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="agreement_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.code

    def in_force_on(self, day: datetime.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class ReplacementKind(models.TextChoices):
    # PRESC-8: a fixed group substitutes by itself; an optional (ordinary) group asks.
    FIXED = "fixed", _("fixed")
    OPTIONAL = "optional", _("optional")


class ReplacementGroup(models.Model):
    """Articles that can stand in for each other (ersättningsgrupp)."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ReplacementKind.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("replacement group")
        verbose_name_plural = _("replacement groups")

    def __str__(self) -> str:
        return self.code


class ArticleKind(models.TextChoices):
    MAIN = "main", _("main article")
    ACCESSORY = "accessory", _("accessory")
    CONSUMABLE = "consumable", _("consumable")


class Supply(models.TextChoices):
    RENT = "rent", _("rent")
    BUY = "sell", _("buy")


class Article(models.Model):
    article_number = models.CharField(_("article number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # ISO 9999 class, six digits; consumables such as nutrition may have none.
    iso9999 = models.CharField(_("ISO 9999"), max_length=6, blank=True, default="")
    product_area = models.ForeignKey(
        ProductArea, on_delete=models.PROTECT, verbose_name=_("product area")
    )
    price_sek = models.DecimalField(_("price (SEK)"), max_digits=12, decimal_places=2)
    kind = models.CharField(_("kind"), max_length=16, choices=ArticleKind.choices)
    # An accessory is tied to the main article it fits.
    main_article = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accessories",
        verbose_name=_("main article"),
    )
    advanced_service = models.BooleanField(_("advanced service or adaptation"), default=False)
    assortment_days = models.PositiveSmallIntegerField(_("delivery promise (days)"))
    # False: phased out of the assortment (PRESC-8 proposes the replacement).
    in_assortment = models.BooleanField(_("in assortment"), default=True)
    # CAT-1: the day a publication takes effect (null: already in effect, as for the articles
    # imported before owners). Readers ask :func:`published_on` or :meth:`in_assortment_on`, so
    # an article published ahead of time appears on its day without a task flipping a flag.
    assortment_from = models.DateField(_("in assortment from"), null=True, blank=True)
    # CAT-1: the last day of a withdrawal made ahead of time (null: none pending); read the same
    # way, so the article leaves the assortment the day after without a task.
    assortment_until = models.DateField(_("in assortment until"), null=True, blank=True)
    # Kept up to date by the logistics floor once it exists; the admin until then (PRESC-8).
    out_of_stock = models.BooleanField(_("out of stock"), default=False)
    lifespan_years = models.PositiveSmallIntegerField(_("lifespan (years)"), default=0)
    # DEVICE-1: each unit is an individual device with a serial number, registered at goods
    # receipt; GTIN where the supplier marks it (GS1 labels).
    serial_numbered = models.BooleanField(_("serial-numbered (individual devices)"), default=False)
    gtin = models.CharField(_("GTIN"), max_length=14, blank=True, default="")
    # CAT-2: what a resident reads about the article on the public assortment page, in plain
    # words (what it is for, how it is used). Never anything about a person.
    description = models.TextField(_("description for residents"), blank=True, default="")
    warranty_months = models.PositiveSmallIntegerField(_("warranty (months)"), default=0)
    service_interval_months = models.PositiveSmallIntegerField(
        _("service interval (months)"), default=0
    )
    # LOG-3: normally delivered by the supplier directly; through the region's own store and
    # staff for a protected patient.
    supplier_delivers = models.BooleanField(_("delivered directly by the supplier"), default=False)
    supply = models.CharField(_("rent or buy"), max_length=8, choices=Supply.choices)
    replacement_group = models.ForeignKey(
        ReplacementGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("replacement group"),
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, verbose_name=_("agreement"))
    # Parcel limits through Skatteverket's forwarding service need them (LETTER-4).
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=8, decimal_places=3)
    length_cm = models.PositiveIntegerField(_("length (cm)"))
    girth_cm = models.PositiveIntegerField(_("girth (cm)"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        # CAT-1: searching the catalogue is a role of its own, apart from the admin's
        # view_article (which customer service holds to manage the catalogue).
        permissions = [
            ("search_catalogue", _("Can search the catalogue")),
            # KPI-5: the assortment owner's follow-up of prescribing and of articles without
            # demand (a role of its own: it reads no patient, only counts per article and unit).
            ("follow_up_assortment", _("Can follow up prescribing per article and unit")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="accessory", main_article__isnull=False)
                | (~Q(kind="accessory") & Q(main_article__isnull=True)),
                name="article_accessory_has_main",
            ),
            models.CheckConstraint(
                condition=Q(assortment_days__in=[7, 17]), name="article_assortment_7_or_17"
            ),
            models.CheckConstraint(condition=Q(price_sek__gte=0), name="article_price_positive"),
        ]
        indexes = [
            # Catalogue search (selectors/catalogue.py): typo-tolerant name search by trigram
            # word similarity, and prefix search on article number and ISO 9999 code, which
            # needs the pattern operator class under any collation other than C. GiST, not GIN:
            # only GiST returns names nearest first (``<->>``), so a search reads its 50 best
            # names instead of scoring every similar one (docs/performance.md).
            GistIndex(fields=["name"], name="article_name_trgm_gist", opclasses=["gist_trgm_ops"]),
            models.Index(
                fields=["article_number"],
                name="article_number_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["iso9999"], name="article_iso9999_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article_number} {self.name}"

    def in_assortment_on(self, day: datetime.date) -> bool:
        """CAT-1: published and in effect on ``day`` (the row's own fields: no query)."""
        return (
            self.in_assortment
            and (self.assortment_from is None or self.assortment_from <= day)
            and (self.assortment_until is None or day <= self.assortment_until)
        )


def published_on(day: datetime.date) -> Q:
    """CAT-1, CAT-2: the articles in the assortment on ``day``, for a queryset's filter; the
    same test as :meth:`Article.in_assortment_on`."""
    return (
        Q(in_assortment=True)
        & (Q(assortment_from__isnull=True) | Q(assortment_from__lte=day))
        & (Q(assortment_until__isnull=True) | Q(assortment_until__gte=day))
    )

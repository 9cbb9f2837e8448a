"""The price list: rent per device and day (per article, or per product area when the article
has none of its own) and the hourly labour rate, each with dated validity. Sale prices are the
article's own (``Article.price_sek``)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from prescriptions.models import Article, ProductArea


class TariffKind(models.TextChoices):
    RENT_DAY = "rent_day", _("rent per device and day")
    LABOUR_HOUR = "labour_hour", _("labour per hour")


class Tariff(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=TariffKind.choices)
    article = models.ForeignKey(
        Article,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("article"),
    )
    product_area = models.ForeignKey(
        ProductArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product area"),
    )
    price_sek = models.DecimalField(_("price (SEK)"), max_digits=10, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    # Inclusive; empty: until further notice.
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered"), db_default=Now())

    class Meta:
        ordering = ["kind", "valid_from"]
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        indexes = [models.Index(fields=["kind", "valid_from"], name="tariff_kind_from_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(price_sek__gte=0), name="tariff_price_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="tariff_validity_ordered",
            ),
            # Rent is priced per article or per product area (not both); labour for neither.
            models.CheckConstraint(
                condition=Q(kind="labour_hour", article__isnull=True, product_area__isnull=True)
                | Q(kind="rent_day", article__isnull=False, product_area__isnull=True)
                | Q(kind="rent_day", article__isnull=True, product_area__isnull=False),
                name="tariff_priced_thing_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.pk}"

"""A billing run: one month, one home region (or all), previewed (dry run) or issued, with its
summary and the validation findings of invoices it could not issue. REGION-6: claims too old
to invoice are flagged lapsed, each once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from billing.models.charges import ChargeEvent
from patients.models import Region


class RunState(models.TextChoices):
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    REFUSED = "refused", _("refused: not issued")


class BillingRun(models.Model):
    month = models.DateField(_("month"))
    # The home region invoiced; empty: every payer of the month.
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("home region"),
    )
    dry_run = models.BooleanField(_("preview only"))
    state = models.CharField(
        _("state"), max_length=12, choices=RunState.choices, default=RunState.RUNNING
    )
    summary = models.JSONField(_("summary"), default=dict)
    # Per invoice not issued: its buyer and the fatal findings of the validation (BILL-7).
    findings = models.JSONField(_("validation findings"), default=list)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started"), db_default=Now())
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        indexes = [models.Index(fields=["month", "region"], name="billing_run_month_idx")]

    def __str__(self) -> str:
        return f"run:{self.pk}"


class LapsedClaim(models.Model):
    """REGION-6: a charge older than six months after its delivery, not invoiced."""

    charge = models.OneToOneField(
        ChargeEvent, on_delete=models.PROTECT, related_name="lapsed", verbose_name=_("charge")
    )
    run = models.ForeignKey(
        BillingRun, on_delete=models.PROTECT, related_name="lapsed", verbose_name=_("billing run")
    )
    flagged_at = models.DateTimeField(_("flagged"), db_default=Now())

    class Meta:
        ordering = ["-flagged_at"]
        verbose_name = _("lapsed claim")
        verbose_name_plural = _("lapsed claims")

    def __str__(self) -> str:
        return f"lapsed:{self.charge_id}"

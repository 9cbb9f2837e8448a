"""Who is invoiced: a region, a municipality, a care unit or a patient, each with a customer
number. A protected patient's account also has a secret customer number
(*sekretesskundnummer*), the only number that may leave for the finance system (BILL-2)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from patients.models import Patient, Region
from prescriptions.models import PrescribingUnit


class AccountKind(models.TextChoices):
    REGION = "region", _("region")
    MUNICIPALITY = "municipality", _("municipality")
    UNIT = "unit", _("care unit")
    PATIENT = "patient", _("patient")


class BillingAccount(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    customer_number = models.CharField(_("customer number"), max_length=16, unique=True)
    # BILL-2: set when the holder is protected; pages and files then show only this number.
    secret_customer_number = models.CharField(
        _("secret customer number"), max_length=16, unique=True, null=True, blank=True
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    unit = models.ForeignKey(
        PrescribingUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("care unit"),
    )
    # By internal id only: the person's name and address are read through the gate when an
    # invoice to them is made, never copied here.
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    municipality_code = models.CharField(
        _("municipality code"), max_length=4, blank=True, default=""
    )
    # A region's, municipality's or unit's invoicing details (not personal data).
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    organisation_number = models.CharField(
        _("organisation number"), max_length=10, blank=True, default=""
    )
    street = models.CharField(_("street address"), max_length=200, blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True, default="")
    city = models.CharField(_("town"), max_length=100, blank=True, default="")
    email = models.EmailField(_("e-mail for invoices"), blank=True, default="")
    # BT-10 when no home-region agreement names one.
    default_buyer_reference = models.CharField(
        _("default buyer reference"), max_length=64, blank=True, default=""
    )
    created_at = models.DateTimeField(_("registered"), db_default=Now())

    class Meta:
        ordering = ["customer_number"]
        verbose_name = _("billing account")
        verbose_name_plural = _("billing accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="region", region__isnull=False, patient__isnull=True)
                | Q(kind="municipality", patient__isnull=True, municipality_code__regex=r"^\d{4}$")
                | Q(kind="unit", unit__isnull=False, patient__isnull=True)
                | Q(kind="patient", patient__isnull=False),
                name="billing_account_holder_named",
            ),
            models.UniqueConstraint(
                fields=["region"], condition=Q(kind="region"), name="billing_account_one_region"
            ),
            models.UniqueConstraint(
                fields=["unit"], condition=Q(kind="unit"), name="billing_account_one_unit"
            ),
            models.UniqueConstraint(
                fields=["patient"], condition=Q(kind="patient"), name="billing_account_one_patient"
            ),
        ]

    def __str__(self) -> str:
        # The secret number where there is one: the ordinary one must not travel with it.
        return self.secret_customer_number or self.customer_number

"""The seller on every invoice: the region's own invoicing details, from settings (read from
the environment in config/settings, one place), checked here so that a bad organisation number
or Bankgiro refuses the run with a message instead of reaching a receiver."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from billing.errors import BillingError
from billing.peppol import UblParty

# SE-R-005/Peppol: the Swedish text for a seller approved for F-tax.
F_SKATT_TEXT = "Godkänd för F-skatt"
# VAT exemption (category E): care and assistive devices given in care (ML 3 kap. 4 §,
# mervärdesskattelagen 10 kap. 6 § since 2023).
VAT_EXEMPTION_REASON = "Momsfri omsättning av vård och hjälpmedel i vården"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits[::-1]):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def organisation_number_valid(value: str) -> bool:
    return bool(re.fullmatch(r"\d{10}", value)) and luhn_valid(value)


@dataclass(frozen=True)
class Seller:
    name: str
    organisation_number: str
    vat_number: str
    street: str
    postal_code: str
    city: str
    bankgiro: str
    email: str

    def party(self) -> UblParty:
        return UblParty(
            name=self.name,
            organisation_number=self.organisation_number,
            vat_number=self.vat_number or None,
            street=self.street,
            city=self.city,
            postal_code=self.postal_code,
            country_code="SE",
            endpoint_id=self.organisation_number,
            f_skatt=True,
            contact_name=None,
            contact_email=self.email or None,
        )

    def snapshot(self) -> dict[str, str]:
        return {
            "name": self.name,
            "organisation_number": self.organisation_number,
            "vat_number": self.vat_number,
            "street": self.street,
            "postal_code": self.postal_code,
            "city": self.city,
            "bankgiro": self.bankgiro,
            "email": self.email,
            "f_skatt": F_SKATT_TEXT,
        }


def seller_get() -> Seller:
    seller = Seller(
        name=settings.BILLING_SELLER_NAME,
        organisation_number=settings.BILLING_SELLER_ORGANISATION_NUMBER.replace("-", ""),
        vat_number=settings.BILLING_SELLER_VAT_NUMBER,
        street=settings.BILLING_SELLER_STREET,
        postal_code=settings.BILLING_SELLER_POSTAL_CODE.replace(" ", ""),
        city=settings.BILLING_SELLER_CITY,
        bankgiro=settings.BILLING_SELLER_BANKGIRO,
        email=settings.BILLING_SELLER_EMAIL,
    )
    if not organisation_number_valid(seller.organisation_number):
        raise BillingError(
            "BILLING_SELLER_ORGANISATION_NUMBER: not ten digits with a valid check digit; "
            "correct the region's organisation number in the settings."
        )
    if not re.fullmatch(r"\d{3,4}-\d{4}", seller.bankgiro):
        raise BillingError(
            "BILLING_SELLER_BANKGIRO: expected a Bankgiro number like 5050-1055; "
            "correct it in the settings."
        )
    return seller

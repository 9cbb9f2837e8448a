"""Registering an individual device (DEVICE-1) when it is received, with its lifespan,
warranty and first service date read from the article."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from logistics.models import Device, DeviceStatus, HolderKind, StockLocation
from logistics.services.errors import LogisticsError
from logistics.services.state import device_created
from prescriptions.models import Article


def months_later(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    # The last day of a shorter month stands in for the 31st.
    for last in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def device_register(
    *,
    article: Article,
    serial_number: str,
    location: StockLocation,
    received_on: datetime.date,
    by: Any = None,
    gtin: str = "",
    lot_number: str = "",
    note: str = "",
) -> Device:
    """A new device in a store, in the caller's transaction, with the supplier's lot number
    where it gives one. A serial number already registered for the article is refused (the
    database also refuses it)."""
    device = Device.objects.create(
        article=article,
        serial_number=_serial_free(article, serial_number),
        gtin=gtin or article.gtin,
        lot_number=lot_number.strip(),
        owner_region=location.region,
        status=DeviceStatus.IN_STOCK,
        holder_kind=HolderKind.STORE,
        location=location,
        **_dates(article, received_on),
    )
    device_created(
        device=device, by=by, note=note or _("Received into %(store)s") % {"store": location.name}
    )
    return device


def device_register_delivered(
    *,
    article: Article,
    serial_number: str,
    owner_region_id: str,
    patient_id: int | None,
    received_on: datetime.date,
    by: Any = None,
    note: str = "",
) -> Device:
    """A device the supplier delivered straight to an ordinary patient (LOG-3): registered on
    loan with the patient as holder, in the caller's transaction."""
    device = Device.objects.create(
        article=article,
        serial_number=_serial_free(article, serial_number),
        gtin=article.gtin,
        owner_region_id=owner_region_id,
        status=DeviceStatus.ON_LOAN,
        holder_kind=HolderKind.PATIENT,
        holder_patient_id=patient_id,
        location=None,
        **_dates(article, received_on),
    )
    device_created(device=device, by=by, note=note)
    return device


def _serial_free(article: Article, serial_number: str) -> str:
    """The serial number, trimmed; refused when empty or already registered for the article
    (the database also refuses a duplicate)."""
    serial = serial_number.strip()
    if not serial:
        raise LogisticsError(_("Serial number: scan or type the serial number."))
    if Device.objects.filter(article=article, serial_number=serial).exists():
        raise LogisticsError(
            _("Serial number %(serial)s is already registered for article %(article)s.")
            % {"serial": serial, "article": article.article_number}
        )
    return serial


def _dates(article: Article, received_on: datetime.date) -> dict[str, Any]:
    """Received, end of lifespan and warranty, and first service, read from the article."""
    return dict(
        received_on=received_on,
        lifespan_until=(
            months_later(received_on, 12 * article.lifespan_years)
            if article.lifespan_years
            else None
        ),
        warranty_until=(
            months_later(received_on, article.warranty_months) if article.warranty_months else None
        ),
        next_service_on=(
            months_later(received_on, article.service_interval_months)
            if article.service_interval_months
            else None
        ),
    )

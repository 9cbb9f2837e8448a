"""What the prescriptions floor puts on the start page (``patients.startpage``): the
prescriber's open prescriptions by state, and the catalogue for those who search it (CAT-1).

Counts and links only, one query for all states: no patient is named (ACCESS-1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from patients.startpage import StartItem, StartSection, start_section_register
from prescriptions.models import Prescription, PrescriptionState
from prescriptions.selectors.consumable import phone_desk_counts
from prescriptions.services.phone_orders import PHONE_ORDER_PERMISSION
from protection.permissions import holds_role_permission

S = PrescriptionState
# The prescriber's open work, in the order a prescription goes through it; each links to
# "My prescriptions" filtered on its state.
OPEN_STATES: Final = (
    (S.DRAFT, _("Drafts")),
    (S.SUBMITTED, _("Submitted, being checked")),
    (S.AWAITING_AGREEMENT, _("Waiting for the home region's agreement")),
    (S.AWAITING_REGISTRATION, _("Waiting for registration")),
)


def _prescriptions(user: Any) -> Sequence[StartItem] | None:
    if not holds_role_permission(user, "prescriptions.add_prescription"):
        return None
    counts = Prescription.objects.filter(prescriber_id=user.pk).aggregate(
        **{state.value: Count("pk", filter=Q(state=state)) for state, _label in OPEN_STATES}
    )
    mine = reverse("prescriptions:mine")
    return [
        StartItem(label, f"{mine}?{urlencode({'state': state.value})}", counts[state.value])
        for state, label in OPEN_STATES
    ]


def _catalogue(user: Any) -> Sequence[StartItem] | None:
    if not holds_role_permission(user, "prescriptions.search_catalogue"):
        return None
    return [StartItem(_("Search the catalogue"), reverse("catalogue:search"))]


def _phone_desk(user: Any) -> Sequence[StartItem] | None:
    """Customer service's desk (issue 14): counts only, one link; no patient is named."""
    if not holds_role_permission(user, PHONE_ORDER_PERMISSION):
        return None
    counts = phone_desk_counts()
    desk = reverse("prescriptions:phone")
    return [
        StartItem(_("Consumable prescriptions open for a withdrawal"), desk, counts.due),
        StartItem(_("Withdrawals taken today"), desk, counts.withdrawals_today),
        StartItem(_("Phone orders entered today"), desk, counts.phone_orders_today),
    ]


def register() -> None:
    start_section_register(StartSection("prescriptions", _("My prescriptions"), 30, _prescriptions))
    start_section_register(StartSection("catalogue", _("Catalogue"), 70, _catalogue))
    start_section_register(
        StartSection("phone-desk", _("Phone orders and withdrawals"), 35, _phone_desk)
    )

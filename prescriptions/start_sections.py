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
from prescriptions.models import AgreementRow, AgreementRowState, Prescription, PrescriptionState
from prescriptions.selectors.consumable import phone_desk_counts
from prescriptions.selectors.staff import staff_application_queue_count
from prescriptions.services.phone_orders import PHONE_ORDER_PERMISSION
from prescriptions.services.staff import CONFIRM_PERMISSION, DECIDE_PERMISSION
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
    items = [
        StartItem(_("Search the catalogue"), reverse("catalogue:search")),
        # CAT-1: agreements, suppliers, prices and states for the product and agreement search.
        StartItem(_("Product and agreement search"), reverse("catalogue:agreement_search")),
    ]
    # KPI-5: the assortment owner's follow-up sits with the catalogue it follows up.
    if holds_role_permission(user, "prescriptions.follow_up_assortment"):
        items.append(StartItem(_("Prescribing follow-up"), reverse("catalogue:follow_up")))
    return items


def _catalogue_owners(user: Any) -> Sequence[StartItem] | None:
    """CAT-1: the owners' work: rows waiting for the agreement owner's decision (one count
    query), the supplier's rows, publishing, and the catalogue's roles."""
    items = []
    if holds_role_permission(user, "prescriptions.own_agreements"):
        waiting = AgreementRow.objects.filter(
            agreement__owner_id=user.pk, state=AgreementRowState.SUBMITTED
        ).count()
        items.append(
            StartItem(
                _("Agreement rows waiting for your decision"),
                reverse("catalogue:agreements"),
                waiting,
            )
        )
    if holds_role_permission(user, "prescriptions.register_agreement_rows"):
        items.append(StartItem(_("Register agreement rows"), reverse("catalogue:agreement_rows")))
    if holds_role_permission(user, "prescriptions.publish_assortment"):
        items.append(StartItem(_("Publish the assortment"), reverse("catalogue:assortment_manage")))
    if holds_role_permission(user, "prescriptions.assign_catalogue_roles"):
        items.append(StartItem(_("Catalogue roles"), reverse("catalogue:roles")))
    return items or None


def _staff_applications(user: Any) -> Sequence[StartItem] | None:
    """STAFF-1: how many applications wait for this manager or the account administration."""
    if not (
        holds_role_permission(user, CONFIRM_PERMISSION)
        or holds_role_permission(user, DECIDE_PERMISSION)
    ):
        return None
    return [
        StartItem(
            _("Applications waiting for you"),
            reverse("staff:queue"),
            staff_application_queue_count(user),
        )
    ]


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
        StartSection(
            "staff_applications", _("Applications for ordering rights"), 80, _staff_applications
        )
    )
    start_section_register(
        StartSection("catalogue_owners", _("The catalogue's owners"), 71, _catalogue_owners)
    )
    start_section_register(
        StartSection("phone-desk", _("Phone orders and withdrawals"), 35, _phone_desk)
    )

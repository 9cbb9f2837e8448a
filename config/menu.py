"""The main menu, from one table: each entry with the check its page's view makes, so that the
menu offers only pages the user can open (no "No access" behind a menu item).

The product's pages ask for a permission of the user's *role* (``holds_role_permission``,
``role_permission_required``), which a superuser does not hold for being one; only the patient
search asks Django's own permission. Asking ``perms.X`` in the template, as the menu did, offered
a superuser pages that then answered 403. ``tests/config/test_menu.py`` opens every entry as
every demo role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from protection.permissions import holds_role_permission


def role(*perms: str) -> Callable[[Any], bool]:
    """The view's check: the user's role holds every one of ``perms``."""
    return lambda user: all(holds_role_permission(user, perm) for perm in perms)


def django_perm(perm: str) -> Callable[[Any], bool]:
    """The check of a view decorated with Django's ``permission_required``."""
    return lambda user: bool(user.has_perm(perm))


def everyone(user: Any) -> bool:
    return True


@dataclass(frozen=True)
class MenuEntry:
    route: str
    label: str | Promise
    may_open: Callable[[Any], bool]


MENU: Final[tuple[MenuEntry, ...]] = (
    MenuEntry("patients:search", _("Find patient"), django_perm("patients.view_patient")),
    MenuEntry(
        "protection:hand_register",
        _("Register a patient by hand"),
        role("patients.register_by_hand"),
    ),
    MenuEntry(
        "prescriptions:mine",
        _("My prescriptions"),
        role("prescriptions.add_prescription", "prescriptions.view_prescription"),
    ),
    MenuEntry(
        "logistics:reservations",
        _("Reserved articles"),
        role("prescriptions.add_prescription", "logistics.view_reservation"),
    ),
    MenuEntry(
        "logistics:orders_mine",
        _("Orders"),
        # The store's staff follow orders through their queues instead.
        lambda user: (
            role("prescriptions.view_prescription")(user)
            and not role("logistics.work_orders")(user)
        ),
    ),
    MenuEntry(
        "logistics:replenishments", _("Replenishment"), role("logistics.order_replenishment")
    ),
    MenuEntry(
        "prescriptions:phone",
        _("Phone orders and withdrawals"),
        role("prescriptions.add_phone_order"),
    ),
    MenuEntry("catalogue:search", _("Catalogue"), role("prescriptions.search_catalogue")),
    # CAT-1: product and agreement search, a role of its own.
    MenuEntry(
        "catalogue:agreement_search",
        _("Product and agreement search"),
        role("prescriptions.search_catalogue"),
    ),
    MenuEntry(
        "catalogue:follow_up",
        _("Prescribing follow-up"),
        role("prescriptions.follow_up_assortment"),
    ),
    # CAT-1: the catalogue's owners.
    MenuEntry("catalogue:agreements", _("Agreements"), role("prescriptions.own_agreements")),
    MenuEntry(
        "catalogue:agreement_rows",
        _("Agreement rows"),
        role("prescriptions.register_agreement_rows"),
    ),
    MenuEntry(
        "catalogue:assortment_manage",
        _("Publish the assortment"),
        role("prescriptions.publish_assortment"),
    ),
    MenuEntry(
        "catalogue:roles", _("Catalogue roles"), role("prescriptions.assign_catalogue_roles")
    ),
    MenuEntry(
        "logistics:kpi_replacement_groups",
        _("Replacement groups"),
        role("prescriptions.follow_up_assortment"),
    ),
    MenuEntry("logistics:queues", _("Logistics"), role("logistics.work_orders")),
    MenuEntry("logistics:stores", _("Stock"), role("logistics.work_orders")),
    MenuEntry("logistics:device_search", _("Devices"), role("logistics.view_device")),
    MenuEntry("logistics:deviations", _("Deviations"), role("logistics.handle_deviation")),
    MenuEntry("logistics:kpi", _("Delivery reliability"), role("logistics.view_kpi")),
    MenuEntry("billing:run", _("Invoicing"), role("billing.run_billing")),
    MenuEntry("billing:invoices", _("Invoices"), role("billing.view_invoice")),
    MenuEntry("billing:outbox", _("Outbox"), role("billing.view_invoice")),
    MenuEntry("protection:requests", _("Access requests"), role("protection.change_grantrequest")),
    MenuEntry("protection:grants", _("Grants"), role("protection.view_grant")),
    MenuEntry("protection:review", _("Log review"), role("protection.view_grant")),
    MenuEntry(
        "protection:unit_protections",
        _("The unit's protections"),
        role("protection.view_localprotection"),
    ),
    MenuEntry("protection:holds", _("Held protections"), role("protection.view_protectionreview")),
    MenuEntry(
        "protection:documents",
        _("My documents"),
        # Open to every user; offered to those who make documents (patients, the store's papers).
        lambda user: (
            django_perm("patients.view_patient")(user) or role("logistics.work_orders")(user)
        ),
    ),
    # STAFF-1: the manager confirms, the account administration decides.
    MenuEntry(
        "staff:queue",
        _("Applications for ordering rights"),
        lambda user: (
            role("prescriptions.confirm_staffapplication")(user)
            or role("prescriptions.decide_staffapplication")(user)
        ),
    ),
    MenuEntry(
        "staff:competence",
        _("Prescribers' competence"),
        role("prescriptions.add_competencedecision"),
    ),
    MenuEntry("messages:list", _("Messages"), everyone),
    # STAFF-1: anyone with an account applies for ordering rights for themselves.
    MenuEntry("staff:apply", _("Apply for ordering rights"), everyone),
    MenuEntry("admin:index", _("Administration"), lambda user: bool(user.is_staff)),
    MenuEntry("password_change", _("Change password"), everyone),
)


@dataclass(frozen=True)
class MenuLink:
    url: str
    label: str | Promise
    current: bool


def menu_for_user(user: Any, path: str = "") -> list[MenuLink]:
    """The entries this user may open, in the table's order."""
    if not user.is_authenticated:
        return []
    links = []
    for entry in MENU:
        if entry.may_open(user):
            url = reverse(entry.route)
            links.append(MenuLink(url=url, label=entry.label, current=path == url))
    return links


def main_menu(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``main_menu`` for base.html, computed only when a template uses it."""
    user = getattr(request, "user", None)
    if user is None:
        return {"main_menu": []}
    return {"main_menu": lambda: menu_for_user(user, request.path)}

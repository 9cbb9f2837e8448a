"""What the logistics floor puts on the start page (``patients.startpage``): the store's
queues for its staff (the same counts as the logistics start page, in one query), the unit's
open orders for prescribers, the device register for those who search it (DEVICE-1), and the
message board with the published safety notices (DEVICE-5).

Counts and links only: no patient is named (ACCESS-1, PRINT-1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logistics.models import LossState
from logistics.selectors.adaptations import signing_requests_count
from logistics.selectors.orders import orders_open_count_for_user
from logistics.selectors.pickups import PickupQueue, loss_cases_list, pickup_queue_counts
from logistics.selectors.quality import deviations_to_handle_count
from logistics.selectors.queues import QUEUE_LIST_ROUTE, queue_counts
from logistics.selectors.recalls import notices_on_board, prescriber_notice_count
from logistics.selectors.workorders import (
    REPORT_FAULTS,
    WORK,
    returned_work_orders_for_user,
    work_order_counts,
)
from patients.startpage import StartItem, StartSection, start_section_register
from protection.permissions import holds_role_permission

WORK_ORDERS = "logistics.work_orders"


def _queues(user: Any) -> Sequence[StartItem] | None:
    if not holds_role_permission(user, WORK_ORDERS):
        return None
    items = [StartItem(_("The store's queues"), reverse("logistics:queues"))]
    for entry in queue_counts(day=timezone.localdate()):
        queue = entry.queue
        url = (
            reverse(QUEUE_LIST_ROUTE, args=[queue.slug])
            if queue.url_name == QUEUE_LIST_ROUTE
            else reverse(queue.url_name)
        )
        items.append(StartItem(queue.label, url, entry.count))
    return items


def _orders(user: Any) -> Sequence[StartItem] | None:
    # The store's staff follow orders through their queues, not the unit's list.
    if holds_role_permission(user, WORK_ORDERS) or not holds_role_permission(
        user, "prescriptions.view_prescription"
    ):
        return None
    return [
        StartItem(
            _("The unit's open orders"),
            reverse("logistics:orders_mine"),
            orders_open_count_for_user(user=user),
        )
    ]


def _pickups(user: Any) -> Sequence[StartItem] | None:
    """PRESC-9, DEVICE-4: the pickup queues and the open loss cases (counts: two queries)."""
    items: list[StartItem] = []
    if holds_role_permission(user, WORK_ORDERS):
        counts = pickup_queue_counts(day=timezone.localdate())
        for queue, label in (
            (PickupQueue.ON_ROUTE, _("Pickups on a route")),
            (PickupQueue.TO_PLAN, _("Pickups with no route yet")),
            (PickupQueue.OVERDUE, _("Pickups overdue")),
        ):
            url = f"{reverse('logistics:pickups')}?queue={queue.value}"
            items.append(StartItem(label, url, counts[queue]))
    if holds_role_permission(user, "logistics.view_losscase"):
        items.append(
            StartItem(
                _("Loss cases to decide"),
                f"{reverse('logistics:losses')}?state={LossState.REPORTED}",
                loss_cases_list(state=LossState.REPORTED).count(),
            )
        )
    return items or None


def _devices(user: Any) -> Sequence[StartItem] | None:
    if not holds_role_permission(user, "logistics.view_device"):
        return None
    return [StartItem(_("Search the device register"), reverse("logistics:device_search"))]


def _notices(user: Any) -> Sequence[StartItem] | None:
    """DEVICE-5: the message board's safety notices (in the panel), and for a prescriber how
    many devices of their patients are under them and not yet done (a count, no patient)."""
    if not holds_role_permission(user, "logistics.view_safetynotice"):
        return None
    items = [StartItem(_("Safety notices"), reverse("logistics:notice_board"))]
    if holds_role_permission(user, "prescriptions.add_prescription"):
        items.append(
            StartItem(
                _("My patients holding notice articles"),
                reverse("logistics:notice_patients"),
                prescriber_notice_count(user),
            )
        )
    if holds_role_permission(user, "logistics.manage_safetynotice"):
        items.append(StartItem(_("Safety notice campaigns"), reverse("logistics:notices")))
    return items


def _board(user: Any) -> dict[str, Any]:
    return {"notices": notices_on_board(with_articles=False)}


def _to_sign(user: Any) -> Sequence[StartItem] | None:
    """PRESC-6: the prescriber's special adaptations awaiting signature (one count query)."""
    if not holds_role_permission(user, "prescriptions.add_prescription"):
        return None
    return [
        StartItem(
            _("To sign"),
            reverse("logistics:adaptations_to_sign"),
            signing_requests_count(user=user),
        )
    ]


def _workshop(user: Any) -> Sequence[StartItem] | None:
    """Technicians land on their queue (issue 11): open work orders and the adaptations
    waiting for the prescriber's signature; customer service takes fault reports."""
    items = []
    if holds_role_permission(user, WORK):
        open_count, waiting = work_order_counts(user=user)
        items += [
            StartItem(_("The workshop's queue"), reverse("logistics:work_orders"), open_count),
            StartItem(
                _("Adaptations waiting for the prescriber's signature"),
                reverse("logistics:work_orders") + "#section-signature",
                waiting,
            ),
        ]
    if holds_role_permission(user, REPORT_FAULTS):
        items.append(StartItem(_("Fault report"), reverse("logistics:fault_report")))
    if holds_role_permission(user, "prescriptions.add_prescription"):
        items.append(StartItem(_("Register a work order"), reverse("logistics:work_order_new")))
    # The authors of work orders are prescribers and customer service: their returned ones.
    if not holds_role_permission(user, "prescriptions.view_prescription"):
        return items or None
    returned = returned_work_orders_for_user(user=user).count()
    if returned:
        items.append(
            StartItem(
                _("Work orders returned to you"),
                reverse("logistics:work_orders_returned"),
                returned,
            )
        )
    return items or None


def _quality(user: Any) -> Sequence[StartItem] | None:
    """QUAL-1, QUAL-2: everyone may report a deviation; quality staff see how many wait."""
    items = [StartItem(_("Report a deviation"), reverse("logistics:deviation_report"))]
    if holds_role_permission(user, "logistics.handle_deviation"):
        items.append(
            StartItem(
                _("Deviations to handle"),
                reverse("logistics:deviations"),
                deviations_to_handle_count(),
            )
        )
    if holds_role_permission(user, "logistics.view_incident"):
        items.append(StartItem(_("Open incidents"), reverse("logistics:incidents")))
    return items


def register() -> None:
    start_section_register(StartSection("logistics", _("Logistics"), 15, _queues))
    start_section_register(StartSection("orders", _("Orders"), 35, _orders))
    start_section_register(StartSection("adaptations", _("Special adaptations"), 36, _to_sign))
    start_section_register(StartSection("devices", _("Devices"), 50, _devices))
    start_section_register(
        StartSection(
            "notices",
            _("Message board"),
            5,
            _notices,
            template_name="logistics/recalls/_start_board.html",
            panel=_board,
        )
    )
    start_section_register(StartSection("workshop", _("Workshop"), 12, _workshop))
    start_section_register(StartSection("pickups", _("Pickups and losses"), 52, _pickups))
    start_section_register(StartSection("quality", _("Deviations"), 55, _quality))

"""PRESC-6 reads: the prescriber's signing requests ("Att signera"), one request for its
prescriber or a technician, a work order's requests, and a device's signed adaptations. The same
``DoesNotExist`` for missing and forbidden (house style 5)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from logistics.models import (
    AdaptationRecord,
    AdaptationSigningRequest,
    SigningState,
    WorkOrder,
    WorkOrderKind,
)
from protection.permissions import holds_role_permission

WORK_ON_WORK_ORDERS = "logistics.work_workorders"
# Everything a row shows in one query; the document itself stays unread.
_ROW_RELATED = ("work_order", "device", "device__article", "prescriber")


def signing_requests_to_sign(*, user: Any) -> QuerySet[AdaptationSigningRequest]:
    """The prescriber's requests awaiting signature, the most urgent first."""
    return (
        AdaptationSigningRequest.objects.filter(prescriber_id=user.pk, state=SigningState.SENT)
        .select_related(*_ROW_RELATED)
        .defer("document", "declined_reason")
        .order_by("valid_until", "pk")
    )


def signing_requests_count(*, user: Any) -> int:
    return AdaptationSigningRequest.objects.filter(
        prescriber_id=user.pk, state=SigningState.SENT
    ).count()


def signing_request_get_for_user(*, user: Any, request_id: int) -> AdaptationSigningRequest:
    """The request for its prescriber, or for a technician (who sent it or works the queue)."""
    requests = AdaptationSigningRequest.objects.select_related(*_ROW_RELATED)
    if not holds_role_permission(user, WORK_ON_WORK_ORDERS):
        requests = requests.filter(prescriber_id=user.pk)
    return requests.get(pk=request_id)


def adaptation_work_order_get(*, work_order_id: int) -> WorkOrder:
    """A special-adaptation work order, for a technician (the view checks the role)."""
    return WorkOrder.objects.select_related("device", "device__article", "prescriber").get(
        pk=work_order_id, kind=WorkOrderKind.SPECIAL_ADAPTATION
    )


def signing_requests_of_work_order(*, work_order_id: int) -> list[AdaptationSigningRequest]:
    return list(
        AdaptationSigningRequest.objects.filter(work_order_id=work_order_id)
        .select_related("prescriber", "sent_by")
        .defer("document")
        .order_by("-sent_at", "-pk")
    )


def adaptation_records_of_device(*, device_id: int) -> list[AdaptationRecord]:
    """The device card's signed adaptations, newest first (one query, documents unread)."""
    return list(
        AdaptationRecord.objects.filter(device_id=device_id)
        .select_related("work_order", "signed_by", "recorded_by")
        .defer("document")
        .order_by("-recorded_at", "-pk")
    )


def adaptation_record_get_for_user(*, user: Any, record_id: int) -> AdaptationRecord:
    """A signed adaptation for a technician or its signer."""
    records = AdaptationRecord.objects.select_related("work_order")
    if not holds_role_permission(user, WORK_ON_WORK_ORDERS):
        records = records.filter(signed_by_id=user.pk)
    return records.get(pk=record_id)

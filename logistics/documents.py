"""The papers that move goods, through the document pipeline: the pick list of a wave, the
label of a package and the delivery note of a package. All three are identity-free for a
protected patient (PRINT-1): the order number, the prescriber's unit and the prescriber, never
a name, identity number, birth year, the patient's address or that the order concerns
protected identity. The pick list names no patient at all; an ordinary patient's delivery note
carries the name and the delivery address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy

from logistics.barcodes import label_codes
from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    Package,
    PackageLine,
    PickItem,
    PickItemState,
    PickWave,
)
from logistics.selectors.destinations import DESTINATION_RELATED, destinations_for
from protection.documents import kinds
from protection.models import DocumentRoute

PICK_LIST_KIND = "logistics.pick_list"
PACKAGE_LABEL_KIND = "logistics.package_label"
DELIVERY_NOTE_KIND = "logistics.delivery_note"
PERMISSION = "logistics.work_orders"


def _identity_free(request: kinds.SnapshotRequest) -> bool:
    return any(subject.route == DocumentRoute.IDENTITY_FREE for subject in request.subjects)


def _person(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def pick_list_snapshot(request: kinds.SnapshotRequest) -> dict[str, Any]:
    wave = PickWave.objects.select_related("store", "area").get(pk=request.params["wave_id"])
    # Only the columns printed (a wave has thousands of lines: a model instance of each line,
    # article, order, unit, prescriber and device cost more than the rest of the request).
    rows = list(
        PickItem.objects.filter(wave=wave)
        .order_by("line__article__article_number", "line__order__number", "line__position")
        .values_list(
            "line__order__number",
            "line__position",
            "line__article__article_number",
            "line__article__name",
            "line__quantity",
            "line__article__serial_numbered",
            "line__device__serial_number",
            "line__order__unit__unit__name",
            "line__order__orderer_id",
            "state",
            "line__order__orderer__first_name",
            "line__order__orderer__last_name",
            "line__order__orderer__username",
        )
    )
    user_model = get_user_model()
    prescribers: dict[int, str] = {}
    for row in rows:
        if row[8] not in prescribers:
            orderer = user_model(pk=row[8], first_name=row[10], last_name=row[11], username=row[12])
            prescribers[row[8]] = _person(orderer)
    states = dict(PickItemState.choices)
    return {
        "wave": {
            "number": wave.number,
            "store": wave.store.name,
            "day": wave.delivery_on.isoformat(),
            "route": wave.area.name,
        },
        "items": [
            {
                "order": order,
                "line": position,
                "article": f"{article_number} {article_name}",
                "quantity": quantity,
                "serial": serial_numbered,
                "device": device_serial or "",
                "unit": unit_name,
                "prescriber": prescribers[orderer_id],
                "state": str(states.get(state, state)),
            }
            for (
                order,
                position,
                article_number,
                article_name,
                quantity,
                serial_numbered,
                device_serial,
                unit_name,
                orderer_id,
                state,
                *_name,
            ) in rows
        ],
    }


def _package(request: kinds.SnapshotRequest) -> tuple[Package, CustomerOrder, list[Any]]:
    package = Package.objects.select_related("area").get(pk=request.params["package_id"])
    order = CustomerOrder.objects.select_related(*DESTINATION_RELATED).get(pk=package.order_id)
    if [s.patient_id for s in request.subjects] != ([order.patient_id] if order.patient_id else []):
        raise ValueError("the job's patient is not the order's")
    lines = list(
        CustomerOrderLine.objects.filter(
            pk__in=PackageLine.objects.filter(package=package).values("line_id")
        )
        .select_related("article", "device")
        .order_by("position")
    )
    return package, order, lines


def _destination(request: kinds.SnapshotRequest, order: CustomerOrder) -> dict[str, Any]:
    """Where it goes: on the identity-free route always the unit with the prescriber (also
    should the order not have been re-routed yet)."""
    if _identity_free(request):
        order.patient_protected = True
    destination = destinations_for([order])[order.pk]
    return {
        "label": destination.label,
        "lines": destination.lines,
        "contact": destination.contact,
        "notes": destination.notes,
    }


def _common(request: kinds.SnapshotRequest) -> tuple[dict[str, Any], list[Any]]:
    package, order, lines = _package(request)
    return {
        "package": {
            "number": package.number,
            "day": package.delivery_on.isoformat(),
            "route": package.area.name,
        },
        "order": {
            "number": order.number,
            "unit": order.unit.unit.name,
            "prescriber": _person(order.orderer),
        },
        "destination": _destination(request, order),
        "lines": [
            {
                "line": line.position,
                "article": f"{line.article.article_number} {line.article.name}",
                "quantity": line.quantity,
                "device": line.device.serial_number if line.device else "",
            }
            for line in lines
        ],
    }, lines


def package_label_snapshot(request: kinds.SnapshotRequest) -> dict[str, Any]:
    snapshot, lines = _common(request)
    devices = [
        (line.device.gtin or line.article.gtin, line.device.serial_number)
        for line in lines
        if line.device is not None
    ]
    snapshot["codes"] = label_codes(snapshot["order"]["number"], devices)
    return snapshot


def delivery_note_snapshot(request: kinds.SnapshotRequest) -> dict[str, Any]:
    snapshot, _lines = _common(request)
    snapshot["receiver"] = ""
    subject = request.subjects[0] if request.subjects else None
    if subject is not None and subject.patient is not None and not _identity_free(request):
        # The ordinary route: the requester may see the patient; the note names them.
        identity = subject.patient.identity
        snapshot["receiver"] = f"{identity.given_names} {identity.surname}".strip()
    return snapshot


PICK_LIST = kinds.DocumentKind(
    code=PICK_LIST_KIND,
    label=gettext_lazy("Pick list"),
    template="logistics/documents/pick_list.html",
    build_snapshot=pick_list_snapshot,
    subject=kinds.Subject.ORDER,
    permission=PERMISSION,
    protected_form=kinds.ProtectedForm.IDENTITY_FREE,
)
PACKAGE_LABEL = kinds.DocumentKind(
    code=PACKAGE_LABEL_KIND,
    label=gettext_lazy("Package label"),
    template="logistics/documents/package_label.html",
    build_snapshot=package_label_snapshot,
    subject=kinds.Subject.ORDER,
    permission=PERMISSION,
    protected_form=kinds.ProtectedForm.IDENTITY_FREE,
)
DELIVERY_NOTE = kinds.DocumentKind(
    code=DELIVERY_NOTE_KIND,
    label=gettext_lazy("Delivery note"),
    template="logistics/documents/delivery_note.html",
    build_snapshot=delivery_note_snapshot,
    subject=kinds.Subject.ORDER,
    permission=PERMISSION,
    protected_form=kinds.ProtectedForm.IDENTITY_FREE,
)

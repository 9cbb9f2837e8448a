"""The store's pages for picking and delivery (permission ``logistics.work_orders``): waves to
pick, a wave's pick page with the scan field, to pack, the day's routes and dispatch,
deliveries to confirm and failed deliveries, and the buttons for the papers. Keyboard-first:
each scan field is the first field of its own form, so a scanner's Enter submits it."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from logistics.documents import DELIVERY_NOTE_KIND, PACKAGE_LABEL_KIND
from logistics.models import (
    FailureReason,
    LineState,
    LocationKind,
    Package,
    PackageState,
    PickItem,
    PickItemState,
    PickWave,
    StockLocation,
    WaveState,
)
from logistics.selectors.destinations import DESTINATION_RELATED, destinations_read, order_by_scan
from logistics.services.delivery import (
    package_deliver,
    package_dispatch,
    package_fail,
    package_pack,
    route_dispatch,
)
from logistics.services.errors import LogisticsError
from logistics.services.papers import package_paper_request, pick_list_request
from logistics.services.picking import item_pick, item_short, waves_create
from protection.documents.services import DocumentError
from protection.gate import AccessContext
from protection.permissions import role_permission_required

WORK = "logistics.work_orders"
View = Callable[..., HttpResponse]


def _work(view: View) -> View:
    return login_required(role_permission_required(WORK)(view))


def _day(text: str | None) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text or "")
    except ValueError:
        return timezone.localdate()


def _acted(request: HttpRequest, action: Callable[[], object], success: str) -> bool:
    try:
        action()
    except (LogisticsError, DocumentError) as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, success)
    return True


@_work
@require_GET
def waves(request: HttpRequest) -> HttpResponse:
    stores = list(StockLocation.objects.filter(active=True, kind=LocationKind.CENTRAL))
    open_waves = list(
        PickWave.objects.filter(state=WaveState.OPEN).select_related("store", "area")[:200]
    )
    return render(
        request,
        "logistics/picking/waves.html",
        {"stores": stores, "waves": open_waves, "day": timezone.localdate().isoformat()},
    )


@_work
@require_POST
def wave_create(request: HttpRequest) -> HttpResponse:
    store = StockLocation.objects.filter(pk=request.POST.get("store") or 0, active=True).first()
    if store is None:
        messages.error(request, _("Store: choose the store to pick from."))
        return redirect("logistics:waves")
    plan = waves_create(
        store_id=store.pk, delivery_on=_day(request.POST.get("day")), by=request.user
    )
    messages.success(request, _("%(count)s waves created.") % {"count": len(plan.waves)})
    for unrouted in plan.unrouted:
        messages.warning(
            request,
            _("Order %(number)s: %(reason)s")
            % {"number": unrouted.order_number, "reason": unrouted.reason},
        )
    return redirect("logistics:waves")


def _wave_or_404(wave_id: int) -> PickWave:
    wave = PickWave.objects.select_related("store", "area").filter(pk=wave_id).first()
    if wave is None:
        raise Http404
    return wave


@_work
@require_GET
def wave(request: HttpRequest, wave_id: int) -> HttpResponse:
    found = _wave_or_404(wave_id)
    items = list(
        PickItem.objects.filter(wave=found)
        .select_related("line__article", "line__order", "line__device")
        .order_by("state", "line__article__article_number", "line__order__number")
    )
    first_open = next((i.pk for i in items if i.state == PickItemState.TO_PICK), None)
    return render(
        request,
        "logistics/picking/wave.html",
        {"wave": found, "items": items, "first_open": first_open, "TO_PICK": PickItemState.TO_PICK},
    )


@_work
@require_POST
def pick(request: HttpRequest, wave_id: int, item_id: int) -> HttpResponse:
    found = _wave_or_404(wave_id)
    if request.POST.get("short"):
        _acted(
            request,
            lambda: item_short(wave_id=found.pk, item_id=item_id, by=request.user),
            _("Picked short: the line waits for stock."),
        )
    else:
        _acted(
            request,
            lambda: item_pick(
                wave_id=found.pk,
                item_id=item_id,
                by=request.user,
                serial=request.POST.get("serial", ""),
            ),
            _("Picked."),
        )
    return redirect("logistics:wave", wave_id=found.pk)


@_work
@require_POST
def pick_list(request: HttpRequest, wave_id: int) -> HttpResponse:
    found = _wave_or_404(wave_id)
    _acted(
        request,
        lambda: pick_list_request(ctx=AccessContext.from_request(request), wave=found),
        _("The pick list is being made: find it in My documents."),
    )
    return redirect("logistics:wave", wave_id=found.pk)


@_work
@require_GET
def to_pack(request: HttpRequest) -> HttpResponse:
    picked = list(
        PickItem.objects.filter(state=PickItemState.PICKED, line__state=LineState.PICKED)
        .select_related("line__order", "line__article")
        .order_by("line__order__number", "line__position")[:500]
    )
    packages = list(
        Package.objects.filter(state=PackageState.PACKED)
        .select_related("order", "area")
        .order_by("-pk")[:50]
    )
    return render(request, "logistics/picking/pack.html", {"picked": picked, "packages": packages})


@_work
@require_POST
def pack(request: HttpRequest) -> HttpResponse:
    order = order_by_scan(request.POST.get("scan", ""))
    if order is None:
        messages.error(request, _("Order number: no order has that number. Scan the label again."))
        return redirect("logistics:to_pack")
    _acted(
        request,
        lambda: package_pack(order_id=order.pk, by=request.user),
        _("Order %(number)s packed.") % {"number": order.number},
    )
    return redirect("logistics:to_pack")


def _package_or_404(package_id: int) -> Package:
    package = Package.objects.select_related("order").filter(pk=package_id).first()
    if package is None:
        raise Http404
    return package


@_work
@require_POST
def package_paper(request: HttpRequest, package_id: int, paper: str) -> HttpResponse:
    package = _package_or_404(package_id)
    kind = {"label": PACKAGE_LABEL_KIND, "note": DELIVERY_NOTE_KIND}.get(paper)
    if kind is None:
        raise Http404
    _acted(
        request,
        lambda: package_paper_request(
            ctx=AccessContext.from_request(request), package=package, kind=kind
        ),
        _("The paper is being made: find it in My documents."),
    )
    return redirect(request.POST.get("back") or reverse("logistics:to_pack"))


def _stops(request: HttpRequest, packages: list[Package]) -> list[dict[str, Any]]:
    """Each package with its destination as logistics may see it (a protected patient's order:
    the prescriber's unit and the prescriber only); each patient address shown is logged."""
    orders = [package.order for package in packages]
    destinations = destinations_read(ctx=AccessContext.from_request(request), orders=orders)
    return [
        {"package": package, "destination": destinations[package.order_id]} for package in packages
    ]


@_work
@require_GET
def routes(request: HttpRequest) -> HttpResponse:
    day = _day(request.GET.get("day"))
    packages = list(
        Package.objects.filter(
            delivery_on=day, state__in=(PackageState.PACKED, PackageState.FAILED)
        )
        .select_related(
            "area", *(f"order__{name}" for name in DESTINATION_RELATED), "order__orderer"
        )
        .order_by("area__name", "order__number")
    )
    by_area: dict[int, dict[str, Any]] = {}
    for stop in _stops(request, packages):
        area = stop["package"].area
        by_area.setdefault(area.pk, {"area": area, "stops": []})["stops"].append(stop)
    return render(
        request,
        "logistics/picking/routes.html",
        {"day": day, "routes": list(by_area.values())},
    )


@_work
@require_POST
def dispatch(request: HttpRequest) -> HttpResponse:
    day = _day(request.POST.get("day"))
    if request.POST.get("scan"):
        order = order_by_scan(request.POST["scan"])
        package = (
            Package.objects.filter(
                order=order, state__in=(PackageState.PACKED, PackageState.FAILED)
            ).first()
            if order is not None
            else None
        )
        if package is None:
            messages.error(request, _("Order number: no package of that order waits to go out."))
        else:
            _acted(
                request,
                lambda: package_dispatch(package_id=package.pk, by=request.user),
                _("Package %(package)s is out for delivery.") % {"package": package.number},
            )
    else:
        area_id = int(request.POST.get("area") or 0)
        sent = route_dispatch(area_id=area_id, day=day, by=request.user)
        messages.success(request, _("%(count)s packages out for delivery.") % {"count": len(sent)})
    return redirect(f"{reverse('logistics:routes')}?day={day.isoformat()}")


@_work
@require_GET
def deliveries(request: HttpRequest) -> HttpResponse:
    packages = list(
        Package.objects.filter(state=PackageState.DISPATCHED)
        .select_related(
            "area", *(f"order__{name}" for name in DESTINATION_RELATED), "order__orderer"
        )
        .order_by("delivery_on", "area__name", "order__number")[:300]
    )
    return render(
        request,
        "logistics/picking/deliveries.html",
        {"stops": _stops(request, packages), "reasons": FailureReason.choices},
    )


@_work
@require_POST
def deliver(request: HttpRequest, package_id: int) -> HttpResponse:
    package = _package_or_404(package_id)
    if request.POST.get("failed"):
        _acted(
            request,
            lambda: package_fail(
                package_id=package.pk,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
                by=request.user,
            ),
            _("Recorded as failed; a new attempt is planned."),
        )
    else:
        _acted(
            request,
            lambda: package_deliver(
                package_id=package.pk,
                received_by=request.POST.get("received_by", ""),
                by=request.user,
            ),
            _("Delivery of order %(number)s confirmed.") % {"number": package.order.number},
        )
    return redirect("logistics:deliveries")


@_work
@require_GET
def failed(request: HttpRequest) -> HttpResponse:
    packages = list(
        Package.objects.filter(state=PackageState.FAILED)
        .select_related("order", "area")
        .prefetch_related("attempts")
        .order_by("delivery_on", "order__number")[:300]
    )
    return render(request, "logistics/picking/failed.html", {"packages": packages})

"""Pickup pages (PRESC-9): ordering a pickup of a patient's devices (the prescriber, or customer
service for a call, from the patient page), and the staff's queue and pickup page with the
driver's collect and missing actions.

The order page reaches the patient through the gate by the internal reference (a protected
patient the user may not open is the same 404 as none). The staff's pages name no patient: a
protected patient's pickup says so on screen, with the unit and the prescriber to contact.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from logistics.models import PickupChannel, PickupLineState, PickupOrder, PickupState
from logistics.selectors.devices import devices_held_by_patient
from logistics.selectors.pickups import (
    PickupQueue,
    pickup_get_for_user,
    pickup_lines_open_for_patient,
    pickup_queue,
    pickup_queue_counts,
)
from logistics.services.errors import LogisticsError
from logistics.services.pickups import (
    pickup_line_collect,
    pickup_line_missing,
    pickup_order_create,
)
from patients.models import Patient
from protection.gate import AccessContext, Decision, patient_get_for_user
from protection.permissions import holds_role_permission, role_permission_required
from protection.refusals import StepUpRequired, not_found, refusals_answered

ORDER_PICKUP = "logistics.order_pickup"
WORK = "logistics.work_orders"
PRESCRIBE = "prescriptions.add_prescription"


def _back_to_form(request: HttpRequest, reference: str) -> str:
    return reverse("logistics:pickup_new", args=[reference])


class PickupForm(forms.Form):
    devices = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Devices to pick up"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one device to pick up.")},
    )


@never_cache
@login_required
@role_permission_required(ORDER_PICKUP)
@refusals_answered(next_url=_back_to_form)
def pickup_new_view(request: HttpRequest, reference: str) -> HttpResponse:
    """Order a pickup of devices the patient holds on loan (PRESC-9)."""
    ctx = AccessContext.from_request(request)
    try:
        answer = patient_get_for_user(ctx, reference)
    except Patient.DoesNotExist:
        raise not_found() from None
    if answer.decision is Decision.STEP_UP:
        raise StepUpRequired()
    if answer.decision is not Decision.FULL or answer.card.masked:
        raise not_found()
    patient = answer.patient
    waiting = pickup_lines_open_for_patient(patient.pk)
    held = [
        device
        for device in devices_held_by_patient(patient.pk)
        if device.on_loan and device.device_id not in waiting
    ]
    form = PickupForm(request.POST if request.method == "POST" else None)
    form.fields["devices"].choices = [  # type: ignore[attr-defined]
        (device.device_id, f"{device.article_number} {device.article_name}, {device.serial_number}")
        for device in held
    ]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            channel = (
                PickupChannel.PRESCRIBER
                if holds_role_permission(request.user, PRESCRIBE)
                else PickupChannel.CUSTOMER_SERVICE
            )
            try:
                order = pickup_order_create(
                    patient_id=patient.pk,
                    device_ids=form.cleaned_data["devices"],
                    channel=channel,
                    by=request.user,
                )
            except LogisticsError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _(
                        "Pickup order %(number)s is registered: collected by %(due)s; the rent "
                        "stops on %(stops)s."
                    )
                    % {
                        "number": order.number,
                        "due": order.due_on.isoformat(),
                        "stops": order.lines.first().rent_stops_on.isoformat(),  # type: ignore[union-attr]
                    },
                )
                return redirect("patients:detail", reference=reference)
        status = 400
    return render(
        request,
        "logistics/pickups/new.html",
        {
            "form": form,
            "card": answer.card,
            "reference": reference,
            "held": held,
            "waiting": list(waiting.values()),
        },
        status=status,
    )


@never_cache
@login_required
@role_permission_required(WORK)
@require_GET
def pickups_view(request: HttpRequest) -> HttpResponse:
    """The staff's pickup queue: no route yet, on a route, overdue (7 working days)."""
    try:
        queue = PickupQueue(request.GET.get("queue", PickupQueue.ON_ROUTE.value))
    except ValueError:
        queue = PickupQueue.ON_ROUTE
    day = timezone.localdate()
    counts = pickup_queue_counts(day=day)
    return render(
        request,
        "logistics/pickups/list.html",
        {
            "queue": queue,
            "tabs": [
                (
                    tab,
                    {
                        PickupQueue.TO_PLAN: _("No route yet"),
                        PickupQueue.ON_ROUTE: _("On a route"),
                        PickupQueue.OVERDUE: _("Overdue"),
                    }[tab],
                    counts[tab],
                )
                for tab in PickupQueue
            ],
            "orders": pickup_queue(queue=queue, day=day),
            "today": day,
        },
    )


@never_cache
@login_required
@role_permission_required(WORK)
@require_GET
def pickup_view(request: HttpRequest, pickup_id: int) -> HttpResponse:
    try:
        page = pickup_get_for_user(ctx=AccessContext.from_request(request), pickup_id=pickup_id)
    except PickupOrder.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "logistics/pickups/detail.html",
        {
            "page": page,
            "order": page.order,
            "open": page.order.state == PickupState.PLANNED,
            "TO_COLLECT": PickupLineState.TO_COLLECT,
            "overdue": page.order.state == PickupState.PLANNED
            and page.order.due_on < timezone.localdate(),
        },
    )


def _line_action(
    request: HttpRequest, pickup_id: int, line_id: int, *, missing: bool
) -> HttpResponse:
    if not PickupOrder.objects.filter(pk=pickup_id, lines__pk=line_id).exists():
        raise Http404
    try:
        if missing:
            line = pickup_line_missing(line_id=line_id, by=request.user)
        else:
            line = pickup_line_collect(line_id=line_id, by=request.user)
    except LogisticsError as error:
        messages.error(request, str(error))
    else:
        serial = line.device.serial_number
        messages.success(
            request,
            _("Device %(serial)s is missing: the rent restarts and a loss case is opened.")
            % {"serial": serial}
            if missing
            else _("Device %(serial)s is collected and goes to reconditioning.")
            % {"serial": serial},
        )
    return redirect("logistics:pickup", pickup_id=pickup_id)


@login_required
@role_permission_required(WORK)
@require_POST
def pickup_collect_view(request: HttpRequest, pickup_id: int, line_id: int) -> HttpResponse:
    return _line_action(request, pickup_id, line_id, missing=False)


@login_required
@role_permission_required(WORK)
@require_POST
def pickup_missing_view(request: HttpRequest, pickup_id: int, line_id: int) -> HttpResponse:
    return _line_action(request, pickup_id, line_id, missing=True)

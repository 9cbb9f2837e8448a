"""The device register's pages (DEVICE-1): the search and the device card (*individkort*), and
the section of the patient page that lists the devices a patient holds.

Reaching them takes the role permission ``logistics.view_device`` (logistics staff, technicians,
customer service). The card names a patient holder only as the gate shows them to the user
(``logistics.selectors.devices``); the search names no patient at all.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from logistics.models import Device, DeviceStatus, Incident
from logistics.selectors.devices import (
    DeviceCard,
    HolderShown,
    device_card_for_user,
    device_search,
    devices_held_by_patient,
    devices_of_patient,
)
from logistics.selectors.pickups import pickup_lines_open_for_patient
from logistics.services.losses import REPORTABLE
from logistics.views.losses import ReconditioningForm
from patients.models import Patient
from protection.gate import AccessContext
from protection.permissions import (
    holds_role_permission,
    permissions_read_once,
    role_permission_required,
)
from protection.refusals import step_up_url
from protection.registry import PatientPageSection, PatientPageSectionProvider

VIEW_DEVICE = "logistics.view_device"
REPORT_FAULTS = "logistics.report_faults"
SEARCH_CATALOGUE = "prescriptions.search_catalogue"
ORDER_PICKUP = "logistics.order_pickup"
WORK_ORDERS = "logistics.work_orders"
CHANGE_LOSSCASE = "logistics.change_losscase"


class DeviceSearchForm(forms.Form):
    serial = forms.CharField(
        label=gettext_lazy("Serial number"),
        help_text=gettext_lazy("Scan or type the serial number, or its beginning."),
        max_length=64,
        required=False,
    )
    article = forms.CharField(label=gettext_lazy("Article number"), max_length=32, required=False)
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


@never_cache
@login_required
@role_permission_required(VIEW_DEVICE)
@require_GET
def device_search_view(request: HttpRequest) -> HttpResponse:
    form = DeviceSearchForm(request.GET or None)
    result = None
    query: dict[str, str] = {}
    if form.is_bound and form.is_valid():
        serial = form.cleaned_data["serial"] or ""
        article_number = form.cleaned_data["article"] or ""
        query = {"serial": serial, "article": article_number}
        if serial or article_number:
            result = device_search(
                serial=serial, article_number=article_number, page=form.cleaned_data["page"] or 1
            )
            # A scanner types the whole number: one device with exactly that number opens.
            if (
                serial
                and result.page == 1
                and len(result.rows) == 1
                and result.rows[0].serial_number == serial.strip()
            ):
                return redirect("logistics:device", device_id=result.rows[0].pk)
    return render(
        request,
        "logistics/devices/search.html",
        {
            "form": form,
            "result": result,
            "query": query,
        },
    )


@never_cache
@login_required
# The role checks below and the menu's from one read of the user's permissions.
@permissions_read_once
@role_permission_required(VIEW_DEVICE)
@require_GET
def device_detail_view(request: HttpRequest, device_id: int) -> HttpResponse:
    try:
        card: DeviceCard = device_card_for_user(
            ctx=AccessContext.from_request(request), device_id=device_id
        )
    except Device.DoesNotExist:
        raise Http404 from None
    shows_patient = card.holder.shown is HolderShown.PATIENT
    return render(
        request,
        "logistics/devices/detail.html",
        {
            "card": card,
            "device": card.device,
            "holder": card.holder,
            "Shown": {shown.name: shown for shown in HolderShown},
            "shows_patient": shows_patient,
            "protected": card.holder.card is not None and card.holder.card.protected,
            "may_open_patient": shows_patient
            and holds_role_permission(request.user, "patients.view_patient"),
            "links_article": holds_role_permission(request.user, SEARCH_CATALOGUE),
            # PRESC-6: technicians open the signed documents (never for a guarded patient).
            "may_read_adaptations": holds_role_permission(
                request.user, "logistics.work_workorders"
            ),
            "links_fault_report": holds_role_permission(request.user, REPORT_FAULTS),
            "step_up_url": step_up_url(request.get_full_path()),
            # Issue 11: its work orders open to technicians and customer service (a prescriber
            # opens those they registered or are the contact of, as the work order page says).
            "links_work_orders": holds_role_permission(request.user, "logistics.work_workorders")
            or holds_role_permission(request.user, REPORT_FAULTS),
            "reconditioning_form": ReconditioningForm()
            if card.device.status == DeviceStatus.IN_WORKSHOP
            and holds_role_permission(request.user, WORK_ORDERS)
            else None,
            "may_report_lost": card.device.status in REPORTABLE
            and holds_role_permission(request.user, CHANGE_LOSSCASE),
            # QUAL-2: the open incident holding the device, or the way to raise one.
            "open_incident": (
                Incident(pk=card.device.open_incident_id)  # type: ignore[attr-defined]
                if card.device.open_incident_id  # type: ignore[attr-defined]
                else None
            ),
            "may_raise_incident": holds_role_permission(request.user, "logistics.add_incident"),
            "links_incident": holds_role_permission(request.user, "logistics.view_incident"),
        },
    )


def patient_devices_section(
    ctx: AccessContext, patient: Patient, has_rows: bool
) -> PatientPageSection:
    """The patient page's "Devices held by the patient" (registered in ``logistics.hooks``; the
    patient page shows it only on the full card), with the devices on a pickup order and the
    way to order one (PRESC-9), and each device's open work orders and the safety notices naming
    it (issue 11). Two queries whatever the number of devices, none for a patient who holds
    none (``has_rows``: only a held device's pickup line is shown), and one for the user's
    permissions when not already read."""
    held = devices_held_by_patient(patient.pk) if has_rows else []
    waiting = pickup_lines_open_for_patient(patient.pk) if held else {}
    return PatientPageSection(
        key="logistics-devices",
        title=gettext_lazy("Devices held by the patient"),
        template_name="logistics/devices/_patient_section.html",
        context={
            "held": held,
            "links_device": holds_role_permission(ctx.user, VIEW_DEVICE),
            # PRESC-10: customer service takes a fault report on a device from here, having
            # found the patient through the gate.
            "links_fault_report": holds_role_permission(ctx.user, REPORT_FAULTS),
            "links_work_order": holds_role_permission(ctx.user, "prescriptions.add_prescription"),
            # A work order's page opens to technicians and customer service, and to the
            # prescriber who registered it or is its contact.
            "opens_work_orders": holds_role_permission(ctx.user, "logistics.work_workorders")
            or holds_role_permission(ctx.user, REPORT_FAULTS),
            "user_id": ctx.user.pk,
            # PRESC-9: each device with its pickup order waiting, and the way to order one.
            "rows": [(device, waiting.get(device.device_id)) for device in held],
            "may_order_pickup": holds_role_permission(ctx.user, ORDER_PICKUP),
            "reference": patient.reference,
        },
    )


DEVICES_SECTION = PatientPageSectionProvider(
    section=patient_devices_section, rows=devices_of_patient
)

"""Medical-device incidents (QUAL-2): raised from a device's card (technicians, customer
service), handled by customer service: the report to the manufacturer and Läkemedelsverket,
when it was sent to each, and the closing that releases the device.

An incident's pages and its report are about the device: article, manufacturer, serial number,
what happened and when. They name no patient (LEAK-4: the report goes outside the region).
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from logistics.models import Device, Incident, IncidentRecipient, IncidentState
from logistics.selectors.quality import incident_get, incident_open_for_device, incidents_open
from logistics.services.errors import LogisticsError
from logistics.services.quality import (
    QualityFieldError,
    incident_close,
    incident_raise,
    incident_report_sent,
)
from logistics.views.deviations import CloseForm, field_error
from protection.permissions import holds_role_permission, role_permission_required

RAISE = "logistics.add_incident"
VIEW = "logistics.view_incident"
HANDLE = "logistics.change_incident"


class IncidentForm(forms.Form):
    occurred_on = forms.DateField(
        label=gettext_lazy("Date of the event"), widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(
        label=gettext_lazy("What happened"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=4000,
        help_text=gettext_lazy(
            "What happened with the device, and its consequences. Write no personnummer, name "
            "or address: the report goes to the manufacturer and Läkemedelsverket."
        ),
    )
    work_order_number = forms.CharField(
        label=gettext_lazy("Work order number"),
        max_length=12,
        required=False,
        help_text=gettext_lazy("When raised from a work order of the device, A- and 8 characters."),
    )


@never_cache
@login_required
@role_permission_required(RAISE)
@require_http_methods(["GET", "POST"])
def incident_raise_view(request: HttpRequest, device_id: int) -> HttpResponse:
    """QUAL-2 from the device's card, or from a work order of the device (its page links here
    with ``?work_order=<number>``): the device is kept as evidence from now on."""
    device = Device.objects.select_related("article").filter(pk=device_id).first()
    if device is None:
        raise Http404
    open_incident = incident_open_for_device(device_id)
    if open_incident is not None:
        messages.info(
            request,
            _("Device %(serial)s already has an open incident, %(number)s.")
            % {"serial": device.serial_number, "number": open_incident.number},
        )
        return redirect("logistics:incident", incident_id=open_incident.pk)
    form = IncidentForm(
        request.POST or None,
        initial={
            "occurred_on": timezone.localdate(),
            "work_order_number": request.GET.get("work_order", "")[:12],
        },
    )
    if request.method == "POST" and form.is_valid():
        day: datetime.date = form.cleaned_data["occurred_on"]
        try:
            incident = incident_raise(
                by=request.user,
                device_id=device_id,
                occurred_on=day,
                description=form.cleaned_data["description"],
                work_order_number=form.cleaned_data["work_order_number"],
            )
        except QualityFieldError as error:
            field_error(form, error)
        except LogisticsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Incident %(number)s is raised: device %(serial)s is kept as evidence.")
                % {"number": incident.number, "serial": device.serial_number},
            )
            return redirect("logistics:incident", incident_id=incident.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "logistics/quality/incident_raise.html",
        {"form": form, "device": device},
        status=status,
    )


@never_cache
@login_required
@role_permission_required(VIEW)
@require_GET
def incidents_view(request: HttpRequest) -> HttpResponse:
    return render(request, "logistics/quality/incidents.html", {"incidents": incidents_open()})


@never_cache
@login_required
@role_permission_required(VIEW)
@require_http_methods(["GET", "POST"])
def incident_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    """One incident: the device, what happened, the report's sending and the closing."""
    try:
        page = incident_get(incident_id=incident_id)
    except Incident.DoesNotExist:
        raise Http404 from None
    may_handle = holds_role_permission(request.user, HANDLE)
    action = request.POST.get("action", "")
    close_form = CloseForm(request.POST if action == "close" else None)
    if request.method == "POST":
        if not may_handle:
            raise PermissionDenied
        try:
            if action in IncidentRecipient.values:
                incident_report_sent(by=request.user, incident_id=incident_id, recipient=action)
            elif action == "close":
                if close_form.is_valid():
                    incident_close(
                        by=request.user,
                        incident_id=incident_id,
                        conclusion=close_form.cleaned_data["conclusion"],
                    )
            else:
                raise Http404
        except QualityFieldError as error:
            field_error(close_form, error)
        except LogisticsError as error:
            messages.error(request, str(error))
            return redirect("logistics:incident", incident_id=incident_id)
        if not close_form.errors:
            messages.success(
                request,
                _("Incident %(number)s is updated.") % {"number": page.incident.number},
            )
            return redirect("logistics:incident", incident_id=incident_id)
    status = 400 if close_form.errors else 200
    return render(
        request,
        "logistics/quality/incident.html",
        {
            "page": page,
            "incident": page.incident,
            "device": page.incident.device,
            "is_open": page.incident.state == IncidentState.OPEN,
            "may_handle": may_handle,
            "close_form": close_form,
            "Recipients": IncidentRecipient,
        },
        status=status,
    )


@never_cache
@login_required
@role_permission_required(VIEW)
@require_GET
def incident_report_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The report to the manufacturer and Läkemedelsverket, to print or save: the device and
    what happened, the region as the reporter, no patient (LEAK-4)."""
    try:
        page = incident_get(incident_id=incident_id)
    except Incident.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "logistics/quality/incident_report.html",
        {"incident": page.incident, "device": page.incident.device},
    )

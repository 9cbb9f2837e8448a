"""Work order pages (issue 11): the technician's queue, a work order's page where the technician
starts, records time and parts, finishes or returns it to its author, the author's returned
orders, and customer service's fault report (*felanmälan*, PRESC-10).

PRINT-1: there is no printable work order; a page about a protected patient's order carries the
print notice and the print style sheet that blanks it. LEAK-5: every message names the work
order by number only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from logistics.models import Device, DeviceStatus, WorkOrder, WorkOrderKind, WorkOrderSource
from logistics.models import WorkOrderState as S
from logistics.selectors.workorders import (
    REPORT_FAULTS,
    WORK,
    PatientShown,
    WorkOrderPage,
    returned_work_orders_for_user,
    technician_queue,
    work_order_get_for_user,
)
from logistics.services.errors import LogisticsError
from logistics.services.workorders import (
    work_order_assign,
    work_order_create,
    work_order_finish,
    work_order_part_use,
    work_order_reject,
    work_order_resubmit,
    work_order_start,
    work_order_time_record,
)
from prescriptions.models import Article
from protection.gate import AccessContext
from protection.permissions import holds_role_permission, role_permission_required
from protection.refusals import patient_answer, refusals_answered, step_up_url

PRESCRIBE = "prescriptions.add_prescription"


class TimeForm(forms.Form):
    minutes = forms.IntegerField(
        label=gettext_lazy("Time spent (minutes)"), min_value=1, max_value=24 * 60
    )


class PartForm(forms.Form):
    article_number = forms.CharField(label=gettext_lazy("Part's article number"), max_length=32)
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, initial=1)


class FinishForm(forms.Form):
    result = forms.CharField(
        label=gettext_lazy("Result"),
        help_text=gettext_lazy("What was done. Write no name, personnummer or address."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("What is missing"),
        help_text=gettext_lazy("The author reads this and completes the work order."),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=300,
    )


class ResubmitForm(forms.Form):
    description = forms.CharField(
        label=gettext_lazy("Fault or task"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class FaultReportForm(forms.Form):
    serial = forms.CharField(
        label=gettext_lazy("Serial number"),
        help_text=gettext_lazy("The device's serial number, as the caller reads it."),
        max_length=64,
    )
    article_number = forms.CharField(
        label=gettext_lazy("Article number"),
        help_text=gettext_lazy("Only needed when two articles share the serial number."),
        max_length=32,
        required=False,
    )
    fault = forms.CharField(
        label=gettext_lazy("Fault"),
        help_text=gettext_lazy("What is wrong. Write no name, personnummer or address."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    caller_phone = forms.CharField(
        label=gettext_lazy("Phone number the caller left"),
        help_text=gettext_lazy(
            "Kept encrypted. For a patient with protected identity only grant holders see it."
        ),
        max_length=40,
        required=False,
    )


class WorkOrderNewForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=WorkOrderKind.choices)
    serial = forms.CharField(
        label=gettext_lazy("Serial number"),
        help_text=gettext_lazy("The device's, for a repair, service or reconditioning."),
        max_length=64,
        required=False,
    )
    article_number = forms.CharField(
        label=gettext_lazy("Article number"),
        help_text=gettext_lazy("Only needed when two articles share the serial number."),
        max_length=32,
        required=False,
    )
    patient_reference = forms.CharField(
        label=gettext_lazy("Patient reference"),
        help_text=gettext_lazy(
            "For an installation or fitting support without a device: the patient's internal "
            "reference, for example P-2345ABCDEF."
        ),
        max_length=12,
        required=False,
    )
    description = forms.CharField(
        label=gettext_lazy("Fault or task"),
        help_text=gettext_lazy("Write no name, personnummer or address."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


# The actions of a work order's page: action -> (form class, who may: "work" or "author").
ACTIONS: dict[str, tuple[type[forms.Form] | None, str]] = {
    "assign": (None, "work"),
    "start": (None, "work"),
    "time": (TimeForm, "work"),
    "part": (PartForm, "work"),
    "finish": (FinishForm, "work"),
    "reject": (RejectForm, "work"),
    "resubmit": (ResubmitForm, "author"),
}


@never_cache
@login_required
@role_permission_required(WORK)
@require_GET
def work_order_queue_view(request: HttpRequest) -> HttpResponse:
    queue = technician_queue(user=request.user, today=timezone.localdate())
    return render(
        request,
        "logistics/workorders/queue.html",
        {"queue": queue, "protected": queue.protected},
    )


def _page(request: HttpRequest, work_order_id: int) -> WorkOrderPage:
    try:
        return work_order_get_for_user(
            ctx=AccessContext.from_request(request), work_order_id=work_order_id
        )
    except WorkOrder.DoesNotExist:
        raise Http404 from None


def _render_detail(
    request: HttpRequest, page: WorkOrderPage, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    order = page.work_order
    forms_shown: dict[str, forms.Form] = {}
    if page.may_work and order.state == S.IN_PROGRESS:
        forms_shown = {"time": TimeForm(), "part": PartForm(), "finish": FinishForm()}
    if page.may_work and order.state in {S.REGISTERED, S.ASSIGNED}:
        forms_shown = {"reject": RejectForm()}
    if page.is_author and order.state == S.REJECTED:
        forms_shown = {"resubmit": ResubmitForm(initial={"description": order.description})}
    forms_shown.update(bound or {})
    status = 400 if bound else 200
    return render(
        request,
        "logistics/workorders/detail.html",
        {
            "page": page,
            "order": order,
            "Shown": {shown.name: shown for shown in PatientShown},
            "may_start": page.may_work and order.state in {S.REGISTERED, S.ASSIGNED},
            "may_plan": page.may_work
            and order.state in {S.REGISTERED, S.ASSIGNED}
            and order.technician_id != request.user.pk,
            "forms": forms_shown,
            "forms_errors": bool(bound),
            "step_up_url": step_up_url(request.get_full_path()),
            # QUAL-2: a medical-device incident raised from the work order keeps its device.
            "may_raise_incident": order.device_id is not None
            and holds_role_permission(request.user, "logistics.add_incident"),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def work_order_detail_view(request: HttpRequest, work_order_id: int) -> HttpResponse:
    page = _page(request, work_order_id)
    if request.method == "GET":
        return _render_detail(request, page)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        raise Http404
    form_class, who = ACTIONS[action]
    if (who == "work" and not page.may_work) or (who == "author" and not page.is_author):
        raise Http404
    form = form_class(request.POST) if form_class is not None else None
    if form is not None and not form.is_valid():
        return _render_detail(request, page, {action: form})
    data = form.cleaned_data if form is not None else {}
    try:
        _act(request, page.work_order, action, data)
    except LogisticsError as error:
        if form is None:
            messages.error(request, str(error))
            return redirect("logistics:work_order", work_order_id=work_order_id)
        form.add_error(None, str(error))
        return _render_detail(request, _page(request, work_order_id), {action: form})
    return redirect("logistics:work_order", work_order_id=work_order_id)


def _act(request: HttpRequest, order: WorkOrder, action: str, data: dict[str, Any]) -> None:
    by, pk, number = request.user, order.pk, order.number
    if action == "assign":
        work_order_assign(work_order_id=pk, technician=by, by=by)
        messages.success(
            request, _("Work order %(number)s is planned for you.") % {"number": number}
        )
    elif action == "start":
        work_order_start(work_order_id=pk, by=by)
        messages.success(request, _("Work order %(number)s is started.") % {"number": number})
    elif action == "time":
        work_order_time_record(work_order_id=pk, minutes=data["minutes"], by=by)
        messages.success(request, _("The time is recorded."))
    elif action == "part":
        article = Article.objects.filter(article_number=data["article_number"].strip()).first()
        if article is None:
            raise LogisticsError(_("There is no article with that number."))
        work_order_part_use(
            work_order_id=pk, article_id=article.pk, quantity=data["quantity"], by=by
        )
        messages.success(request, _("The part is recorded and taken from the store."))
    elif action == "finish":
        work_order_finish(work_order_id=pk, result=data["result"], by=by)
        messages.success(request, _("Work order %(number)s is done.") % {"number": number})
    elif action == "reject":
        work_order_reject(work_order_id=pk, reason=data["reason"], by=by)
        messages.success(
            request,
            _("Work order %(number)s is returned to its author.") % {"number": number},
        )
    elif action == "resubmit":
        work_order_resubmit(work_order_id=pk, description=data["description"], by=by)
        messages.success(request, _("Work order %(number)s is sent again.") % {"number": number})


@login_required
@role_permission_required(WORK)
@require_POST
def service_order_create_view(request: HttpRequest) -> HttpResponse:
    """A work order for a device whose service falls due, from the queue. Twice for the same
    device makes one: the database keeps one open service order per device."""
    try:
        device_id = int(request.POST.get("device", ""))
    except ValueError:
        raise Http404 from None
    if not Device.objects.filter(pk=device_id).exists():
        raise Http404
    try:
        order = work_order_create(
            kind=WorkOrderKind.SERVICE,
            by=request.user,
            device_id=device_id,
            source=WorkOrderSource.SERVICE_DUE,
        )
    except IntegrityError:
        messages.info(request, _("The device already has an open service work order."))
        return redirect("logistics:work_orders")
    except LogisticsError as error:
        messages.error(request, str(error))
        return redirect("logistics:work_orders")
    messages.success(
        request, _("Service work order %(number)s is registered.") % {"number": order.number}
    )
    return redirect("logistics:work_order", work_order_id=order.pk)


@never_cache
@login_required
@require_GET
def returned_work_orders_view(request: HttpRequest) -> HttpResponse:
    """The author's returned work orders (anyone may have authored one; others see none)."""
    rows = list(returned_work_orders_for_user(user=request.user))
    return render(request, "logistics/workorders/returned.html", {"rows": rows})


@never_cache
@login_required
@role_permission_required(REPORT_FAULTS)
@require_http_methods(["GET", "POST"])
def fault_report_view(request: HttpRequest) -> HttpResponse:
    """Customer service takes a fault report by phone (PRESC-10): the device by serial number,
    the fault and the number the caller left. It becomes a repair work order in the queue of
    the workshop of the device's region, due within two working days."""
    if request.method == "GET":
        # Prefilled from the device card or the patient's devices (found through the gate).
        form = FaultReportForm(
            initial={
                "serial": request.GET.get("serial", "")[:64],
                "article_number": request.GET.get("article", "")[:32],
            }
        )
        return render(request, "logistics/workorders/fault_report.html", {"form": form})
    form = FaultReportForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        device = _one_device(form, data["serial"], data["article_number"])
        if device is not None:
            try:
                order = work_order_create(
                    kind=WorkOrderKind.REPAIR,
                    by=request.user,
                    device_id=device.pk,
                    description=data["fault"],
                    caller_phone=data["caller_phone"],
                    source=WorkOrderSource.FAULT_REPORT,
                )
            except LogisticsError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _(
                        "The fault report is registered as work order %(number)s in the "
                        "queue of %(workshop)s."
                    )
                    % {"number": order.number, "workshop": order.workshop.name},
                )
                return redirect("logistics:work_order", work_order_id=order.pk)
    return render(request, "logistics/workorders/fault_report.html", {"form": form}, status=400)


def _one_device(form: forms.Form, serial: str, article_number: str) -> Device | None:
    """The one device with the serial number (and article number), or an error on the form."""
    devices = Device.objects.filter(serial_number=serial.strip()).exclude(
        status__in=[DeviceStatus.SCRAPPED]
    )
    if article_number:
        devices = devices.filter(article__article_number=article_number.strip())
    found = list(devices[:2])
    if not found:
        form.add_error("serial", _("No device in the register has that serial number."))
        return None
    if len(found) > 1:
        form.add_error(
            "article_number",
            _("Two articles have that serial number: write the article number too."),
        )
        return None
    return found[0]


@never_cache
@login_required
@role_permission_required(PRESCRIBE)
@require_http_methods(["GET", "POST"])
@refusals_answered(next_url=lambda request: request.path)
def work_order_new_view(request: HttpRequest) -> HttpResponse:
    """A prescriber registers a work order: for a device by its serial number, or for a patient
    (an installation, fitting support) by reference, through the gate. The prescriber is the
    technician's contact (PRESC-10)."""
    if request.method == "GET":
        form = WorkOrderNewForm(
            initial={
                "kind": request.GET.get("kind", WorkOrderKind.REPAIR)[:24],
                "serial": request.GET.get("serial", "")[:64],
                "article_number": request.GET.get("article", "")[:32],
            }
        )
        return render(request, "logistics/workorders/new.html", {"form": form})
    form = WorkOrderNewForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        device = None
        patient_id = None
        if data["serial"]:
            device = _one_device(form, data["serial"], data["article_number"])
        elif data["patient_reference"]:
            # Raises the one refusal: not found (masked or missing) or confirm the password.
            answer = patient_answer(
                AccessContext.from_request(request), data["patient_reference"].strip().upper()
            )
            patient_id = answer.patient.pk
        else:
            form.add_error("serial", _("Give the device's serial number or the patient."))
        if not form.errors:
            try:
                order = work_order_create(
                    kind=data["kind"],
                    by=request.user,
                    device_id=device.pk if device is not None else None,
                    patient_id=patient_id,
                    description=data["description"],
                )
            except LogisticsError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("Work order %(number)s is registered in the queue of %(workshop)s.")
                    % {"number": order.number, "workshop": order.workshop.name},
                )
                return redirect("logistics:work_order", work_order_id=order.pk)
    return render(request, "logistics/workorders/new.html", {"form": form}, status=400)

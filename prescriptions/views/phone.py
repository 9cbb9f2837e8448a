"""Customer service's "Phone orders and withdrawals" desk (issue 14, PRESC-2, LEAK-5).

A caller is served one of two ways:

- by personnummer: the desk's search form posts to the patient search (the gate, logged); a
  patient the gate shows customer service opens in full, with the consumables section and the
  phone-order link on the patient page;
- by the consumable prescription's number (the case number on the prescriber's papers): the
  consumable's page, which shows a protected patient as "protected personal data" only, so a
  withdrawal can be taken without customer service ever seeing the person.

A phone order for a device or consumable from the catalogue is entered for a patient the gate
shows customer service in full (the URL carries the internal reference, never a number). For a
protected patient customer service is never shown the reference, so it cannot place one; the
prescriber, who holds the grant, orders in their own pages. The service asks the gate for the
prescriber in any case, so a phone order never reaches a patient the prescriber may not see.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from patients.forms import PatientSearchForm
from prescriptions.forms import ConsumableNumberForm, PhoneOrderPageForm
from prescriptions.models import Article, ConsumablePrescription
from prescriptions.selectors.consumable import phone_desk_counts, phone_orders_today
from prescriptions.services.errors import FieldRefused, PrescriptionError
from prescriptions.services.phone_orders import (
    PHONE_ORDER_PERMISSION,
    PhoneOrderLine,
    prescription_phone_order_create,
)
from prescriptions.views.draft_form import ErrorList, form_errors
from protection.gate import AccessContext
from protection.permissions import role_permission_required
from protection.refusals import patient_answer, refusals_answered


@never_cache
@sensitive_post_parameters("consumable_number")
@login_required
@role_permission_required(PHONE_ORDER_PERMISSION)
@require_http_methods(["GET", "POST"])
def phone_desk_view(request: HttpRequest) -> HttpResponse:
    """The desk: find the caller's patient or consumable prescription; today's orders.

    The consumable number is posted, never sent in the address: the desk's two fields sit one
    above the other, and a personnummer or a name typed into the wrong one would otherwise
    travel in a URL, into the browser's history and any proxy's log (LEAK-1)."""
    number_form = ConsumableNumberForm(request.POST if request.method == "POST" else None)
    errors: ErrorList = []
    status = 200
    if number_form.is_bound:
        if number_form.is_valid():
            number = number_form.cleaned_data["consumable_number"]
            if ConsumablePrescription.objects.filter(reference=number).exists():
                return redirect("prescriptions:consumable", consumable_number=number)
            number_form.add_error(
                "consumable_number", _("No consumable prescription has that number.")
            )
        errors, status = form_errors(number_form, "number-form"), 400
    return render(
        request,
        "prescriptions/phone/desk.html",
        {
            "number_form": number_form,
            "search_form": PatientSearchForm(),
            "may_search": request.user.has_perm("patients.view_patient"),
            "counts": phone_desk_counts(),
            "orders": phone_orders_today(),
            "errors": errors,
        },
        status=status,
    )


def _back(request: HttpRequest, *args: object, **kwargs: object) -> str:
    return request.path


@never_cache
@sensitive_post_parameters("need")
@login_required
@role_permission_required(PHONE_ORDER_PERMISSION)
@require_http_methods(["GET", "POST"])
@refusals_answered(next_url=_back)
def phone_order_view(request: HttpRequest, reference: str) -> HttpResponse:
    """A prescriber phones in an order for a patient the gate shows customer service (the read
    is logged); delivery computed by the service (PRESC-2), submitted for the prescriber."""
    ctx = AccessContext.from_request(request)
    answer = patient_answer(ctx, reference)
    form = PhoneOrderPageForm(request.POST or None)
    errors: ErrorList = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            article = Article.objects.filter(article_number=data["article_number"].strip()).first()
            if article is None:
                form.add_error("article_number", _("No article has that number."))
            else:
                try:
                    order = prescription_phone_order_create(
                        ctx=ctx,
                        patient_reference=reference,
                        prescriber_id=data["prescriber"].pk,
                        unit_id=data["unit"].pk,
                        lines=[PhoneOrderLine(article_id=article.pk, quantity=data["quantity"])],
                        need=data["need"],
                        urgency=data["urgency"],
                    )
                except FieldRefused as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, str(exc))
                except PrescriptionError as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(
                        request,
                        _("Phone order %(number)s is entered for %(prescriber)s: %(state)s.")
                        % {
                            "number": order.reference,
                            "prescriber": data["prescriber"].get_full_name()
                            or data["prescriber"].username,
                            "state": order.get_state_display(),
                        },
                    )
                    return redirect("prescriptions:phone")
        errors, status = form_errors(form, "phone-order-form"), 400
    return render(
        request,
        "prescriptions/phone/order.html",
        {"card": answer.card, "reference": reference, "form": form, "errors": errors},
        status=status,
    )

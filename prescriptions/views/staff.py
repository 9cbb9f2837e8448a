"""Staff applications for ordering rights (STAFF-1) and competence levels (STAFF-3).

A logged-in member of staff applies for themselves (they have an account already: the
region's identity provider creates it; the right to order is what they apply for). The unit's
manager confirms from their queue; the account administration (customer service) approves or
refuses on the application's page. Refusals are shown next to the field, keeping what was
typed; a success redirects (post/redirect/get). No patient is ever on these pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from prescriptions.forms import (
    CompetenceDecisionForm,
    StaffApplicationForm,
    StaffDecisionForm,
)
from prescriptions.models import StaffApplication, StaffApplicationState
from prescriptions.selectors.staff import (
    competence_levels_for_manager,
    prescribers_managed_by,
    staff_application_get_for_user,
    staff_application_queue_for_user,
    staff_applications_visible,
)
from prescriptions.services.errors import FieldRefused, PrescriptionError
from prescriptions.services.staff import (
    COMPETENCE_PERMISSION,
    CONFIRM_PERMISSION,
    DECIDE_PERMISSION,
    competence_decide,
    manages_unit,
    people_a_manager_may_apply_for,
    staff_application_confirm,
    staff_application_decide,
    staff_application_submit,
)
from protection.permissions import holds_role_permission


def _refusal_to_form(form: Any, error: PrescriptionError) -> None:
    field = error.field if isinstance(error, FieldRefused) else None
    form.add_error(field if field in form.fields else None, str(error))


@never_cache
@login_required
def staff_apply_view(request: HttpRequest) -> HttpResponse:
    """STAFF-1: apply for an ordering right; the user's own applications below."""
    # STAFF-1: a unit's manager may apply on behalf of a person at the unit.
    people = (
        people_a_manager_may_apply_for(request.user)
        if holds_role_permission(request.user, CONFIRM_PERMISSION)
        else None
    )
    form = StaffApplicationForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        applicant = data.get("applicant")
        try:
            application = staff_application_submit(
                by=request.user,
                unit_id=data["unit"].pk,
                authorisation=data["authorisation"],
                einvoice_access=data["einvoice_access"],
                hsa_id=data["hsa_id"],
                title=data["title"],
                applicant_id=applicant.pk if applicant is not None else None,
            )
        except PrescriptionError as error:
            _refusal_to_form(form, error)
        else:
            messages.success(
                request,
                _("Application %(reference)s is sent to the manager of the unit.")
                % {"reference": application.reference},
            )
            return redirect("staff:apply")
    # Their own applications, and those they sent on someone's behalf.
    own = staff_applications_visible(request.user).filter(
        Q(applicant_id=request.user.pk) | Q(applied_by_id=request.user.pk)
    )
    return render(
        request,
        "prescriptions/staff/apply.html",
        {"form": form, "own": list(own.order_by("-submitted_at"))},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def staff_queue_view(request: HttpRequest) -> HttpResponse:
    """STAFF-1: what waits for the manager (to confirm) or the account administration (to
    decide)."""
    user = request.user
    if not (
        holds_role_permission(user, CONFIRM_PERMISSION)
        or holds_role_permission(user, DECIDE_PERMISSION)
    ):
        raise PermissionDenied
    return render(
        request,
        "prescriptions/staff/queue.html",
        {"applications": staff_application_queue_for_user(user)},
    )


@never_cache
@login_required
def staff_application_view(request: HttpRequest, case_number: str) -> HttpResponse:
    """STAFF-1: one application with its history; the manager confirms or refuses, the
    account administration approves or refuses."""
    try:
        application = staff_application_get_for_user(user=request.user, reference=case_number)
    except StaffApplication.DoesNotExist:
        raise Http404 from None
    form = StaffDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "")
        try:
            if action == "confirm":
                staff_application_confirm(by=request.user, application_id=application.pk)
                done = _("The application is confirmed and sent to the account administration.")
            elif action in ("approve", "refuse"):
                staff_application_decide(
                    by=request.user,
                    application_id=application.pk,
                    approve=action == "approve",
                    reason=form.cleaned_data["reason"],
                )
                done = (
                    _("The application is approved: the account has the right now.")
                    if action == "approve"
                    else _("The application is refused.")
                )
            else:
                raise PrescriptionError(_("Choose what to do with the application."))
        except PrescriptionError as error:
            _refusal_to_form(form, error)
        else:
            messages.success(request, done)
            return redirect("staff:application", case_number=application.reference)
    may_confirm = application.state == StaffApplicationState.SUBMITTED and manages_unit(
        request.user, application.unit_id
    )
    may_decide = application.state == StaffApplicationState.CONFIRMED and holds_role_permission(
        request.user, DECIDE_PERMISSION
    )
    return render(
        request,
        "prescriptions/staff/application.html",
        {
            "application": application,
            "history": list(application.transitions.select_related("by")),
            "form": form,
            "may_confirm": may_confirm and application.applicant_id != request.user.pk,
            "may_decide": may_decide and application.applicant_id != request.user.pk,
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def competence_view(request: HttpRequest) -> HttpResponse:
    """STAFF-3: the manager decides the competence level of the unit's prescribers."""
    if not holds_role_permission(request.user, COMPETENCE_PERMISSION):
        raise PermissionDenied
    prescribers = prescribers_managed_by(request.user)
    form = CompetenceDecisionForm(request.POST or None, prescribers=prescribers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            competence_decide(
                by=request.user,
                prescriber_id=data["prescriber"].pk,
                competence_area_code=data["competence_area"].pk,
                level=data["level"],
                decided_on=data["decided_on"],
                trained_on=data["trained_on"],
            )
        except PrescriptionError as error:
            _refusal_to_form(form, error)
        else:
            messages.success(request, _("The competence level is decided."))
            return redirect("staff:competence")
    return render(
        request,
        "prescriptions/staff/competence.html",
        {"form": form, "levels": competence_levels_for_manager(request.user)},
        status=400 if form.errors else 200,
    )

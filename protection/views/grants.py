"""Grant requests, decisions and the unit manager's grant review (ACCESS-3, ACCESS-5, ACCESS-6)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from patients.presenters import PatientCard
from protection.forms import GrantDecisionForm, GrantEndForm, GrantRequestForm
from protection.gate import AccessContext
from protection.labels import patient_labels_for_user
from protection.models import Grant, GrantRequest, GrantRequestStatus
from protection.permissions import (
    PROTECTION_ADMIN_PERMISSION,
    UNIT_MANAGER_PERMISSION,
    role_permission_required,
)
from protection.registry import open_cases_elsewhere
from protection.rls import relation_kind_counts
from protection.selectors import grants_open
from protection.services import ProtectionError
from protection.services.grants import (
    grant_end,
    grant_request_create,
    grant_request_decide,
    grant_request_opened,
)
from protection.tokens import patient_from_masked_token


@never_cache
@login_required
@role_permission_required(UNIT_MANAGER_PERMISSION)
@require_POST
def grant_request_create_view(request: HttpRequest) -> HttpResponse:
    """POST only: the masked card's button brings the token; the form then adds the rest."""
    token = request.POST.get("patient_token", "")
    patient = patient_from_masked_token(token, user_id=int(request.user.pk or 0))
    ctx = AccessContext.from_request(request)
    unit_id = ctx.actor.unit_id  # the unit the manager acts for, as the access log records it
    if patient is None or not patient.is_protected or unit_id is None:
        raise Http404
    staff = get_user_model().objects.filter(is_active=True, staff_profile__unit_id=unit_id)
    form = GrantRequestForm(
        request.POST if "case_reference" in request.POST else None,
        staff_queryset=staff.order_by("username"),
    )
    if form.is_bound and form.is_valid():
        try:
            grant_request_create(
                ctx=ctx,
                patient=patient,
                unit_id=unit_id,
                staff=list(form.cleaned_data["staff"]),
                case_reference=form.cleaned_data["case_reference"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                reason=form.cleaned_data["reason"],
            )
        except ProtectionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("The request has been sent to the protection administrators.")
            )
            return redirect("protection:grants")
    return render(request, "protection/request_form.html", {"form": form, "patient_token": token})


@never_cache
@login_required
@role_permission_required(PROTECTION_ADMIN_PERMISSION)
@require_http_methods(["GET"])
def grant_request_list_view(request: HttpRequest) -> HttpResponse:
    open_requests = (
        GrantRequest.objects.filter(status=GrantRequestStatus.REQUESTED)
        .select_related("patient", "unit", "requested_by")
        .annotate(staff_count=Count("staff"))
        .order_by("created_at")
    )
    decided = list(
        GrantRequest.objects.exclude(status=GrantRequestStatus.REQUESTED)
        .select_related("patient", "unit", "decided_by")
        .order_by("-decided_at")[:20]
    )
    waiting = list(open_requests)
    # The patients as the gate shows them to the administrator, each row logged (AUDIT-1).
    cards = patient_labels_for_user(
        ctx=AccessContext.from_request(request),
        rows=[(r.patient_id, str(r.pk)) for r in [*waiting, *decided]],
        object_type="grant_request",
    )
    return render(
        request,
        "protection/request_list.html",
        {
            "open": [(r, cards.get(r.patient_id)) for r in waiting],
            "decided": [(r, cards.get(r.patient_id)) for r in decided],
        },
    )


@never_cache
@login_required
@role_permission_required(PROTECTION_ADMIN_PERMISSION)
@require_http_methods(["GET", "POST"])
def grant_request_decide_view(request: HttpRequest, request_id: int) -> HttpResponse:
    grant_request = (
        GrantRequest.objects.select_related("patient", "unit", "requested_by")
        .filter(pk=request_id)
        .first()
    )
    if grant_request is None:
        raise Http404
    form = GrantDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant_request_decide(
                ctx=AccessContext.from_request(request),
                request_id=grant_request.pk,
                approve=form.cleaned_data["decision"] == "grant",
                note=form.cleaned_data["note"],
                confirm_excess=form.cleaned_data["confirm_excess"],
            )
        except ProtectionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The decision has been recorded."))
            return redirect("protection:requests")
    patient = grant_request.patient
    ctx = AccessContext.from_request(request)
    if request.method == "GET":
        grant_request_opened(ctx=ctx, grant_request=grant_request)
    # ACCESS-3: what the administrator must see before deciding. The patient as the gate shows
    # them to the administrator: masked without a grant of their own. Grants still to come are
    # listed too: they count against the ACCESS-6 limit.
    card = patient_labels_for_user(
        ctx=ctx, rows=[(patient.pk, str(grant_request.pk))], object_type="grant_request_decision"
    ).get(patient.pk)
    holders = (
        grants_open()
        .filter(patient=patient)
        .select_related("user", "user__staff_profile__unit")
        .order_by("ends_at")
    )
    # Counted past row-level security: the administrator holds no grant to the patient.
    linked = relation_kind_counts(patient.pk)
    return render(
        request,
        "protection/request_decide.html",
        {
            "grant_request": grant_request,
            "card": card,
            "staff": grant_request.staff.order_by("username"),
            "form": form,
            "holders": holders,
            "linked": linked,
            "open_cases": open_cases_elsewhere(patient, exclude_unit_id=grant_request.unit_id),
        },
    )


@never_cache
@login_required
@role_permission_required("protection.view_grant")
@require_http_methods(["GET"])
def grant_review_view(request: HttpRequest) -> HttpResponse:
    """ACCESS-5: grants per patient and per user, with their ends, for the manager's unit."""
    ctx = AccessContext.from_request(request)
    unit_id = ctx.actor.unit_id
    if unit_id is None:
        raise Http404  # no unit, no grants to review (never "the grants of nobody's unit")
    # Grants still to come are listed too, so that they can be revoked before they start.
    grants = list(
        grants_open()
        .filter(Q(user__staff_profile__unit_id=unit_id) | Q(request__unit_id=unit_id))
        .select_related("user", "patient")
        .order_by("patient__reference", "ends_at")
    )
    # The unit's requests still waiting for the protection administrators (ACCESS-3).
    waiting = list(
        GrantRequest.objects.filter(unit_id=unit_id, status=GrantRequestStatus.REQUESTED)
        .select_related("patient")
        .annotate(staff_count=Count("staff"))
        .order_by("created_at", "pk")
    )
    # The patients as the gate shows them to the manager, each row logged (AUDIT-1).
    cards = patient_labels_for_user(
        ctx=ctx,
        rows=[
            *((g.patient_id, f"grant:{g.pk}") for g in grants),
            *((r.patient_id, f"grant_request:{r.pk}") for r in waiting),
        ],
        object_type="grant_review",
    )
    by_user: dict[str, list[tuple[Grant, PatientCard | None]]] = {}
    for grant in grants:
        name = grant.user.get_full_name() or grant.user.get_username()
        by_user.setdefault(name, []).append((grant, cards.get(grant.patient_id)))
    return render(
        request,
        "protection/grants.html",
        {
            "grants": [(g, cards.get(g.patient_id)) for g in grants],
            "by_user": sorted(by_user.items()),
            "end_form": GrantEndForm(),
            "waiting": [(r, cards.get(r.patient_id)) for r in waiting],
        },
    )


@never_cache
@login_required
@role_permission_required("protection.change_grant")
@require_POST
def grant_end_view(request: HttpRequest, grant_id: int) -> HttpResponse:
    ctx = AccessContext.from_request(request)
    unit_id = ctx.actor.unit_id
    if unit_id is None:
        raise Http404
    grant = (
        Grant.objects.filter(pk=grant_id)
        .filter(Q(user__staff_profile__unit_id=unit_id) | Q(request__unit_id=unit_id))
        .first()
    )
    if grant is None:
        raise Http404
    form = GrantEndForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else _("Revoked")
    grant_end(actor=ctx.actor, ended_by=request.user, grant_id=grant.pk, reason=reason)
    messages.success(request, _("The grant has ended."))
    return redirect("protection:grants")

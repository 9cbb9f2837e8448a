"""LOG-1: the prescriber's page of reserved articles (Reserverade artiklar) and its releases."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from logistics.models import Reservation
from logistics.selectors.reservations import reservations_for_prescriber
from logistics.services.reservations import reservation_release, reservations_release_all
from patients.presenters import PatientCard, prints_only_notice
from protection.gate import AccessContext
from protection.labels import patient_labels_for_user
from protection.permissions import role_permission_required

VIEW_RESERVATION = "logistics.view_reservation"


@never_cache
@login_required
@role_permission_required(VIEW_RESERVATION)
@require_GET
def reservations_view(request: HttpRequest) -> HttpResponse:
    active, lapsed = reservations_for_prescriber(user=request.user)
    # The patient of each draft, name first (or masked, as the gate says); names shown are
    # logged as reads of the prescription (AUDIT-1).
    cards = patient_labels_for_user(
        ctx=AccessContext.from_request(request),
        rows=[
            (
                r.prescription_line.prescription.patient_id,
                r.prescription_line.prescription.reference,
            )
            for r in (*active, *lapsed)
            if r.prescription_line is not None
        ],
        object_type="prescription",
    )

    def with_cards(reservations: list[Reservation]) -> list[tuple[Reservation, PatientCard | None]]:
        return [
            (
                r,
                cards.get(r.prescription_line.prescription.patient_id)
                if r.prescription_line
                else None,
            )
            for r in reservations
        ]

    return render(
        request,
        "logistics/reservations/list.html",
        {
            "active": with_cards(active),
            "lapsed": with_cards(lapsed),
            # PRINT-1: a list naming a protected (or linked, or hidden) patient prints a notice.
            "protected": prints_only_notice(cards.values()),
        },
    )


@never_cache
@login_required
@role_permission_required(VIEW_RESERVATION)
@require_POST
def reservation_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not reservation_release(user=request.user, reservation_id=pk):
        raise Http404
    messages.success(request, _("The reservation was released."))
    return redirect("logistics:reservations")


@never_cache
@login_required
@role_permission_required(VIEW_RESERVATION)
@require_POST
def reservations_release_all_view(request: HttpRequest) -> HttpResponse:
    count = reservations_release_all(user=request.user)
    messages.success(request, _("%(count)s reservations released.") % {"count": count})
    return redirect("logistics:reservations")

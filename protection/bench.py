"""The bare comparison view for ``manage.py bench_gate``: the same patient page, rendered from
one query, with no gate, no masking decision and no access entry.

Used only as the benchmark's URL configuration (the product's URLs plus this one), so that the
bare view goes through the same middleware and template as the page it is compared with; the
difference is what the gate and the audit cost.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.urls import urlpatterns as product_urlpatterns
from patients.models import PatientIdentity
from patients.presenters import full_card


def bare_patient_view(request: HttpRequest, reference: str) -> HttpResponse:
    identity = (
        PatientIdentity.objects.select_related("patient", "patient__home_region")
        .filter(patient__reference=reference)
        .first()
    )
    if identity is None:
        raise Http404
    card = full_card(identity.patient, identity, own_county_code=settings.REGION_COUNTY_CODE)
    return render(request, "protection/detail.html", {"card": card})


urlpatterns = [
    path("bench/bare/<str:reference>/", bare_patient_view, name="bench_bare"),
    *product_urlpatterns,
]

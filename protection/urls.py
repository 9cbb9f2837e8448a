from django.urls import path

from protection.views import grants, patient

# The patient pages keep the "patients" namespace: they are the patient register's pages, served
# through the gate.
patient_patterns = (
    [
        path("", patient.patient_search_view, name="search"),
        path("patients/<str:reference>/", patient.patient_detail_view, name="detail"),
        path(
            "patients/<str:reference>/emergency/",
            patient.emergency_access_view,
            name="emergency",
        ),
    ],
    "patients",
)

protection_patterns = (
    [
        path("step-up/", patient.step_up_view, name="step_up"),
        path("requests/", grants.grant_request_list_view, name="requests"),
        path(
            "requests/new/<str:reference>/",
            grants.grant_request_create_view,
            name="request_create",
        ),
        path("requests/<int:request_id>/", grants.grant_request_decide_view, name="request_decide"),
        path("grants/", grants.grant_review_view, name="grants"),
        path("grants/<int:grant_id>/end/", grants.grant_end_view, name="grant_end"),
    ],
    "protection",
)

from django.urls import path

from protection.documents import views as documents
from protection.views import (
    contact,
    grants,
    holds,
    patient,
    registration,
    review,
    unit_protections,
)

# The patient pages keep the "patients" namespace: they are the patient register's pages, served
# through the gate.
patient_patterns = (
    [
        path("", patient.patient_search_view, name="search"),
        # Before the detail route, which would take "emergency" for a reference.
        path("patients/emergency/", patient.emergency_access_view, name="emergency"),
        path("patients/<str:reference>/", patient.patient_detail_view, name="detail"),
    ],
    "patients",
)

protection_patterns = (
    [
        path("step-up/", patient.step_up_view, name="step_up"),
        # LEAK-5, PRESC-10: how a protected person wants to be contacted (grant holders).
        path(
            "patients/<str:reference>/contact/",
            contact.contact_agreement_view,
            name="contact_agreement",
        ),
        # REG-1..3: patients the register does not give; a person's refresh.
        path("register/", registration.hand_registration_view, name="hand_register"),
        path(
            "patients/<str:reference>/reservnummer/",
            registration.reserve_number_view,
            name="reserve_number_record",
        ),
        path(
            "patients/<str:reference>/register-refresh/",
            registration.register_refresh_view,
            name="register_refresh",
        ),
        path("requests/", grants.grant_request_list_view, name="requests"),
        path("requests/new/", grants.grant_request_create_view, name="request_create"),
        path("requests/<int:request_id>/", grants.grant_request_decide_view, name="request_decide"),
        path("grants/", grants.grant_review_view, name="grants"),
        path("grants/<int:grant_id>/end/", grants.grant_end_view, name="grant_end"),
        path("review/", review.access_review_view, name="review"),
        path("review/sample/", review.access_sample_view, name="review_sample"),
        path(
            "review/emergency/<int:access_id>/",
            review.emergency_access_review_view,
            name="emergency_review",
        ),
        path(
            "review/accounts/<int:suspension_id>/confirm/",
            review.account_suspension_lift_view,
            name="account_confirm",
        ),
        # PROT-1/PROT-6: the kinds of protection health care decides; PROT-3/PROT-4: holds.
        path("unit-protections/", unit_protections.unit_protections_view, name="unit_protections"),
        path(
            "patients/<str:reference>/local/",
            unit_protections.local_protection_decide_view,
            name="local_decide",
        ),
        path(
            "local/<int:protection_id>/renew/",
            unit_protections.local_protection_renew_view,
            name="local_renew",
        ),
        path(
            "local/<int:protection_id>/end/",
            unit_protections.local_protection_end_view,
            name="local_end",
        ),
        path(
            "patients/<str:reference>/reserve-number/",
            unit_protections.reserve_number_protection_decide_view,
            name="reserve_decide",
        ),
        path(
            "reserve-number/<int:protection_id>/end/",
            unit_protections.reserve_number_protection_end_view,
            name="reserve_end",
        ),
        # PRINT-1..3, LETTER-1..4: the document pipeline.
        path("documents/", documents.document_list_view, name="documents"),
        path(
            "documents/<int:job_id>/pdf/",
            documents.document_download_view,
            name="document_download",
        ),
        path(
            "patients/<str:reference>/summary/",
            documents.summary_request_view,
            name="summary_request",
        ),
        path(
            "patients/<str:reference>/letter/",
            documents.letter_compose_view,
            name="letter_compose",
        ),
        path("holds/", holds.holds_view, name="holds"),
        path("holds/<str:reference>/release/", holds.hold_release_view, name="hold_release"),
    ],
    "protection",
)

from django.urls import URLPattern, URLResolver, path

from prescriptions.views import (
    activity,
    assortment,
    catalogue,
    consumable,
    documents,
    followup,
    ownership,
    patient,
    phone,
    prescription,
    region,
    staff,
)

Patterns = tuple[list[URLPattern | URLResolver], str]

# The catalogue: search and article pages.
catalogue_patterns: Patterns = (
    [
        path("", catalogue.catalogue_search_view, name="search"),
        # KPI-5: the assortment owner's follow-up (before the article route's prefix).
        path("follow-up/", followup.follow_up_view, name="follow_up"),
        # CAT-1: product and agreement search (before the article route).
        path("agreements/search/", catalogue.agreement_search_view, name="agreement_search"),
        # CAT-1: the catalogue's owners (no ids in these routes: see prescriptions.views.ownership).
        path("agreements/", ownership.agreements_view, name="agreements"),
        path("agreement-rows/", ownership.agreement_rows_view, name="agreement_rows"),
        path("assortment/", ownership.assortment_manage_view, name="assortment_manage"),
        path("roles/", ownership.catalogue_roles_view, name="roles"),
        path("articles/<str:article_number>/", catalogue.article_detail_view, name="article"),
    ],
    "catalogue",
)

# CAT-2: the public assortment for residents, without logging in (no patient data reachable).
assortment_patterns: Patterns = (
    [
        path("", assortment.assortment_search_view, name="search"),
        path("<str:article_number>/", assortment.assortment_article_view, name="article"),
    ],
    "assortment",
)

# The prescriber's pages: a patient's devices and prescriptions, building and submitting one,
# my prescriptions.
prescription_patterns: Patterns = (
    [
        path("", patient.my_prescriptions_view, name="mine"),
        # Before the prescription routes, which would take "patients" for a number.
        path("patients/<str:reference>/", patient.patient_prescriptions_view, name="patient"),
        path("patients/<str:reference>/new/", patient.prescription_start_view, name="start"),
        path(
            "patients/<str:reference>/activities/",
            activity.activity_create_view,
            name="activity_create",
        ),
        path(
            "patients/<str:reference>/activities/<int:activity_id>/book/",
            activity.activity_book_view,
            name="activity_book",
        ),
        path(
            "order-confirmations/",
            documents.order_confirmations_batch_view,
            name="order_confirmations",
        ),
        path("patients/<str:reference>/abroad/", region.residence_view, name="residence"),
        path(
            "patients/<str:reference>/special-delivery/",
            region.special_delivery_view,
            name="special_delivery",
        ),
        # Consumables (issue 14): written from the patient, withdrawn by customer service.
        path(
            "patients/<str:reference>/consumables/new/",
            consumable.consumable_new_view,
            name="consumable_new",
        ),
        path(
            "consumables/<str:consumable_number>/",
            consumable.consumable_detail_view,
            name="consumable",
        ),
        path(
            "consumables/<str:consumable_number>/cancel/",
            consumable.withdrawal_cancel_view,
            name="withdrawal_cancel",
        ),
        # Customer service's desk for phone orders and withdrawals (issue 14, PRESC-2).
        path("phone/", phone.phone_desk_view, name="phone"),
        path("phone/patients/<str:reference>/", phone.phone_order_view, name="phone_order"),
        path("<str:number>/", prescription.prescription_detail_view, name="detail"),
        path("<str:number>/lines/", prescription.line_add_view, name="line_add"),
        path(
            "<str:number>/lines/<int:line_id>/", prescription.line_change_view, name="line_change"
        ),
        path(
            "<str:number>/lines/<int:line_id>/remove/",
            prescription.line_remove_view,
            name="line_remove",
        ),
        path(
            "<str:number>/replacements/<int:decision_id>/",
            prescription.replacement_decide_view,
            name="replacement",
        ),
        path("<str:number>/details/", prescription.details_view, name="details"),
        path("<str:number>/delivery/", prescription.delivery_view, name="delivery"),
        path("<str:number>/submit/", prescription.submit_view, name="submit"),
        path("<str:number>/agreement/", prescription.agreement_view, name="agreement"),
        path("<str:number>/fitting/", prescription.fitting_view, name="fitting"),
        path("<str:number>/cancel/", prescription.cancel_view, name="cancel"),
        path(
            "<str:number>/order-confirmation/",
            documents.order_confirmation_view,
            name="order_confirmation",
        ),
        path("<str:number>/registration/", region.registration_view, name="registration"),
        path(
            "<str:number>/special-delivery/",
            region.special_delivery_choose_view,
            name="special_delivery_choice",
        ),
    ],
    "prescriptions",
)

# STAFF-1, STAFF-3: applications for ordering rights, their queues and decisions, and the
# manager's competence decisions.
staff_patterns: Patterns = (
    [
        path("apply/", staff.staff_apply_view, name="apply"),
        path("applications/", staff.staff_queue_view, name="queue"),
        path("applications/<str:case_number>/", staff.staff_application_view, name="application"),
        path("competence/", staff.competence_view, name="competence"),
    ],
    "staff",
)

"""The pages of safety notices and their campaigns (DEVICE-2, DEVICE-5), under /logistics/."""

from django.urls import URLPattern, path

from logistics.views import recalls

urlpatterns: list[URLPattern] = [
    # Logistics staff: the notices, a new one, a notice's campaign and its moves.
    path("notices/", recalls.notices_view, name="notices"),
    path("notices/new/", recalls.notice_create_view, name="notice_create"),
    # The message board, and the prescriber's patients holding notice articles.
    path("notices/board/", recalls.notice_board_view, name="notice_board"),
    path("notices/my-patients/", recalls.notice_patients_view, name="notice_patients"),
    path(
        "notices/my-patients/<int:row_id>/contacted/",
        recalls.notice_patient_contacted_view,
        name="notice_patient_contacted",
    ),
    path("notices/<int:notice_id>/", recalls.notice_view, name="notice"),
    path("notices/<int:notice_id>/publish/", recalls.notice_publish_view, name="notice_publish"),
    path("notices/<int:notice_id>/close/", recalls.notice_close_view, name="notice_close"),
    path(
        "notices/<int:notice_id>/devices/<int:row_id>/<slug:step>/",
        recalls.outreach_view,
        name="notice_outreach",
    ),
]

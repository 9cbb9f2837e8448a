from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_search, name="search"),
    path("patients/<str:reference>/", views.patient_detail, name="detail"),
]

from django.urls import path

from patients import views

app_name = "messages"

urlpatterns = [
    path("", views.notification_list_view, name="list"),
]

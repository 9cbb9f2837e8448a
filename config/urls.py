from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from billing.urls import billing_patterns
from config import landing, views
from logistics.urls import logistics_patterns
from prescriptions.urls import catalogue_patterns, prescription_patterns
from protection.urls import patient_patterns, protection_patterns

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("start/", landing.landing_view, name="landing"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("messages/", include("patients.urls")),
    path("protection/", include(protection_patterns)),
    path("catalogue/", include(catalogue_patterns)),
    path("prescriptions/", include(prescription_patterns)),
    path("logistics/", include(logistics_patterns)),
    path("billing/", include(billing_patterns)),
    path("", include(patient_patterns)),
]

# The product's own error pages, never Django's (config/errors.py).
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

"""The product's admin: Django's, on the site class of patients.admin_masking (LEAK-1)."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class ProductAdminConfig(AdminConfig):
    default_site = "patients.admin_masking.ProductAdminSite"

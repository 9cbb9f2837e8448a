"""Every route that takes an object id is in the explicit access policy (LEAK-1)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from config.access_policy import ADMIN_MODELS, ROUTES


def routes_with_parameters() -> set[str]:
    found: set[str] = set()

    def walk(patterns, namespace: str, has_params: bool) -> None:
        for entry in patterns:
            params = bool(entry.pattern.regex.groupindex) or "<" in str(entry.pattern)
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, ns, has_params or params)
            elif isinstance(entry, URLPattern) and (has_params or params):
                found.add(f"{namespace}{entry.name}" if entry.name else f"{namespace}{entry!r}")

    walk(get_resolver().url_patterns, "", False)
    return found


def test_leak_1_every_route_with_an_object_id_has_a_policy():
    admin_prefixes = tuple(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_" for model in admin.site._registry
    )
    missing = sorted(
        name
        for name in routes_with_parameters()
        if name not in ROUTES
        and not name.startswith(admin_prefixes)
        # Django's admin: the per-model redirect to the change page and the catch-all are
        # unnamed; both lead only to pages of registered models, covered by ADMIN_MODELS.
        and not (name.startswith("admin:<URLPattern"))
        and name not in {"admin:view_on_site", "admin:app_list"}
    )
    assert missing == [], f"add these routes to config/access_policy.py: {missing}"


def test_leak_1_every_admin_model_has_a_policy():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_MODELS), (
        f"unlisted: {sorted(registered - set(ADMIN_MODELS))}, "
        f"stale: {sorted(set(ADMIN_MODELS) - registered)}"
    )


def test_the_policy_names_only_routes_that_exist():
    assert set(ROUTES) <= routes_with_parameters()


def test_the_walk_finds_parameterised_routes():
    found = routes_with_parameters()
    assert "patients:detail" in found
    assert "patients:search" not in found

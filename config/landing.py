"""Where a user lands after logging in (``LOGIN_REDIRECT_URL``): on their work, by what their
role may do, instead of everyone on the patient search (which answers "No access" to the roles
that may not search patients).

- logistics staff (``logistics.work_orders``): the logistics start page with its queues;
- whoever may search patients (prescribers, customer service, unit managers, protection
  administrators): the patient search, as before;
- technicians: the device search where that page exists, else the catalogue;
- anyone else (billing, who has no page of its own yet): their messages, a page every
  logged-in user may see.

A safe ``next`` (same host, see ``url_has_allowed_host_and_scheme``) wins over all of these.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from protection.permissions import holds_role_permission


def _first_route(*names: str) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def landing_url(user: Any) -> str:
    """The page this user's work starts on (the rules of the module's docstring, in order)."""
    if holds_role_permission(user, "logistics.work_orders"):
        return reverse("logistics:queues")
    if user.has_perm("patients.view_patient"):
        return reverse("patients:search")
    if holds_role_permission(user, "logistics.view_device"):
        found = _first_route("logistics:device_search")
        if found is not None:
            return found
    if holds_role_permission(user, "prescriptions.search_catalogue"):
        return reverse("catalogue:search")
    return reverse("messages:list")


@login_required
@require_GET
def landing_view(request: HttpRequest) -> HttpResponse:
    wanted = request.GET.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(wanted)
    return redirect(landing_url(request.user))

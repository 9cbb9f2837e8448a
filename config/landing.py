"""Where a user lands after logging in (``LOGIN_REDIRECT_URL``): the start page with their work.

Each floor registers its sections in ``patients.startpage`` (its ``AppConfig.ready``): the
prescriber's open prescriptions, orders and documents, the unit manager's requests and grants
ending soon, the protection administrator's requests and emergency accesses, customer service's
quarantined records, the store's queues, and for every role its messages. So every role lands
on a page of its own, never on "No access", and this page imports no floor's views.

A safe ``next`` (same host, see ``url_has_allowed_host_and_scheme``) is honoured first.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from patients.startpage import start_sections_for


@never_cache
@login_required
@require_GET
def landing_view(request: HttpRequest) -> HttpResponse:
    wanted = request.GET.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(wanted)
    return render(request, "start.html", {"sections": start_sections_for(request.user)})

"""Pages of the patients floor that show no patient: the user's messages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from patients.models import Notification


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def notification_list_view(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.filter(user_id=int(request.user.pk or 0))
    if request.method == "POST":
        mine.filter(read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "patients/notifications.html", {"notifications": mine[:100]})

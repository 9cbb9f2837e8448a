"""The Celery application. Tasks take internal ids only (LEAK-1) and re-read what they need."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("hjalpmedel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

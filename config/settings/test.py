"""Test settings: test-only secrets, a real PostgreSQL (DATABASE_URL or embedded), real Redis."""

from __future__ import annotations

from config.embedded_db import embedded_database
from config.settings import env
from config.settings.base import *  # noqa: F403
from config.settings.base import LOCAL_DIR

DEBUG = False
# Test-only secrets: never used outside the test settings.
SECRET_KEY = "test-only-secret-key-" + "x" * 40
FIELD_ENCRYPTION_KEYS = env.encryption_keys(
    # Two keys so that every test exercises decryption with a non-current key id too.
    "test2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,"
    "test1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
)
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

_database_url = env.raw("DATABASE_URL")
DATABASES = {
    "default": env.database_from_url(_database_url)
    if _database_url
    else embedded_database(LOCAL_DIR)
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

REDIS_URL = env.raw("REDIS_URL") or "redis://127.0.0.1:6379/15"
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Serve static files straight from the finders: no collectstatic outside production.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

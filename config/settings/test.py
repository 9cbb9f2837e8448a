"""Test settings: test-only secrets, a real PostgreSQL (DATABASE_URL or embedded), real Redis."""

from __future__ import annotations

from config.embedded_db import embedded_databases
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
IDENTITY_DIGEST_KEY = env.digest_key("AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=")
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

# The application role as "default", the owner of the tables as "owner": tests/conftest.py
# creates and migrates the test database as the owner and runs the tests as the application
# role, so row-level security binds them as it binds production (docs/operations.md). A
# process started by a test (a Celery worker) needs DATABASE_URL only.
DATABASES = env.databases(app_required=False) or embedded_databases(LOCAL_DIR)

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

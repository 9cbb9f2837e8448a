"""The one place that reads the process environment.

Every setting that comes from outside the code is read here, typed and validated, so that a
missing or malformed value fails loudly at start-up with the variable's name, never later with a
confusing error deep inside a request.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlparse


class ConfigurationError(RuntimeError):
    """A required environment variable is missing or malformed."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def raw(name: str) -> str | None:
    """The variable's value, or None when unset or empty."""
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def required(name: str) -> str:
    value = raw(name)
    if value is None:
        raise ConfigurationError(f"{name} must be set")
    return value


def flag(name: str, *, default: bool) -> bool:
    value = raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {value!r}")


def integer(name: str, *, default: int, minimum: int = 0) -> int:
    value = raw(name)
    if value is None:
        return default
    try:
        parsed = int(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}") from exc
    if parsed < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {parsed}")
    return parsed


def string_list(name: str, *, default: list[str]) -> list[str]:
    value = raw(name)
    if value is None:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


def database_from_url(url: str, *, name: str = "DATABASE_URL") -> dict[str, object]:
    """Parse ``postgres://user:pw@host:port/dbname?host=/socket/dir`` into a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ConfigurationError(
            f"{name} must start with postgres:// or postgresql:// "
            "(the product runs on PostgreSQL only)"
        )
    dbname = unquote(parsed.path.lstrip("/"))
    if not dbname:
        raise ConfigurationError(
            f"{name} must name a database, e.g. postgres://user@host:5432/dbname"
        )
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or ""])[0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": dbname,
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {},
    }


def databases(*, app_required: bool) -> dict[str, dict[str, object]] | None:
    """``DATABASES`` for the two roles (docs/operations.md, "Database roles").

    ``DATABASE_URL`` is the application role, alias ``default``: what the web and the workers
    connect as. ``DATABASE_OWNER_URL``, when given, is the role that owns the tables, alias
    ``owner``, for ``manage.py migrate --database owner`` and the test database's setup only.
    None when neither is set and the application role is not ``app_required`` (dev and test
    then start an embedded PostgreSQL with both roles).
    """
    app_url = required("DATABASE_URL") if app_required else raw("DATABASE_URL")
    owner_url = raw("DATABASE_OWNER_URL")
    if app_url is None:
        if owner_url is not None:
            raise ConfigurationError("DATABASE_OWNER_URL is set but DATABASE_URL is not")
        return None
    app = database_from_url(app_url)
    if owner_url is None:
        return {"default": app}
    owner = database_from_url(owner_url, name="DATABASE_OWNER_URL")
    if owner["USER"] == app["USER"]:
        raise ConfigurationError(
            "DATABASE_OWNER_URL and DATABASE_URL must use different roles: the application "
            "role must not own the tables (row-level security)"
        )
    # Used by migrate only: nothing to keep open.
    owner["CONN_MAX_AGE"] = 0
    return {"default": app, "owner": owner}


_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def encryption_keys(value: str, *, name: str = "FIELD_ENCRYPTION_KEYS") -> dict[str, bytes]:
    """Parse ``kid:base64key,kid2:base64key``; the first key encrypts, all keys decrypt.

    Each key must be 32 bytes (AES-256). Order is kept: dicts preserve insertion order.
    """
    keys: dict[str, bytes] = {}
    for position, item in enumerate(value.split(","), start=1):
        item = item.strip()
        if not item:
            continue
        kid, sep, encoded = item.partition(":")
        if not sep or not _KEY_ID.match(kid):
            raise ConfigurationError(
                f"{name}: entry {position} must look like 'keyid:base64key' with a key id of "
                "1-16 letters, digits, '-' or '_'"
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError(f"{name}: key {kid!r} is not valid base64") from exc
        if len(key) != 32:
            raise ConfigurationError(
                f"{name}: key {kid!r} must be 32 bytes for AES-256, got {len(key)}"
            )
        if kid in keys:
            raise ConfigurationError(f"{name}: key id {kid!r} appears twice")
        keys[kid] = key
    if not keys:
        raise ConfigurationError(f"{name} must hold at least one key")
    return keys


def county_code(name: str = "REGION_COUNTY_CODE", *, default: str | None = None) -> str:
    value = raw(name) or default
    if value is None:
        raise ConfigurationError(f"{name} must be set (the county code of the region, e.g. 12)")
    value = value.strip().zfill(2)
    if not re.fullmatch(r"\d{2}", value):
        raise ConfigurationError(f"{name} must be a two-digit county code, got {value!r}")
    return value


@dataclass(frozen=True)
class WeakSecret:
    reason: str


def secret_key_weakness(value: str) -> WeakSecret | None:
    """Django's own check_deploy criteria, applied before start-up rather than as a warning."""
    if value.startswith("django-insecure-"):
        return WeakSecret("it is a generated development key")
    if len(value) < 50:
        return WeakSecret("it is shorter than 50 characters")
    if len(set(value)) < 5:
        return WeakSecret("it has fewer than 5 distinct characters")
    return None


def digest_key(value: str, *, name: str = "IDENTITY_DIGEST_KEY") -> bytes:
    """Parse the base64 key of the identity digests (LEAK-6): 32 bytes.

    It keys the digests by which encrypted identity numbers are found, so it never changes
    once a database holds data: unlike ``FIELD_ENCRYPTION_KEYS`` it has no rotation.
    """
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"{name} is not valid base64") from exc
    if len(key) != 32:
        raise ConfigurationError(f"{name} must be 32 bytes, got {len(key)}")
    return key

"""Development and demo: runs with nothing set at all.

Without ``DATABASE_URL`` an embedded PostgreSQL is started; without ``SECRET_KEY`` and
``FIELD_ENCRYPTION_KEYS`` keys are generated once into ``.local/dev-secrets.json`` (ignored by
git) so that encrypted demo data stays readable between runs. Without ``REDIS_URL`` Celery runs
tasks eagerly in the web process.
"""

from __future__ import annotations

import base64
import json
import secrets

from config.embedded_db import embedded_databases
from config.settings import env
from config.settings.base import *  # noqa: F403
from config.settings.base import LOCAL_DIR


def _dev_secrets() -> dict[str, str]:
    path = LOCAL_DIR / "dev-secrets.json"
    generated = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEYS": "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "IDENTITY_DIGEST_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        if generated.keys() <= loaded.keys():
            return loaded
        # A file from before a secret was added: keep what it holds, add the new one.
        generated.update(loaded)
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(generated))
    path.chmod(0o600)
    return generated


_generated = _dev_secrets()

# Off for the demo: Django's technical error pages repeat the address, the settings and the
# request (an address may hold a personnummer), and they hide the product's own error pages.
# DEBUG=true turns them on for a developer's own machine.
DEBUG = env.flag("DEBUG", default=False)
SECRET_KEY = env.raw("SECRET_KEY") or _generated["SECRET_KEY"]
FIELD_ENCRYPTION_KEYS = env.encryption_keys(
    env.raw("FIELD_ENCRYPTION_KEYS") or _generated["FIELD_ENCRYPTION_KEYS"]
)
IDENTITY_DIGEST_KEY = env.digest_key(
    env.raw("IDENTITY_DIGEST_KEY") or _generated["IDENTITY_DIGEST_KEY"]
)
ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# The application role as "default"; the owner of the tables as "owner", for
# `manage.py migrate --database owner` only (docs/operations.md, "Database roles").
DATABASES = env.databases(app_required=False) or embedded_databases(LOCAL_DIR)

REDIS_URL = env.raw("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
# The demo needs no Redis: tasks then run in the web process at enqueue time.
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True

# Serve static files straight from the finders: no collectstatic outside production.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

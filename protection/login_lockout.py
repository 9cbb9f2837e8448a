"""Login throttling with django-axes: what it keeps, and the lockout on the log review.

After ``AXES_FAILURE_LIMIT`` failed logins for one username the account is locked out for
``AXES_COOLOFF_TIME``, whichever machine asks (config/settings/base.py). Axes keeps a row per
locked-out name; it is given a keyed digest of the name, never the name itself, because what
someone types into the username field may be a personnummer (LEAK-1), and the digest serves to
count the failures just as well. The lockout is recorded as an account event
(``protection.services.accounts.account_lockout_record``) and so shows on the log review.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from protection.services.accounts import account_lockout_record

USERNAME_FIELD = "username"


def _typed_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    if credentials and credentials.get(USERNAME_FIELD):
        return str(credentials[USERNAME_FIELD])
    data = getattr(request, "data", None) or request.POST
    return str(data.get(USERNAME_FIELD, ""))


def username_digest(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """``AXES_USERNAME_CALLABLE``: the name axes counts failures under, and stores."""
    typed = _typed_username(request, credentials)
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"axes-username:" + typed.encode(), hashlib.sha256).hexdigest()


def lockout_recorded(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
    """Receiver of axes' ``user_locked_out``: hands the lockout to the service that records it
    (decides nothing itself)."""
    credentials = getattr(request, "axes_credentials", None)
    account_lockout_record(username=_typed_username(request, credentials))


def connect() -> None:
    """Called once from ``ProtectionConfig.ready``."""
    from axes.signals import user_locked_out

    user_locked_out.connect(lockout_recorded, dispatch_uid="protection.login_lockout")

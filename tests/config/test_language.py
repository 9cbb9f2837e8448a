"""The language a request asks for is active for that request only: the thread it ran in gets
its earlier language back, so that the next request, test or task does not inherit it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("before", "cookie", "answered"), [("en", None, "sv"), ("sv", "en", "en")])
def test_a_request_does_not_leave_its_language_active_in_the_thread(
    client: Client, before: str, cookie: str | None, answered: str
) -> None:
    if cookie is not None:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    with translation.override(before):
        response = client.get("/accounts/login/")
        # The page was served in the request's language ...
        assert response["Content-Language"] == answered
        assert f'<html lang="{answered}">' in response.content.decode()
        # ... and the thread speaks what it spoke before the request.
        assert translation.get_language() == before


def test_a_request_leaves_no_language_active_where_none_was(client: Client) -> None:
    translation.deactivate_all()
    try:
        client.get("/accounts/login/")
        # Django's fallback when nothing is active, not the request's Swedish.
        assert translation.get_language() is None
    finally:
        translation.deactivate()

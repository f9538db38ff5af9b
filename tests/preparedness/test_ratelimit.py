"""Sign-in rate limiting: after too many failures for a username, the page and
the token API refuse even the right password for a while; other users and
exempt load-test accounts are not affected."""

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tests.factories import make_user

pytestmark = pytest.mark.django_db
LIMITS = {
    "failures_per_username": 3,
    "failures_per_address": 100,
    "window_seconds": 600,
}


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


@override_settings(SALASAFE_LOGIN_LIMITS=LIMITS)
def test_the_sign_in_page_pauses_a_username_after_repeated_failures():
    make_user("official")
    make_user("other")
    client = Client()
    for _ in range(3):
        assert sign_in(client, "official", "wrong").status_code == 200
    paused = sign_in(client, "official", "pw-official")
    assert paused.status_code == 200  # the form again, not a redirect
    assert (
        "Too many failed sign-ins. Try again in 10 minutes." in paused.content.decode()
    )
    assert "_auth_user_id" not in client.session
    assert sign_in(Client(), "other", "pw-other").status_code == 302
    cache.clear()  # the window has passed
    assert sign_in(client, "official", "pw-official").status_code == 302


@override_settings(SALASAFE_LOGIN_LIMITS=LIMITS)
def test_a_success_resets_the_count():
    make_user("official")
    client = Client()
    for _ in range(2):
        sign_in(client, "official", "wrong")
    assert sign_in(client, "official", "pw-official").status_code == 302
    for _ in range(2):
        sign_in(Client(), "official", "wrong")
    assert sign_in(Client(), "official", "pw-official").status_code == 302


@override_settings(SALASAFE_LOGIN_LIMITS=LIMITS)
def test_the_token_api_answers_429_when_paused():
    make_user("script")
    api = APIClient()
    for _ in range(3):
        bad = api.post("/api/auth/token/", {"username": "script", "password": "no"})
        assert bad.status_code == 400
    paused = api.post(
        "/api/auth/token/", {"username": "script", "password": "pw-script"}
    )
    assert paused.status_code == 429
    assert "Too many failed sign-ins" in paused.json()["detail"][0]


@override_settings(SALASAFE_LOGIN_LIMITS={**LIMITS, "exempt_usernames": ["loadtest"]})
def test_exempt_load_test_accounts_are_never_paused():
    make_user("loadtest")
    client = Client()
    for _ in range(5):
        sign_in(client, "loadtest", "wrong")
    assert sign_in(client, "loadtest", "pw-loadtest").status_code == 302

"""Sign-in rate limiting: too many failed sign-ins for one username, or from one
address, pause sign-in for that username or address.

Counts live in Django's cache, which is the database by default, so every app
server process behind a load balancer sees the same counts. Usernames listed
in `SALASAFE_LOGIN_LIMITS["exempt_usernames"]` (load-test accounts) are not
limited.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _limits() -> dict:
    return {
        "failures_per_username": 10,
        "failures_per_address": 100,
        "window_seconds": 900,
        "exempt_usernames": [],
        **getattr(settings, "SALASAFE_LOGIN_LIMITS", {}),
    }


def client_address(request: HttpRequest) -> str:
    """The client's address (the proxy's `X-Forwarded-For` only when trusted)."""
    if getattr(settings, "SALASAFE_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def _keys(username: str, address: str) -> tuple[str, str]:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:user:{digest}", f"login-failures:addr:{address}"


def sign_in_paused(username: str, address: str) -> bool:
    """Whether sign-in is paused for this username or address."""
    limits = _limits()
    if username in limits["exempt_usernames"]:
        return False
    user_key, addr_key = _keys(username, address)
    counts = cache.get_many([user_key, addr_key])
    return (
        counts.get(user_key, 0) >= limits["failures_per_username"]
        or counts.get(addr_key, 0) >= limits["failures_per_address"]
    )


def sign_in_failed(username: str, address: str) -> None:
    """Count a failed sign-in; counts expire `window_seconds` after the first."""
    window = _limits()["window_seconds"]
    for key in _keys(username, address):
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)


def sign_in_succeeded(username: str, address: str) -> None:
    cache.delete(_keys(username, address)[0])


def minutes() -> int:
    return max(1, _limits()["window_seconds"] // 60)

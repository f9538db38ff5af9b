"""A short server-side cache of what readers read.

During a flood everyone opens the same map at once: the same vector tiles, the
same province lists, the same bounding box through OGC API. What an anonymous
visitor gets is the same for every anonymous visitor (the public view: sensitive
services generalised, no checklist details), so SalaSafe keeps those answers and
serves them again without building them: one look-up by key instead of the
queries and the serialising.

Never stale: every key holds the data version (`preparedness.data_version`),
read before the answer is built, which moves with every committed change to the
data, so an answer kept before a change is never served after it. Answers are
kept at most `SALASAFE_PUBLIC_CACHE_SECONDS` (default 60; 0 turns the cache
off), which bounds the few that depend on the clock (an action overdue today).

Signed-in readers: on the paths of `SALASAFE_SIGNED_IN_CACHE_PREFIXES` (OGC API
and vector tiles), what a reader sees depends on nothing about them but their
role and areas (`preparedness.access.access_for`: which services, which
details), so their answers are kept under that audience: one coordinator's
answer serves every coordinator, never an official or the public. The reader is
found as Django REST framework finds them (the session's user, else an API
token); a request whose token is refused is not cached (its view refuses it).
Elsewhere a request that carries a session cookie or an `Authorization` header
is never answered from, nor stored in, this cache.

Only answers that are the same for their whole audience are kept: a GET whose
path starts with one of `SALASAFE_PUBLIC_CACHE_PREFIXES`, status 200, not HTML
(pages carry a per-response CSP nonce and CSRF token), setting no cookie, not
marked `no-store` or `no-cache` (nor `private`, for the public), and at most
`SALASAFE_PUBLIC_CACHE_MAX_BYTES`. A streamed answer (an export) is still
streamed; its chunks are kept as they pass until the limit, and the answer is
stored only once streamed whole, so memory stays bounded and a client that hangs
up leaves nothing behind. The key holds the scheme, host, full path with its
query, the audience, the data version and the request headers the answer may
depend on (Accept, Accept-Language, the language cookie, whether gzip is
accepted), so the gzipped body kept for one client is never sent to a client
that did not ask for gzip. The store is the `public` cache alias: a database
table by default (migration preparedness 0005), so every process and every
server behind the load balancer shares each kept answer; any Django cache
backend works (Redis, or per-process memory).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from preparedness.access import access_for
from preparedness.data_version import data_version

ALIAS = "public"
# Each process also keeps the answers it serves in memory (small ones only), so
# a hit costs no look-up in the shared store; the data version in the key keeps
# them as fresh as the shared ones.
LOCAL_ALIAS = "public_local"
LOCAL_MAX_BYTES = 512 * 1024
PUBLIC = "public"
# Cache-Control words that keep an answer out of the cache; `private` only for
# the public (a signed-in answer is kept for its own audience).
SKIP_CONTROL = ("no-store", "no-cache")


def audience(request: HttpRequest) -> str | None:
    """Who a cacheable read is answered for: `PUBLIC`, a signed-in reader's
    role and areas, or None when the request must not touch the cache."""
    if (
        settings.SALASAFE_PUBLIC_CACHE_SECONDS <= 0
        or request.method != "GET"
        or not request.path.startswith(tuple(settings.SALASAFE_PUBLIC_CACHE_PREFIXES))
    ):
        return None
    signed = (
        settings.SESSION_COOKIE_NAME in request.COOKIES
        or "HTTP_AUTHORIZATION" in request.META
    )
    if not signed:
        return PUBLIC
    if not request.path.startswith(tuple(settings.SALASAFE_SIGNED_IN_CACHE_PREFIXES)):
        return None
    return _reader_audience(request)


def _reader_audience(request: HttpRequest) -> str | None:
    """The audience of a request with a session cookie or credentials, found as
    the API views find the reader: the session's user, else a token's."""
    user: Any = AnonymousUser()
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key:
        engine = import_module(settings.SESSION_ENGINE)
        # SessionMiddleware (which runs after this one) sets its own on a miss.
        request.session = engine.SessionStore(session_key)
        user = auth.get_user(request)
    if not user.is_authenticated and "HTTP_AUTHORIZATION" in request.META:
        try:
            found = TokenAuthentication().authenticate(request)  # type: ignore[arg-type]
        except AuthenticationFailed:
            return None  # the view refuses it
        if found is None:
            return None  # not a token: let the view decide
        user = found[0]
    if not user.is_authenticated:
        return PUBLIC
    access = access_for(user)
    areas = ",".join(sorted(access.area_codes))
    return f"reader:{access.role}:{access.organization_id}:{areas}"


def cacheable_response(response: HttpResponseBase, audience: str = PUBLIC) -> bool:
    """Whether an answer is the same for its whole audience and, unless streamed
    (its size is checked as it streams), small enough."""
    if response.status_code != 200 or response.cookies:
        return False
    if response.get("Content-Type", "").startswith("text/html"):
        return False
    control = response.get("Cache-Control", "")
    skip = SKIP_CONTROL + (("private",) if audience == PUBLIC else ())
    if any(word in control for word in skip):
        return False
    if response.streaming:
        return True
    assert isinstance(response, HttpResponse)
    return len(response.content) <= settings.SALASAFE_PUBLIC_CACHE_MAX_BYTES


def cache_key(request: HttpRequest, audience: str, version: str) -> str:
    """The request's address, audience, the data version and the headers its
    answer may vary on."""
    meta = request.META
    parts = (
        audience,
        version,
        request.scheme or "",
        request.get_host(),
        request.get_full_path(),
        meta.get("HTTP_ACCEPT", ""),
        meta.get("HTTP_ACCEPT_LANGUAGE", ""),
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
        "gzip" if "gzip" in meta.get("HTTP_ACCEPT_ENCODING", "") else "",
    )
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f"public:{digest}"


class PublicCacheMiddleware:
    """Serve reads of public paths from a short shared cache, per audience."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        reader = audience(request)
        if reader is None:
            return self.get_response(request)
        # Read before the answer is built: it holds this version's data or newer.
        key = cache_key(request, reader, str(data_version()))
        kept = _kept(key)
        if kept is not None:
            return _replayed(*kept)
        response = self.get_response(request)
        if not cacheable_response(response, reader):
            return response
        entry = (time.time(), response.status_code, list(response.items()))
        if isinstance(response, StreamingHttpResponse):
            chunks = response.streaming_content  # WSGI: a plain iterator
            response.streaming_content = _kept_whole(chunks, key, entry)  # type: ignore[arg-type]
        else:
            assert isinstance(response, HttpResponse)
            _keep(key, (*entry, response.content))
        return response


def _seconds() -> int:
    return int(settings.SALASAFE_PUBLIC_CACHE_SECONDS)


Kept = tuple[float, int, list[tuple[str, str]], bytes]


def _kept(key: str) -> Kept | None:
    """The answer kept under `key`: from this process's memory, else from the
    shared store (then remembered here for the rest of its time, if small)."""
    kept: Kept | None = caches[LOCAL_ALIAS].get(key)
    if kept is None:
        kept = caches[ALIAS].get(key)
        if kept is not None:
            _remember(key, kept)
    return kept


def _remember(key: str, kept: Kept) -> None:
    """Keep a small answer in this process's memory for the rest of its time."""
    left = _seconds() - (time.time() - kept[0])
    if len(kept[3]) <= LOCAL_MAX_BYTES and left >= 1:
        caches[LOCAL_ALIAS].set(key, kept, int(left))


def _keep(key: str, kept: Kept) -> None:
    """Keep an answer in the shared store and in this process's memory."""
    caches[ALIAS].set(key, kept, _seconds())
    _remember(key, kept)


def _kept_whole(
    chunks: Iterable[bytes],
    key: str,
    entry: tuple[float, int, list[tuple[str, str]]],
) -> Iterator[bytes]:
    """The chunks of a streamed answer, stored once all have gone out and only
    if together they are within the size limit."""
    kept: list[bytes] | None = []
    size = 0
    for chunk in chunks:
        if kept is not None:
            size += len(chunk)
            if size <= settings.SALASAFE_PUBLIC_CACHE_MAX_BYTES:
                kept.append(bytes(chunk))
            else:
                kept = None  # too large: stream on, keep nothing
        yield chunk
    if kept is not None:
        _keep(key, (*entry, b"".join(kept)))


def _replayed(
    stored_at: float, status: int, headers: list[tuple[str, str]], content: bytes
) -> HttpResponse:
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    response["Age"] = str(int(time.time() - stored_at))
    return response


def clear() -> None:
    """Forget every kept answer (tests; an operator after a correction): the
    shared ones, and this process's."""
    caches[ALIAS].clear()
    caches[LOCAL_ALIAS].clear()

"""A short server-side cache of what anonymous visitors read.

During a flood everyone opens the same map at once: the same vector tiles, the
same province lists, the same bounding box through OGC API. What an anonymous
visitor gets is the same for every anonymous visitor (the public view: sensitive
services generalised, no checklist details), so SalaSafe keeps those answers
`SALASAFE_PUBLIC_CACHE_SECONDS` (default 60, as the map's province shading)
and serves them again without building them: one look-up by key instead of the
queries and the serialising. The public may therefore see a change up to that
many seconds late; anyone signed in always reads fresh data, and so does any
request that carries a session cookie or an `Authorization` header, whoever it
is: those requests are never answered from, nor stored in, this cache.

Only answers that are the same for everyone are kept: a GET whose path starts
with one of `SALASAFE_PUBLIC_CACHE_PREFIXES`, status 200, not HTML (pages carry
a per-response CSP nonce and CSRF token), setting no cookie, not marked
`private` or `no-store`, and at most `SALASAFE_PUBLIC_CACHE_MAX_BYTES`. A
streamed answer (an export) is still streamed; its chunks are kept as they pass
until the limit, and the answer is stored only once streamed whole, so memory
stays bounded and a client that hangs up leaves nothing behind. The key holds the
scheme, host, full path with its query and the request headers the answer may
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

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)

ALIAS = "public"
SKIP_CONTROL = ("private", "no-store", "no-cache")


def cacheable_request(request: HttpRequest) -> bool:
    """Whether a request reads the public view of a public path."""
    return (
        settings.SALASAFE_PUBLIC_CACHE_SECONDS > 0
        and request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
        and request.path.startswith(tuple(settings.SALASAFE_PUBLIC_CACHE_PREFIXES))
    )


def cacheable_response(response: HttpResponseBase) -> bool:
    """Whether an answer is the same for everyone and, unless streamed (its
    size is checked as it streams), small enough."""
    if response.status_code != 200 or response.cookies:
        return False
    if response.get("Content-Type", "").startswith("text/html"):
        return False
    control = response.get("Cache-Control", "")
    if any(word in control for word in SKIP_CONTROL):
        return False
    if response.streaming:
        return True
    assert isinstance(response, HttpResponse)
    return len(response.content) <= settings.SALASAFE_PUBLIC_CACHE_MAX_BYTES


def cache_key(request: HttpRequest) -> str:
    """The request's address and the headers its answer may vary on."""
    meta = request.META
    parts = (
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
    """Serve anonymous reads of public paths from a short shared cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not cacheable_request(request):
            return self.get_response(request)
        store = caches[ALIAS]
        key = cache_key(request)
        kept: tuple[float, int, list[tuple[str, str]], bytes] | None = store.get(key)
        if kept is not None:
            return _replayed(*kept)
        response = self.get_response(request)
        if not cacheable_response(response):
            return response
        entry = (time.time(), response.status_code, list(response.items()))
        if isinstance(response, StreamingHttpResponse):
            chunks = response.streaming_content  # WSGI: a plain iterator
            response.streaming_content = _kept_whole(chunks, store, key, entry)  # type: ignore[arg-type]
        else:
            assert isinstance(response, HttpResponse)
            store.set(key, (*entry, response.content), _seconds())
        return response


def _seconds() -> int:
    return int(settings.SALASAFE_PUBLIC_CACHE_SECONDS)


def _kept_whole(
    chunks: Iterable[bytes], store: BaseCache, key: str, entry: tuple[object, ...]
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
        store.set(key, (*entry, b"".join(kept)), _seconds())


def _replayed(
    stored_at: float, status: int, headers: list[tuple[str, str]], content: bytes
) -> HttpResponse:
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    response["Age"] = str(int(time.time() - stored_at))
    return response


def clear() -> None:
    """Forget every kept answer (tests; an operator after a correction)."""
    caches[ALIAS].clear()

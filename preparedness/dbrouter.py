"""Read replica routing: read-only endpoints read from `replica`, the rest from
the primary.

`ReplicaMiddleware` marks a safe-method request (GET, HEAD, OPTIONS) whose path
starts with one of `SALASAFE_REPLICA_PREFIXES` (a context variable, so threads
and requests never share it); `ReplicaRouter` sends the reads of a marked
request to `SALASAFE_READ_REPLICA`. Writes always go to the primary, and once a
request writes, or while it is inside a transaction on the primary, its reads go
there too, so it reads what it wrote. Streamed responses (exports) keep the mark
while each chunk is produced. Without `DATABASE_REPLICA_URL` nothing is marked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The replica alias the current request may read from; None: the primary.
_replica: ContextVar[str | None] = ContextVar("salasafe_read_replica", default=None)


def replica_for(request: HttpRequest) -> str | None:
    """The replica alias for a request's reads, or None for the primary."""
    alias: str | None = settings.SALASAFE_READ_REPLICA
    if alias is None or request.method not in SAFE_METHODS:
        return None
    prefixes: list[str] = settings.SALASAFE_REPLICA_PREFIXES
    return alias if request.path.startswith(tuple(prefixes)) else None


class ReplicaMiddleware:
    """Mark read-only requests so that their reads go to the replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        alias = replica_for(request)
        token = _replica.set(alias)
        try:
            response = self.get_response(request)
        finally:
            _replica.reset(token)
        if alias is not None and isinstance(response, StreamingHttpResponse):
            chunks = response.streaming_content  # WSGI: a plain iterator
            response.streaming_content = _marked(chunks, alias)  # type: ignore[arg-type]
        return response


def _marked(chunks: Iterable[Any], alias: str) -> Iterator[Any]:
    """The chunks of a streamed response, each produced with the replica mark."""
    iterator = iter(chunks)
    while True:
        token = _replica.set(alias)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _replica.reset(token)
        yield chunk


class ReplicaRouter:
    """Reads of marked requests from the replica; every write to the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        alias = _replica.get()
        if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model: type, **hints: Any) -> str:
        _replica.set(None)  # the rest of this request reads what it wrote
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # a replica follows its primary

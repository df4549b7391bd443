"""Who may do what: ingest keys write events to their own project only, admin tokens read and manage.

Keys are looked up in the store and cached briefly; when the database is down a key seen before stays
usable, so ingest keeps spooling instead of turning clients away."""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from recoup.store import ProjectKey, Store, StoreUnavailable

if TYPE_CHECKING:
    from recoup.server.state import ServerState

KEY_TTL_SECONDS = 5.0


class KeyCache:
    """public key -> ProjectKey, refreshed after ``ttl`` seconds; the last good answer survives outages."""

    def __init__(self, store: Store, *, ttl: float = KEY_TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[ProjectKey | None, float]] = {}

    async def lookup(self, public_key: str) -> ProjectKey | None:
        now = self._clock()
        cached = self._entries.get(public_key)
        if cached is not None and now - cached[1] < self._ttl:
            return cached[0]
        try:
            key = await run_in_threadpool(self._store.get_project_by_key, public_key, include_inactive=True)
        except StoreUnavailable:
            if cached is not None and cached[0] is not None:
                return cached[0]
            raise HTTPException(503, "the database is unreachable and this key has not been seen yet") from None
        self._entries[public_key] = (key, now)
        return key

    def forget(self, public_key: str) -> None:
        self._entries.pop(public_key, None)


async def authorize_ingest(cache: KeyCache, public_key: str | None, project_id: int | None = None) -> ProjectKey:
    """The key's record, or 401 (missing/unknown), 403 (revoked, or another project's key)."""
    if not public_key:
        raise HTTPException(401, "missing ingest key", headers={"WWW-Authenticate": "Bearer"})
    key = await cache.lookup(public_key)
    if key is None:
        raise HTTPException(401, "unknown ingest key", headers={"WWW-Authenticate": "Bearer"})
    if not key.active:
        raise HTTPException(403, "this ingest key has been revoked")
    if project_id is not None and key.project.id != project_id:
        raise HTTPException(403, f"this key may not write to project {project_id}")
    return key


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class KeyRateLimiter:
    """A token bucket per ingest key, in events per minute (burst = one minute's worth).

    With ``workers`` > 1 this is one of that many server processes, each with its own buckets, so every
    limit (a key's own, or the default) is divided by ``workers``, rounded up. Approximate across workers:
    the kernel spreads connections unevenly, so a key may be refused a little below its limit (or pass a
    little above it briefly); a batch bigger than limit/workers events never fits in one worker's minute."""

    def __init__(
        self, default_per_minute: int | None, *, workers: int = 1, clock: Callable[[], float] = time.monotonic
    ):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers!r}")
        self._default = default_per_minute
        self._workers = workers
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def admit(self, key: ProjectKey, events: int = 1) -> float | None:
        """None when ``events`` may pass (and they are counted), else the seconds until they could."""
        limit = key.rate_limit_per_minute or self._default
        if limit is None:
            return None
        if self._workers > 1:
            limit = max(1, math.ceil(limit / self._workers))
        rate = limit / 60.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key.public_key)
            if bucket is None:
                bucket = self._buckets[key.public_key] = _Bucket(float(limit), now)
            bucket.tokens = min(float(limit), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= events:
                bucket.tokens -= events
                return None
            if events > limit:
                return 60.0  # a batch bigger than a minute's allowance never fits; ask for a full minute
            return (events - bucket.tokens) / rate


def too_many_requests(retry_after: float) -> HTTPException:
    seconds = max(1, math.ceil(retry_after))
    return HTTPException(429, f"rate limit exceeded; retry after {seconds}s", headers={"Retry-After": str(seconds)})


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_configured_admin_token(state: ServerState, token: str) -> bool:
    """Whether ``token`` is the admin token from the settings (no database needed)."""
    configured = state.settings.admin_token
    return configured is not None and hmac.compare_digest(token.encode(), configured.encode())


async def is_admin_token(state: ServerState, token: str) -> bool:
    """Whether ``token`` is an admin token: the configured one, or a live one in the store (which may
    raise `StoreUnavailable`)."""
    if is_configured_admin_token(state, token):
        return True
    return await run_in_threadpool(state.store.verify_admin_token, token)


async def require_admin(request: Request) -> None:
    """FastAPI dependency for the read and management API: a valid admin token or 401/403."""
    from recoup.server.state import get_state

    state = get_state(request)
    token = bearer_token(request)
    if token is None:
        raise HTTPException(401, "an admin token is required (Authorization: Bearer ...)",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        valid = await is_admin_token(state, token)
    except StoreUnavailable:
        raise HTTPException(503, "the database is unreachable; cannot verify the admin token") from None
    if not valid:
        raise HTTPException(403, "invalid or revoked admin token")

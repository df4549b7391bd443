"""Redis-backed state: one breaker or token bucket shared by every process and host using its name.

Only this module imports redis-py (``pip install recoup[redis]``); ``import recoup`` never does.

Atomicity comes from Lua scripts run with EVALSHA (redis-py's `Script` loads them on NOSCRIPT):

* Breakers: the breaker's decision logic stays in Python (one implementation for every store), and
  a compare-and-set script writes the new state only if nobody wrote since it was read; on a
  conflict the script returns the fresh state and the pure decision is re-run on it. Writers in one
  process take turns (a lock per name, held only for the compare-and-set round trips, never for a
  read-only decision), so a hundred concurrent callers of one breaker do not collide with each other
  and conflicts come only from other processes; those are retried after a short jittered pause that
  grows with each conflict, so writers from several processes spread out instead of colliding again
  in lockstep. A decision
  that changes nothing costs one read and no write, so a healthy call through a closed
  consecutive-failures breaker is one round trip (window conditions add a compare-and-set).
* Token buckets: the whole refill-and-take step runs inside one script.

Time is never read on the Redis server: callers pass timestamps (wall-clock seconds from their
injected clock), so tests drive shared state with a fake clock and no sleeps.

Keys: ``{prefix}:breaker:{name}`` (hash: v = version, b = JSON state) and ``{prefix}:bucket:{name}``
(hash: l = level, t = last refill); every write refreshes the key's TTL, so abandoned names vanish.

When Redis is unreachable the store falls back to process-local state, emits STORE_DEGRADED once,
tries Redis again at most every `retry_interval` seconds, and emits STORE_RESTORED when it answers.
What was recorded locally meanwhile is not merged back: Redis's shared state wins again.
"""

from __future__ import annotations

import _thread
import random
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.policies.events import EventKind, PolicyEvent, emit, has_subscribers
from recoup.policies.state import BreakerState, MemoryBreakerStore, MemoryBucketStore

T = TypeVar("T")

_CAS_LUA = """
local cur = redis.call('HGET', KEYS[1], 'v')
if not cur then cur = '0' end
if cur == ARGV[1] then
  redis.call('HSET', KEYS[1], 'v', tostring(tonumber(cur) + 1), 'b', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return {1}
end
return {0, cur, redis.call('HGET', KEYS[1], 'b')}
"""

_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local saved = redis.call('HMGET', KEYS[1], 'l', 't')
local level = tonumber(saved[1])
local last = tonumber(saved[2])
if level == nil or last == nil then
  level = burst
  last = now
end
if now > last then
  level = math.min(burst, level + (now - last) * rate)
  last = now
end
local wait = 0
if level >= tokens then
  level = level - tokens
elseif tokens > burst then
  wait = -1
else
  wait = (tokens - level) / rate
end
redis.call('HSET', KEYS[1], 'l', string.format('%.17g', level), 't', string.format('%.17g', last))
redis.call('EXPIRE', KEYS[1], ARGV[5])
return string.format('%.17g', wait)
"""

#: The errors that mean "Redis is not there", as opposed to a bug in a script.
_UNREACHABLE: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError, OSError)


def _client(url_or_client: str | redis.Redis) -> redis.Redis:
    if isinstance(url_or_client, str):
        # Short timeouts and a single immediate retry (it replaces a pooled connection that a Redis
        # restart broke): a breaker must fail over to local state quickly, not back off for seconds.
        return redis.Redis.from_url(
            url_or_client, socket_connect_timeout=0.5, socket_timeout=1.0, retry=Retry(NoBackoff(), 1)
        )
    return url_or_client


class _RedisLink:
    """A client plus the degraded/restored bookkeeping shared by both stores."""

    def __init__(self, url_or_client: str | redis.Redis, prefix: str, retry_interval: float, clock: Clock):
        self.client = _client(url_or_client)
        self.prefix = prefix
        self.retry_interval = retry_interval
        self.clock = clock
        self.degraded = False
        self._retry_at = 0.0
        self._lock = _thread.allocate_lock()

    def run(self, name: str, op: Callable[[], T], fallback: Callable[[], T]) -> T:
        if self.degraded and self.clock.monotonic() < self._retry_at:
            return fallback()
        try:
            out = op()
        except _UNREACHABLE as exc:
            self._mark_down(name, exc)
            return fallback()
        if self.degraded:
            self._mark_up(name)
        return out

    def _mark_down(self, name: str, exc: BaseException) -> None:
        with self._lock:
            self._retry_at = self.clock.monotonic() + self.retry_interval
            first = not self.degraded
            self.degraded = True
        if first and has_subscribers():
            data = {"store": "redis", "prefix": self.prefix, "error": repr(exc), "fallback": "memory"}
            emit(PolicyEvent(EventKind.STORE_DEGRADED, "store", name, self.clock.wall(), data))

    def _mark_up(self, name: str) -> None:
        with self._lock:
            was = self.degraded
            self.degraded = False
        if was and has_subscribers():
            data = {"store": "redis", "prefix": self.prefix}
            emit(PolicyEvent(EventKind.STORE_RESTORED, "store", name, self.clock.wall(), data))

    def keys(self) -> list[bytes]:
        """Every key under this prefix (for tests and cleanup)."""
        return list(self.client.scan_iter(match=f"{self.prefix}:*"))


class RedisBreakerStore:
    """Breaker state in Redis, shared by name. Falls back to local memory while Redis is away."""

    shared = True

    def __init__(
        self,
        url_or_client: str | redis.Redis = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "recoup",
        ttl: int = 86400,
        retry_interval: float = 5.0,
        max_conflicts: int = 64,
        clock: Clock = SYSTEM_CLOCK,
        conflict_pause: float = 0.0005,
    ) -> None:
        if conflict_pause < 0:
            raise ValueError(f"conflict_pause must not be negative, got {conflict_pause}")
        self._link = _RedisLink(url_or_client, prefix, retry_interval, clock)
        self._conflict_pause = conflict_pause
        self._random = random.Random()
        self._writers: dict[str, threading.Lock] = {}
        self._writers_guard = threading.Lock()
        #: Compare-and-set conflicts met so far (a write by another caller between our read and our write; in-process
        #: writers take turns on a lock, so these are mostly the price of reading without it). Approximate.
        self.conflicts = 0
        self._cas = self._link.client.register_script(_CAS_LUA)
        self._ttl = ttl
        self._max_conflicts = max_conflicts
        self._local = MemoryBreakerStore()

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and state is process-local."""
        return self._link.degraded

    @property
    def client(self) -> redis.Redis:
        return self._link.client

    def key(self, name: str) -> str:
        return f"{self._link.prefix}:breaker:{name}"

    def update(self, name: str, init: Callable[[], BreakerState], fn: Callable[[BreakerState], T]) -> T:
        return self._link.run(
            name, lambda: self._update_remote(name, init, fn), lambda: self._local.update(name, init, fn)
        )

    def _writer_lock(self, name: str) -> threading.Lock:
        lock = self._writers.get(name)
        if lock is None:
            with self._writers_guard:
                lock = self._writers.setdefault(name, threading.Lock())
        return lock

    def _update_remote(self, name: str, init: Callable[[], BreakerState], fn: Callable[[BreakerState], T]) -> T:
        key = self.key(name)
        version, blob = self._link.client.hmget(key, ["v", "b"])
        st = init() if blob is None else BreakerState.from_json(blob)
        before = st.to_json()
        out = fn(st)
        after = st.to_json()
        if after == before:
            return out  # nothing changed: no write, no lock
        with self._writer_lock(name):
            for conflict in range(self._max_conflicts):
                if conflict and self._conflict_pause:
                    # Another process wrote: full jitter over a doubling window (capped at 64 pauses).
                    self._link.clock.sleep(self._random.uniform(0, self._conflict_pause * (1 << min(conflict, 6))))
                reply: list[Any] = self._cas(keys=[key], args=[version or b"0", after, self._ttl])
                if reply[0] == 1:
                    self.conflicts += conflict
                    return out
                version, blob = reply[1], reply[2]
                st = init() if blob is None else BreakerState.from_json(blob)
                before = st.to_json()
                out = fn(st)
                after = st.to_json()
                if after == before:
                    self.conflicts += conflict + 1
                    return out
        raise RuntimeError(f"breaker {name!r}: gave up after {self._max_conflicts} write conflicts")

    def delete(self, name: str) -> None:
        self._link.client.delete(self.key(name))


class RedisBucketStore:
    """Token buckets in Redis, shared by name; refill and take happen atomically in one script."""

    shared = True

    def __init__(
        self,
        url_or_client: str | redis.Redis = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "recoup",
        ttl: int = 3600,
        retry_interval: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._link = _RedisLink(url_or_client, prefix, retry_interval, clock)
        self._take = self._link.client.register_script(_BUCKET_LUA)
        self._ttl = ttl
        self._local = MemoryBucketStore()

    @property
    def degraded(self) -> bool:
        return self._link.degraded

    @property
    def client(self) -> redis.Redis:
        return self._link.client

    def key(self, name: str) -> str:
        return f"{self._link.prefix}:bucket:{name}"

    def take(self, name: str, rate: float, burst: float, tokens: float, now: float) -> float:
        def remote() -> float:
            args: list[str | int] = [repr(float(x)) for x in (rate, burst, tokens, now)]
            args.append(self._ttl)
            wait = float(self._take(keys=[self.key(name)], args=args))
            return float("inf") if wait < 0 else wait

        return self._link.run(name, remote, lambda: self._local.take(name, rate, burst, tokens, now))


__all__ = ["RedisBreakerStore", "RedisBucketStore"]

"""Token buckets shared through the REAL Redis at 127.0.0.1:6379 (never mocked).

The refill is computed from timestamps passed into the Lua script by the limiter's clock, so a
fake clock drives it exactly and nothing sleeps.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator

import pytest
import redis

from recoup.policies.errors import RateLimitedError
from recoup.policies.events import EventKind, PolicyEvent, subscribe
from recoup.policies.ratelimit import RateLimiter
from recoup.policies.redis_store import RedisBucketStore
from recoup.testing import FakeClock

pytestmark = pytest.mark.redis

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"recoup-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(URL)
    keys = list(client.scan_iter(match=f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_two_limiters_share_one_bucket_and_refill_by_the_clock(prefix: str) -> None:
    clock = FakeClock()
    a = RateLimiter(2.0, burst=4, name="api", store=RedisBucketStore(URL, prefix=prefix, ttl=120), clock=clock)
    b = RateLimiter(2.0, burst=4, name="api", store=RedisBucketStore(URL, prefix=prefix), clock=clock)
    assert [a.try_acquire(), b.try_acquire(), a.try_acquire(), b.try_acquire()] == [True] * 4
    assert not a.try_acquire() and not b.try_acquire()
    with pytest.raises(RateLimitedError) as info:
        b.call(lambda: None)
    assert info.value.retry_after == pytest.approx(0.5)
    clock.advance(1.0)  # two tokens back
    assert a.try_acquire() and b.try_acquire() and not a.try_acquire()
    client = redis.Redis.from_url(URL)
    assert [k.decode() for k in client.scan_iter(match=f"{prefix}:*")] == [f"{prefix}:bucket:api"]
    assert 0 < client.ttl(f"{prefix}:bucket:api") <= 120
    client.close()


def test_blocking_limiter_waits_through_the_clock(prefix: str) -> None:
    clock = FakeClock()
    store = RedisBucketStore(URL, prefix=prefix)
    limiter = RateLimiter(4.0, burst=1, block=True, name="slow", store=store, clock=clock)
    for _ in range(3):
        limiter.call(lambda: None)
    assert clock.slept == pytest.approx(0.5)


def test_async_with_a_shared_bucket(prefix: str) -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, burst=2, name="aio", store=RedisBucketStore(URL, prefix=prefix), clock=clock)

    @limiter
    async def work() -> int:
        return 1

    async def scenario() -> int:
        results = await asyncio.gather(*(work() for _ in range(5)), return_exceptions=True)
        return sum(1 for r in results if r == 1)

    assert asyncio.run(scenario()) == 2


def test_two_processes_share_one_rate_limit(prefix: str) -> None:
    """Tokens a child process takes are gone for this process, and the two never exceed the burst."""
    script = textwrap.dedent(
        f"""
        from recoup.policies.ratelimit import RateLimiter
        from recoup.policies.redis_store import RedisBucketStore

        limiter = RateLimiter(0.001, burst=40, name="shared", store=RedisBucketStore({URL!r}, prefix={prefix!r}))
        print(sum(limiter.try_acquire() for _ in range(30)))
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    granted = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        granted.append(int(out.strip()))
    assert sum(granted) == 40  # 60 attempts against a burst of 40, split between two processes
    here = RateLimiter(0.001, burst=40, name="shared", store=RedisBucketStore(URL, prefix=prefix))
    assert not here.try_acquire()


def test_unreachable_redis_falls_back_to_a_local_bucket(prefix: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seen: list[PolicyEvent] = []
    unsubscribe = subscribe(seen.append)
    try:
        clock = FakeClock()
        store = RedisBucketStore(f"redis://127.0.0.1:{port}/0", prefix=prefix, clock=clock)
        limiter = RateLimiter(1.0, burst=2, name="offline", store=store, clock=clock)
        assert [limiter.try_acquire() for _ in range(3)] == [True, True, False]
        assert store.degraded
    finally:
        unsubscribe()
    degraded = [e for e in seen if e.kind is EventKind.STORE_DEGRADED]
    assert len(degraded) == 1 and degraded[0].name == "offline"

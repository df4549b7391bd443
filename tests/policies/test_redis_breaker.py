"""Circuit breakers sharing state through the REAL Redis at 127.0.0.1:6379 (never mocked).

Each test uses its own key prefix and deletes its keys. Time comes from a fake clock passed into
the Lua scripts, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator

import pytest
import redis

from recoup.policies.breaker import CircuitBreaker
from recoup.policies.errors import CircuitOpenError
from recoup.policies.events import EventKind, PolicyEvent, subscribe
from recoup.policies.redis_store import RedisBreakerStore
from recoup.policies.trip import ConsecutiveFailures, FailureRatio
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


@pytest.fixture
def events() -> Iterator[list[PolicyEvent]]:
    seen: list[PolicyEvent] = []
    unsubscribe = subscribe(seen.append)
    yield seen
    unsubscribe()


def boom() -> None:
    raise ConnectionError("down")


def fail_n(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        with pytest.raises(ConnectionError):
            breaker.call(boom)


def test_state_is_shared_by_name_and_namespaced_with_ttl(prefix: str) -> None:
    clock = FakeClock()
    a = CircuitBreaker(
        "payments",
        trip=ConsecutiveFailures(3),
        reset_timeout=10.0,
        store=RedisBreakerStore(URL, prefix=prefix, ttl=600),
        clock=clock,
    )
    b = CircuitBreaker(
        "payments",
        trip=ConsecutiveFailures(3),
        reset_timeout=10.0,
        store=RedisBreakerStore(URL, prefix=prefix, ttl=600),  # a refusal writes nothing: b's write sets the TTL
        clock=clock,
    )
    fail_n(a, 2)
    fail_n(b, 1)  # the third consecutive failure, counted across both
    with pytest.raises(CircuitOpenError) as info:
        a.call(lambda: None)
    assert info.value.retry_after == pytest.approx(10.0)
    assert b.state == "open"

    client = redis.Redis.from_url(URL)
    keys = [k.decode() for k in client.scan_iter(match=f"{prefix}:*")]
    assert keys == [f"{prefix}:breaker:payments"]
    assert 0 < client.ttl(keys[0]) <= 600

    clock.advance(10.0)
    b.call(lambda: None)  # b's probe closes it for everybody
    assert a.state == "closed"
    assert a.metrics()["opens"] == 1 and a.metrics()["rejections"] == 1
    client.close()


def test_healthy_closed_calls_do_not_write(prefix: str) -> None:
    store = RedisBreakerStore(URL, prefix=prefix)
    breaker = CircuitBreaker("quiet", store=store, clock=FakeClock())
    breaker.call(lambda: None)
    assert store.client.exists(store.key("quiet")) == 0  # nothing changed, so nothing was written
    fail_n(breaker, 1)
    assert store.client.hget(store.key("quiet"), "v") == b"1"
    breaker.call(lambda: None)  # resets the count: one write
    breaker.call(lambda: None)  # nothing to reset: no write
    assert store.client.hget(store.key("quiet"), "v") == b"2"


def test_window_condition_and_forced_mode_are_shared(prefix: str) -> None:
    clock = FakeClock()

    def make() -> CircuitBreaker:
        return CircuitBreaker(
            "win",
            trip=FailureRatio(0.5, window=10, min_calls=4),
            store=RedisBreakerStore(URL, prefix=prefix),
            clock=clock,
        )

    a, b = make(), make()
    a.call(lambda: None)
    b.call(lambda: None)
    fail_n(a, 1)
    assert b.state == "closed"
    fail_n(b, 1)  # 2/4 across the two
    assert a.state == "open"
    a.force_open()
    assert b.state == "forced_open"
    b.reset()
    assert a.state == "closed"


def test_threads_with_their_own_clients_count_atomically(prefix: str, events: list[PolicyEvent]) -> None:
    clock = FakeClock()
    threads, per_thread = 6, 25
    breakers = [
        CircuitBreaker(
            "race",
            trip=ConsecutiveFailures(1000),
            reset_timeout=3600.0,
            store=RedisBreakerStore(URL, prefix=prefix),
            clock=clock,
        )
        for _ in range(threads)
    ]
    start = threading.Barrier(threads)

    def worker(breaker: CircuitBreaker) -> None:
        start.wait()
        for _ in range(per_thread):
            with pytest.raises(ConnectionError):
                breaker.call(boom)

    pool = [threading.Thread(target=worker, args=(b,)) for b in breakers]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert breakers[0].metrics()["failures"] == threads * per_thread  # no lost update (compare-and-set)


def test_two_processes_share_one_breaker(prefix: str) -> None:
    """Failures recorded in a child process open the breaker for this process."""
    child = textwrap.dedent(
        f"""
        from recoup.policies.breaker import CircuitBreaker
        from recoup.policies.redis_store import RedisBreakerStore
        from recoup.policies.trip import ConsecutiveFailures

        breaker = CircuitBreaker("shared-db", trip=ConsecutiveFailures(5), reset_timeout=600.0,
                                 store=RedisBreakerStore({URL!r}, prefix={prefix!r}))

        def boom():
            raise ConnectionError("db down")

        for _ in range(5):
            try:
                breaker.call(boom)
            except ConnectionError:
                pass
        print(breaker.state)
        """
    )
    here = CircuitBreaker(
        "shared-db", trip=ConsecutiveFailures(5), reset_timeout=600.0, store=RedisBreakerStore(URL, prefix=prefix)
    )
    here.call(lambda: None)
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "open"
    with pytest.raises(CircuitOpenError) as info:
        here.call(lambda: None)
    assert info.value.retry_after is not None and 500.0 < info.value.retry_after <= 600.0


def test_two_processes_failing_concurrently_lose_no_count(prefix: str) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from recoup.policies.breaker import CircuitBreaker
        from recoup.policies.redis_store import RedisBreakerStore
        from recoup.policies.trip import ConsecutiveFailures

        breaker = CircuitBreaker("tally", trip=ConsecutiveFailures(10_000),
                                 store=RedisBreakerStore({URL!r}, prefix={prefix!r}))

        def boom():
            raise ConnectionError("x")

        for _ in range(int(sys.argv[1])):
            try:
                breaker.call(boom)
            except ConnectionError:
                pass
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, "150"]) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    breaker = CircuitBreaker("tally", trip=ConsecutiveFailures(10_000), store=RedisBreakerStore(URL, prefix=prefix))
    assert breaker.metrics()["failures"] == 300


def test_async_calls_through_a_shared_store(prefix: str) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        "aio", trip=ConsecutiveFailures(2), store=RedisBreakerStore(URL, prefix=prefix), clock=clock
    )

    @breaker
    async def fetch(fail: bool) -> str:
        await asyncio.sleep(0)
        if fail:
            raise ConnectionError("x")
        return "ok"

    async def scenario() -> None:
        assert await fetch(False) == "ok"
        for _ in range(2):
            with pytest.raises(ConnectionError):
                await fetch(True)
        with pytest.raises(CircuitOpenError):
            async with breaker:
                pass

    asyncio.run(scenario())


# --- Redis unreachable -----------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proxy:
    """A TCP forwarder to the real Redis that can be switched off and on (to take Redis 'away')."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", 6379))
            self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self._listener.close()
            self._listener = None
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._conns.clear()


def test_unreachable_redis_falls_back_to_local_state(prefix: str, events: list[PolicyEvent]) -> None:
    clock = FakeClock()
    store = RedisBreakerStore(f"redis://127.0.0.1:{closed_port()}/0", prefix=prefix, retry_interval=5.0, clock=clock)
    breaker = CircuitBreaker("offline", trip=ConsecutiveFailures(2), reset_timeout=30.0, store=store, clock=clock)
    assert breaker.call(lambda: 42) == 42  # works, locally
    assert store.degraded
    fail_n(breaker, 2)
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: None)  # the local breaker still protects
    degraded = [e for e in events if e.kind is EventKind.STORE_DEGRADED]
    assert len(degraded) == 1  # said once, not on every call
    assert degraded[0].data["store"] == "redis" and "error" in degraded[0].data


def test_store_degrades_and_restores_when_redis_comes_back(prefix: str, events: list[PolicyEvent]) -> None:
    clock = FakeClock()
    proxy = Proxy(closed_port())
    proxy.start()
    try:
        store = RedisBreakerStore(f"redis://127.0.0.1:{proxy.port}/0", prefix=prefix, retry_interval=5.0, clock=clock)
        breaker = CircuitBreaker("flappy", trip=ConsecutiveFailures(3), store=store, clock=clock)
        fail_n(breaker, 1)  # recorded in Redis
        assert not store.degraded
        proxy.stop()
        fail_n(breaker, 1)
        assert store.degraded
        attempts: list[int] = []
        real_hmget = store.client.hmget

        def counting_hmget(*args: object, **kwargs: object) -> object:
            attempts.append(1)
            return real_hmget(*args, **kwargs)  # type: ignore[arg-type]

        store.client.hmget = counting_hmget  # type: ignore[method-assign]
        for _ in range(5):
            breaker.call(lambda: None)
        assert attempts == []  # no reconnect attempt before retry_interval has passed
        proxy.start()
        clock.advance(5.0)
        breaker.call(lambda: None)
        assert not store.degraded and attempts  # reconnected on the first call after the interval
        kinds = [e.kind for e in events if e.kind in (EventKind.STORE_DEGRADED, EventKind.STORE_RESTORED)]
        assert kinds == [EventKind.STORE_DEGRADED, EventKind.STORE_RESTORED]
        assert store.client.exists(store.key("flappy")) == 1
    finally:
        proxy.stop()


def test_a_different_configuration_under_the_same_name_starts_its_conditions_afresh(prefix: str) -> None:
    clock = FakeClock()
    old = CircuitBreaker(
        "deploy", trip=FailureRatio(0.5, window=10), store=RedisBreakerStore(URL, prefix=prefix), clock=clock
    )
    fail_n(old, 3)
    new = CircuitBreaker(
        "deploy",
        trip=[ConsecutiveFailures(2), FailureRatio(0.5, window=3, min_calls=3)],
        store=RedisBreakerStore(URL, prefix=prefix),
        clock=clock,
    )
    new.call(lambda: None)
    assert new.metrics()["failures"] == 3  # counters kept
    fail_n(new, 2)
    assert new.state == "open"


def test_refusals_of_a_shared_breaker_write_nothing(prefix: str) -> None:
    clock = FakeClock()
    store = RedisBreakerStore(URL, prefix=prefix)
    breaker = CircuitBreaker("refusing", trip=ConsecutiveFailures(1), reset_timeout=10.0, store=store, clock=clock)
    fail_n(breaker, 1)
    version = store.client.hget(store.key("refusing"), "v")
    for _ in range(5):
        with pytest.raises(CircuitOpenError):
            breaker.call(lambda: None)
    assert store.client.hget(store.key("refusing"), "v") == version  # refused callers only read
    assert breaker.metrics()["rejections"] == 5  # counted in this process


def test_a_hundred_concurrent_writers_in_one_process_never_exhaust_the_conflict_limit(prefix: str) -> None:
    # A window condition writes on every outcome: 100 threads recording at once used to collide until the
    # compare-and-set gave up ("gave up after 64 write conflicts"); in-process writers now take turns.
    store = RedisBreakerStore(URL, prefix=prefix, max_conflicts=3)
    breaker = CircuitBreaker("busy", trip=FailureRatio(0.99, window=1000, min_calls=1000), store=store)
    errors: list[BaseException] = []
    start = threading.Barrier(100)

    def worker() -> None:
        start.wait()
        for _ in range(5):
            try:
                breaker.call(lambda: None)
            except BaseException as exc:  # collected and asserted on below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.client.hget(store.key("busy"), "v") == b"500"  # every outcome written once, none lost

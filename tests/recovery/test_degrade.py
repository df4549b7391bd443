"""Graceful degradation: stale-while-error cache, load shedding through the bulkhead, degraded flags."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from recoup.policies.bulkhead import Bulkhead
from recoup.recovery.config import BreakerConfig, DegradeConfig, EngineConfig
from recoup.recovery.degrade import DegradedFlags, LoadShedder, StaleCache, call_key
from recoup.recovery.engine import RecoveryEngine, recovery_report
from recoup.telemetry.events import Outcome
from recoup.testing import FakeClock


class LockedDb:
    """A real SQLite file; `lock()` holds an exclusive transaction so writers get 'database is locked'."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.holder.execute("create table t (k text primary key, v integer)")
        self.holder.execute("insert into t values ('a', 1)")
        self.locked = False

    def lock(self) -> None:
        self.holder.execute("begin exclusive")
        self.locked = True

    def unlock(self) -> None:
        self.holder.execute("commit")
        self.locked = False

    def read(self, key: str) -> int:
        with sqlite3.connect(self.path, timeout=0) as conn:
            row = conn.execute("select v from t where k = ?", (key,)).fetchone()
            conn.execute("update t set v = v where k = ?", (key,))  # a write: fails while locked
        value: int = row[0]
        return value


@pytest.fixture
def db(tmp_path: Path) -> Iterator[LockedDb]:
    d = LockedDb(tmp_path / "app.db")
    try:
        yield d
    finally:
        if d.locked:
            d.unlock()
        d.holder.close()


def test_resource_error_sheds_load_serves_stale_and_restores(clock: FakeClock, db: LockedDb) -> None:
    bulkhead = Bulkhead(8, name="db")
    freed: list[str] = []
    engine = RecoveryEngine(EngineConfig(seed=1), clock=clock, bulkhead=bulkhead)
    engine.register_cache("query-cache", lambda: freed.append("query-cache"))
    read = engine.recoverable(operation="read", cache=True)(db.read)

    assert read("a") == 1  # a good result is remembered
    db.lock()
    clock.advance(10)
    assert read("a") == 1  # served stale, without waiting
    assert clock.sleeps == []
    assert bulkhead.max_concurrent == 4
    assert freed == ["query-cache"]
    assert engine.degraded and engine.is_degraded("read")
    assert "stale result served" in engine.degraded_operations["read"] or "shedding" in engine.degraded_operations[
        "read"
    ]
    report = engine.last_report
    assert report is not None and report.outcome is Outcome.DEGRADED
    assert "bulkhead 'db' concurrency 8 -> 4" in report.attempts[0].action
    assert "served the cached result from 10.0s ago" in report.attempts[0].action

    db.unlock()
    assert read("a") == 1
    assert not engine.degraded
    assert bulkhead.max_concurrent == 8  # restored after the success


def test_resource_error_without_cache_backs_off_then_gives_up(clock: FakeClock, db: LockedDb) -> None:
    bulkhead = Bulkhead(3, name="db")
    engine = RecoveryEngine(EngineConfig(seed=1), clock=clock, bulkhead=bulkhead)
    db.lock()
    with pytest.raises(sqlite3.OperationalError) as info:
        engine.run(db.read, "a")
    report = recovery_report(info.value)
    assert report is not None and report.outcome is Outcome.GAVE_UP and len(report.attempts) == 4
    assert len(clock.sleeps) == 3
    assert bulkhead.max_concurrent == 1  # shed once per call: 3 -> 1
    assert engine.is_degraded("LockedDb.read")
    db.unlock()
    assert engine.run(db.read, "a") == 1
    assert bulkhead.max_concurrent == 3 and not engine.degraded


def test_stale_result_too_old_is_not_served(clock: FakeClock, db: LockedDb) -> None:
    engine = RecoveryEngine(EngineConfig(seed=1, degrade=DegradeConfig(max_staleness=5)), clock=clock)
    read = engine.recoverable(operation="read", cache=True)(db.read)
    assert read("a") == 1
    db.lock()
    clock.advance(6)
    with pytest.raises(sqlite3.OperationalError):
        read("a")
    assert not engine.is_degraded("read")


def test_stale_served_per_arguments_and_for_transient_categories_only(clock: FakeClock) -> None:
    engine = RecoveryEngine(EngineConfig(seed=1, breaker=BreakerConfig(failure_threshold=4)), clock=clock)
    state = {"down": False, "bug": False}

    @engine.recoverable(operation="lookup", cache=True, max_staleness=60)
    def lookup(key: str) -> str:
        if state["bug"]:
            raise KeyError(key)
        if state["down"]:
            raise ConnectionResetError(104, "Connection reset by peer")
        return key.upper()

    assert lookup("x") == "X"
    state["down"] = True
    assert lookup("x") == "X"
    state["bug"] = True
    with pytest.raises(KeyError):
        lookup("x")  # not transient: the stale value is not a cover for a bug
    state["bug"] = False
    with pytest.raises(ConnectionResetError):
        lookup("y")  # never cached; these failures open the operation's breaker
    state["bug"] = True
    assert lookup("x") == "X"  # the breaker rejects without calling: stale is served


def test_async_stale_and_flag(clock: FakeClock) -> None:
    engine = RecoveryEngine(EngineConfig(seed=1), clock=clock)
    down = False

    @engine.recoverable(operation="feed", cache=True)
    async def feed(n: int) -> list[int]:
        if down:
            raise ConnectionRefusedError(111, "Connection refused")
        return list(range(n))

    async def scenario() -> None:
        nonlocal down
        assert await feed(3) == [0, 1, 2]
        down = True
        assert await feed(3) == [0, 1, 2]
        assert engine.degraded
        down = False
        assert await feed(3) == [0, 1, 2]
        assert not engine.degraded

    asyncio.run(scenario())


# --- the building blocks -----------------------------------------------------------------------------------


def test_stale_cache_lru_and_age(clock: FakeClock) -> None:
    cache = StaleCache(clock, max_entries=2)
    cache.put("a", 1)
    clock.advance(1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert len(cache) == 2
    assert cache.get("a", 100)[0] is False
    found, value, age = cache.get("b", 100)
    assert found and value == 2 and age == 0
    clock.advance(5)
    assert cache.get("b", 4) == (False, None, 5.0)
    assert cache.clear() == 2


def test_call_key_unhashable_arguments() -> None:
    assert call_key("op", (1, "a"), {"k": 2}) == ("op", (1, "a"), (("k", 2),))
    assert call_key("op", ([1],), {}) is None


def test_load_shedder_floor_and_restore() -> None:
    bh = Bulkhead(5, name="w")
    shedder = LoadShedder(bh, 0.5, 2)
    assert shedder.restore() is None
    assert shedder.shed() == "bulkhead 'w' concurrency 5 -> 2"
    assert shedder.shed() is None  # at the floor
    assert shedder.shedding
    assert shedder.restore() == "bulkhead 'w' concurrency 2 -> 5 (restored)"
    assert bh.max_concurrent == 5 and not shedder.shedding


def test_degraded_flags() -> None:
    flags = DegradedFlags()
    assert not flags and "op" not in flags
    flags.set("op", "why")
    assert flags and "op" in flags and flags.snapshot() == {"op": "why"}
    assert flags.clear("op") and not flags.clear("op")

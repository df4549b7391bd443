"""Retry: stop conditions, classification, the original exception, hooks, events, isolation, typing."""

from __future__ import annotations

import asyncio
import functools
import inspect
import shutil
import subprocess
import sys
import textwrap
import typing
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import recoup
from recoup.errors.taxonomy import Category
from recoup.policies import events as events_module
from recoup.policies.backoff import Backoff
from recoup.policies.budget import RetryBudget
from recoup.policies.deadline import deadline_scope
from recoup.policies.events import EventKind, PolicyEvent
from recoup.policies.retry import AttemptRecord, Retry, RetryState, is_async_callable, retry
from recoup.testing import FakeClock, no_waits


class Throttled(ConnectionError):
    """A transient error carrying a server's Retry-After, as HTTP 429/503 clients expose it."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("503 Service Unavailable")
        self.retry_after = retry_after


class Flaky:
    """Fails `failures` times with a fresh transient error, then returns `value`."""

    def __init__(self, failures: int, value: Any = "ok", error: type[Exception] = ConnectionResetError) -> None:
        self.failures = failures
        self.value = value
        self.error = error
        self.calls = 0
        self.raised: list[BaseException] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            exc = self.error(f"failure {self.calls}")
            self.raised.append(exc)
            raise exc
        return self.value


class AsyncFlaky(Flaky):
    async def run(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)
        return self(*args, **kwargs)


class NoSleepClock(FakeClock):
    """A clock whose waits must never be called."""

    def sleep(self, seconds: float) -> None:
        raise AssertionError(f"sleep({seconds}) called")

    async def asleep(self, seconds: float) -> None:
        raise AssertionError(f"asleep({seconds}) called")


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coro

    return asyncio.run(main())


# -- decorator forms ---------------------------------------------------------------------------


def test_bare_decorator_uses_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_real_sleep(seconds: float) -> None:
        raise AssertionError("real sleep with waits disabled")

    monkeypatch.setattr("recoup.clock.time.sleep", no_real_sleep)
    flaky = Flaky(2)

    @retry
    def fetch() -> str:
        return str(flaky())

    with no_waits():
        assert fetch() == "ok"
    assert flaky.calls == 3


def test_configured_decorator_and_top_level_export(clock: FakeClock) -> None:
    flaky = Flaky(4)

    @recoup.retry(attempts=5, backoff=Backoff.constant(1.0), clock=clock)
    def fetch(x: int) -> str:
        return f"{flaky()}-{x}"

    assert fetch(3) == "ok-3"
    assert clock.sleeps == [1.0, 1.0, 1.0, 1.0]


def test_retry_object_wrap_and_call(clock: FakeClock) -> None:
    policy = recoup.Retry(attempts=3, backoff=Backoff.constant(0.5), clock=clock)
    assert policy.wrap(Flaky(2))() == "ok"
    assert policy.call(Flaky(1, value=7)) == 7
    assert policy.call(lambda a, b=0: a + b, 1, b=2) == 3
    assert clock.sleeps == [0.5, 0.5, 0.5]


def test_happy_path_touches_nothing(clock: FakeClock, policy_events: list[PolicyEvent]) -> None:
    policy = Retry(attempts=3, clock=NoSleepClock())
    assert policy.call(Flaky(0)) == "ok"
    assert policy.wrap(Flaky(0))() == "ok"
    assert policy_events == []


# -- classification and filters ---------------------------------------------------------------


def test_non_transient_error_is_not_retried_and_records_its_single_attempt(clock: FakeClock) -> None:
    flaky = Flaky(5, error=ValueError)
    policy = Retry(attempts=5, clock=clock)
    with pytest.raises(ValueError) as info:
        policy.call(flaky)
    assert flaky.calls == 1
    assert info.value is flaky.raised[0]
    assert [a.number for a in info.value.__recoup_attempts__] == [1]  # type: ignore[attr-defined]
    assert getattr(info.value, "__notes__", None) is None  # no traceback noise for a fail-fast error
    assert clock.sleeps == []


def test_on_exception_types(clock: FakeClock) -> None:
    policy = Retry(attempts=4, on=(ValueError, KeyError), backoff=Backoff.constant(0.1), clock=clock)
    assert policy.call(Flaky(2, error=ValueError)) == "ok"
    flaky = Flaky(2)  # ConnectionResetError is transient but not in `on`
    with pytest.raises(ConnectionResetError):
        policy.call(flaky)
    assert flaky.calls == 1


def test_on_single_type_and_predicate(clock: FakeClock) -> None:
    assert Retry(attempts=3, on=ValueError, clock=clock).call(Flaky(2, error=ValueError)) == "ok"
    policy = Retry(attempts=3, on=lambda e: "failure 1" in str(e), clock=clock)
    flaky = Flaky(3, error=ValueError)
    with pytest.raises(ValueError, match="failure 2"):
        policy.call(flaky)
    assert flaky.calls == 2


def test_on_categories(clock: FakeClock) -> None:
    policy = Retry(attempts=3, on_categories={Category.VALIDATION}, clock=clock)
    assert policy.call(Flaky(2, error=ValueError)) == "ok"
    flaky = Flaky(2)
    with pytest.raises(ConnectionResetError):
        policy.call(flaky)
    assert flaky.calls == 1


def test_base_exceptions_are_never_retried(clock: FakeClock) -> None:
    calls = 0

    def interrupted() -> None:
        nonlocal calls
        calls += 1
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Retry(attempts=3, on=BaseException, clock=clock).call(interrupted)
    assert calls == 1


def test_retry_if_result(clock: FakeClock) -> None:
    answers = iter([None, None, 42])
    policy = Retry(attempts=5, retry_if_result=lambda r: r is None, backoff=Backoff.constant(1), clock=clock)
    assert policy.call(lambda: next(answers)) == 42
    assert clock.sleeps == [1, 1]


def test_retry_if_result_returns_last_result_when_attempts_run_out(clock: FakeClock) -> None:
    states: list[RetryState] = []
    policy = Retry(attempts=3, retry_if_result=lambda r: r < 0, on_give_up=states.append, clock=clock)
    answers = iter([-1, -2, -3])
    assert policy.call(lambda: next(answers)) == -3
    assert states[0].stop_reason == "attempts"
    assert states[0].attempt == 3


# -- giving up ---------------------------------------------------------------------------------


def test_gives_up_with_the_original_exception_and_attempts_recorded(clock: FakeClock) -> None:
    flaky = Flaky(10)
    policy = Retry(attempts=3, backoff=Backoff.constant(0.25), clock=clock, name="upstream")
    with pytest.raises(ConnectionResetError) as info:
        policy.call(flaky)
    exc = info.value
    assert exc is flaky.raised[-1]
    assert type(exc) is ConnectionResetError
    records = exc.__recoup_attempts__  # type: ignore[attr-defined]
    assert records == (
        AttemptRecord(1, flaky.raised[0], None, 0.25),
        AttemptRecord(2, flaky.raised[1], None, 0.25),
        AttemptRecord(3, flaky.raised[2], None, None),
    )
    note = "\n".join(exc.__notes__)
    assert "'upstream' gave up (attempts) after 3 attempt(s)" in note
    assert "#1 ConnectionResetError: failure 1 -> waited 0.250s" in note
    assert "#3 ConnectionResetError: failure 3 (final)" in note
    assert exc.__context__ is None  # no implicit chaining from earlier attempts


def test_traceback_points_into_the_failing_function(clock: FakeClock) -> None:
    def deep() -> None:
        raise ConnectionAbortedError("peer went away")

    with pytest.raises(ConnectionAbortedError) as info:
        Retry(attempts=2, clock=clock).call(deep)
    assert info.traceback[-1].name == "deep"


def test_non_retryable_error_after_retries_is_recorded(clock: FakeClock) -> None:
    errors: list[Exception] = [ConnectionResetError("a"), ValueError("bad input")]

    def fn() -> None:
        raise errors.pop(0)

    states: list[RetryState] = []
    with pytest.raises(ValueError) as info:
        Retry(attempts=5, on_give_up=states.append, clock=clock).call(fn)
    assert len(info.value.__recoup_attempts__) == 2  # type: ignore[attr-defined]
    assert states[0].stop_reason == "not_retryable"


def test_single_attempt_gives_up_immediately(clock: FakeClock) -> None:
    with pytest.raises(ConnectionResetError) as info:
        Retry(attempts=1, clock=clock).call(Flaky(1))
    assert len(info.value.__recoup_attempts__) == 1  # type: ignore[attr-defined]
    assert clock.sleeps == []


# -- waits, deadlines, budget, Retry-After -----------------------------------------------------


def test_zero_delay_never_calls_sleep() -> None:
    clock = NoSleepClock()
    policy = Retry(attempts=5, backoff=Backoff.constant(0.0), clock=clock)
    assert policy.call(Flaky(4)) == "ok"
    assert run(policy.acall(AsyncFlaky(4).run)) == "ok"


def test_exponential_schedule_is_slept(clock: FakeClock) -> None:
    backoff = Backoff.exponential(1.0, 2.0, cap=5.0, jitter="none")
    assert Retry(attempts=6, backoff=backoff, clock=clock).call(Flaky(5)) == "ok"
    assert clock.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_timeout_stops_before_a_wait_that_would_end_past_it(clock: FakeClock) -> None:
    def slow_failure() -> None:
        clock.advance(1.0)
        raise ConnectionResetError("slow")

    states: list[RetryState] = []
    policy = Retry(attempts=100, timeout=10.0, backoff=Backoff.constant(2.0), on_give_up=states.append, clock=clock)
    with pytest.raises(ConnectionResetError):
        policy.call(slow_failure)
    # attempts end at t=1, 4, 7, 10: a 2 s wait after t=10 would end past the 10 s timeout
    assert clock.sleeps == [2.0, 2.0, 2.0]
    assert clock.monotonic() <= 10.0
    assert states[0].stop_reason == "deadline"
    assert states[0].attempt == 4
    assert states[0].elapsed == 10.0


def test_contextvar_deadline_is_respected(clock: FakeClock) -> None:
    policy = Retry(attempts=10, backoff=Backoff.constant(1.0), clock=clock)
    flaky = Flaky(10)
    with deadline_scope(clock.monotonic() + 2.5), pytest.raises(ConnectionResetError) as info:
        policy.call(flaky)
    assert clock.sleeps == [1.0, 1.0]
    assert flaky.calls == 3
    assert "gave up (deadline)" in info.value.__notes__[0]


def test_contextvar_deadline_respected_in_async(clock: FakeClock) -> None:
    policy = Retry(attempts=10, backoff=Backoff.constant(1.0), clock=clock)

    async def main() -> None:
        with deadline_scope(clock.monotonic() + 1.5):
            await policy.acall(AsyncFlaky(10).run)

    with pytest.raises(ConnectionResetError):
        run(main())
    assert clock.sleeps == [1.0]


def test_budget_exhaustion_stops_retries_and_is_shared(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.0, min_per_second=0.2, window=10.0, clock=clock)  # 2 retries / window
    first = Retry(attempts=10, backoff=Backoff.constant(0), budget=budget, clock=clock)
    second = Retry(attempts=10, backoff=Backoff.constant(0), budget=budget, clock=clock)
    flaky = Flaky(100)
    states: list[RetryState] = []
    with pytest.raises(ConnectionResetError):
        Retry(attempts=10, backoff=Backoff.constant(0), budget=budget, on_give_up=states.append, clock=clock).call(
            flaky
        )
    assert flaky.calls == 3
    assert states[0].stop_reason == "budget"
    for policy in (first, second):
        other = Flaky(100)
        with pytest.raises(ConnectionResetError):
            policy.call(other)
        assert other.calls == 1


def test_budget_deposits_from_calls(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.5, min_per_second=0.0, window=10.0, clock=clock)
    policy = Retry(attempts=3, backoff=Backoff.constant(0), budget=budget, clock=clock)
    fn = policy.wrap(lambda: 1)
    for _ in range(4):
        fn()
    assert budget.balance() == pytest.approx(2.0)
    assert policy.call(Flaky(2)) == "ok"  # deposit 1 → 2.5 tokens → two retries
    assert budget.balance() == pytest.approx(0.5)


def test_retry_after_is_honoured(clock: FakeClock) -> None:
    errors = [Throttled(7.0), Throttled(0.01)]

    def fn() -> str:
        if errors:
            raise errors.pop(0)
        return "ok"

    policy = Retry(attempts=3, backoff=Backoff.constant(0.5), clock=clock)
    assert policy.call(fn) == "ok"
    assert clock.sleeps == [7.0, 0.5]


def test_retry_after_from_a_real_http_server(clock: FakeClock) -> None:
    import http.server
    import threading
    import urllib.error
    import urllib.request

    hits: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(1)
            if len(hits) == 1:
                self.send_response(503)
                self.send_header("Retry-After", "3")
                self.end_headers()
            else:
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"fine")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    def get() -> bytes:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return bytes(resp.read())
        except urllib.error.HTTPError as err:
            throttled = Throttled(float(err.headers["Retry-After"]))
            raise throttled from err

    try:
        policy = Retry(attempts=3, backoff=Backoff.constant(0.1), clock=clock)
        assert policy.call(get) == b"fine"
    finally:
        server.shutdown()
        server.server_close()
    assert clock.sleeps == [3.0]


# -- hooks and events --------------------------------------------------------------------------


def test_hooks_receive_state(clock: FakeClock) -> None:
    waits: list[tuple[int, float, str]] = []
    gave_up: list[RetryState] = []

    def before_wait(state: RetryState) -> None:
        waits.append((state.attempt, state.next_delay, str(state.last_error)))

    policy = Retry(
        attempts=3,
        backoff=Backoff.linear(1.0, 1.0),
        before_wait=before_wait,
        on_give_up=gave_up.append,
        clock=clock,
    )
    with pytest.raises(ConnectionResetError):
        policy.call(Flaky(9))
    assert waits == [(1, 1.0, "failure 1"), (2, 2.0, "failure 2")]
    assert len(gave_up) == 1
    state = gave_up[0]
    assert state.attempt == 3
    assert state.delays == [1.0, 2.0]
    assert str(state.last_error) == "failure 3"
    assert "stop_reason='attempts'" in repr(state)


def test_events_emitted_with_subscribers(clock: FakeClock, policy_events: list[PolicyEvent]) -> None:
    policy = Retry(attempts=3, backoff=Backoff.constant(0.5), clock=clock, name="svc")
    policy.call(Flaky(1))
    kinds = [e.kind for e in policy_events]
    assert kinds == [EventKind.RETRY_SCHEDULED, EventKind.ATTEMPT, EventKind.SUCCEEDED]
    assert all(e.policy == "retry" and e.name == "svc" for e in policy_events)
    assert policy_events[0].data["delay"] == 0.5
    assert policy_events[1].data["attempt"] == 2
    assert policy_events[2].data["attempts"] == 2
    policy_events.clear()
    with pytest.raises(ConnectionResetError):
        policy.call(Flaky(5))
    assert [e.kind for e in policy_events][-1] is EventKind.GAVE_UP
    assert policy_events[-1].data["reason"] == "attempts"


def test_default_event_name_is_function_qualname(clock: FakeClock, policy_events: list[PolicyEvent]) -> None:
    flaky = Flaky(1)

    def fetch_user() -> Any:
        return flaky()

    Retry(attempts=2, backoff=Backoff.constant(0), clock=clock).call(fetch_user)
    assert policy_events[0].name.endswith("fetch_user")


def test_no_event_is_built_without_subscribers(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not events_module.has_subscribers()

    def explode(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("event built without subscribers")

    monkeypatch.setattr("recoup.policies.retry.PolicyEvent", explode)
    policy = Retry(attempts=3, backoff=Backoff.constant(0), clock=clock)
    assert policy.call(Flaky(1)) == "ok"
    with pytest.raises(ConnectionResetError):
        policy.call(Flaky(5))


# -- async -------------------------------------------------------------------------------------


def test_async_decorator_stays_async_and_retries(clock: FakeClock) -> None:
    flaky = AsyncFlaky(2)

    @retry(attempts=3, backoff=Backoff.constant(1.0), clock=clock)
    async def fetch(x: int) -> str:
        return f"{await flaky.run()}-{x}"

    assert inspect.iscoroutinefunction(fetch)
    assert run(fetch(1)) == "ok-1"
    assert clock.sleeps == [1.0, 1.0]


def test_async_gives_up_with_original_exception(clock: FakeClock) -> None:
    flaky = AsyncFlaky(9)
    with pytest.raises(ConnectionResetError) as info:
        run(Retry(attempts=2, clock=clock).acall(flaky.run))
    assert info.value is flaky.raised[-1]
    assert len(info.value.__recoup_attempts__) == 2  # type: ignore[attr-defined]


def test_async_wrap_with_result_predicate_timeout_and_budget(clock: FakeClock) -> None:
    answers = iter([0, 0, 5])

    async def fn() -> int:
        return next(answers)

    budget = RetryBudget(clock=clock)
    policy = Retry(attempts=3, timeout=60, budget=budget, retry_if_result=lambda r: r == 0, clock=clock)
    assert run(policy.wrap_async(fn)()) == 5


def test_async_cancellation_is_not_retried(clock: FakeClock) -> None:
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        run(Retry(attempts=3, on=BaseException, clock=clock).acall(fn))
    assert calls == 1


# -- concurrency: per-call state is never shared ------------------------------------------------


def test_concurrent_threads_keep_separate_state() -> None:
    clock = FakeClock()
    seen: dict[int, list[tuple[int, int]]] = {}

    def before_wait(state: RetryState) -> None:
        key = int(str(state.last_error).split()[0])
        seen.setdefault(key, []).append((id(state), state.attempt))

    policy = Retry(attempts=6, backoff=Backoff.constant(0.0), before_wait=before_wait, clock=clock)
    counters: dict[int, int] = {}

    @policy
    def work(key: int) -> int:
        counters[key] = counters.get(key, 0) + 1
        if counters[key] <= key % 5:
            raise ConnectionResetError(f"{key} failure")
        return key * 10

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, range(200)))
    assert results == [k * 10 for k in range(200)]
    for key, entries in seen.items():
        assert len({state_id for state_id, _ in entries}) == 1
        assert [attempt for _, attempt in entries] == list(range(1, key % 5 + 1))
    assert len(seen) == sum(1 for k in range(200) if k % 5)


def test_concurrent_tasks_keep_separate_state() -> None:
    clock = FakeClock()
    policy = Retry(attempts=6, backoff=Backoff.constant(0.01), clock=clock)
    counters: dict[int, int] = {}

    @policy
    async def work(key: int) -> int:
        counters[key] = counters.get(key, 0) + 1
        await asyncio.sleep(0)
        if counters[key] <= key % 4:
            raise ConnectionResetError(f"{key} failure")
        return key

    async def main() -> list[Any]:
        return await asyncio.gather(*(work(k) for k in range(100)), return_exceptions=True)

    results = run(main())
    assert results == list(range(100))
    assert counters == {k: k % 4 + 1 for k in range(100)}
    assert len(clock.sleeps) == sum(k % 4 for k in range(100))


def test_concurrent_failures_record_their_own_attempts() -> None:
    clock = FakeClock()
    policy = Retry(attempts=3, backoff=Backoff.constant(0.0), clock=clock)

    @policy
    async def always(key: int) -> None:
        await asyncio.sleep(0)
        raise ConnectionResetError(str(key))

    async def main() -> list[Any]:
        return await asyncio.gather(*(always(k) for k in range(20)), return_exceptions=True)

    for key, exc in enumerate(run(main())):
        records = exc.__recoup_attempts__
        assert [str(r.error) for r in records] == [str(key)] * 3


# -- signatures and typing ---------------------------------------------------------------------


def _annotated(a: int, b: str = "x", *, c: float = 1.0) -> list[str]:
    return [b] * a


async def _aannotated(a: int, b: str = "x") -> dict[str, int]:
    return {b: a}


def test_signature_and_hints_preserved() -> None:
    for wrapped in (retry(_annotated), retry(attempts=2)(_annotated), Retry().wrap(_annotated)):
        assert inspect.signature(wrapped) == inspect.signature(_annotated)
        assert typing.get_type_hints(wrapped) == typing.get_type_hints(_annotated)
        assert wrapped.__name__ == "_annotated"
        assert wrapped.__doc__ == _annotated.__doc__
    awrapped = retry(_aannotated)
    assert inspect.iscoroutinefunction(awrapped)
    assert inspect.signature(awrapped) == inspect.signature(_aannotated)
    assert typing.get_type_hints(awrapped) == typing.get_type_hints(_aannotated)


def test_invalid_configuration_rejected() -> None:
    with pytest.raises(ValueError):
        Retry(attempts=0)
    with pytest.raises(ValueError):
        Retry(timeout=-1)
    assert "attempts=3" in repr(Retry())


MYPY_SNIPPET = """
from recoup.policies.retry import Retry, retry

@retry
def f(a: int, b: str = "x") -> list[str]:
    return [b] * a

@retry(attempts=5)
async def g(a: int) -> dict[str, int]:
    return {"a": a}

reveal_type(f)
reveal_type(g)
reveal_type(Retry().wrap(f))
f(1, "y")
f("bad")
"""


@pytest.mark.skipif(shutil.which("mypy", path=str(Path(sys.executable).parent)) is None, reason="no mypy")
def test_mypy_sees_through_the_decorator(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(textwrap.dedent(MYPY_SNIPPET))
    mypy = str(Path(sys.executable).parent / "mypy")
    proc = subprocess.run(
        [mypy, "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / ".mypy"), str(snippet)],
        capture_output=True,
        text=True,
        timeout=110,
    )
    out = proc.stdout
    assert out.count('Revealed type is "def (a: int, b: str =) -> list[str]"') == 2
    assert 'Revealed type is "def (a: int) -> typing.Coroutine[Any, Any, dict[str, int]]"' in out
    assert 'Argument 1 to "f" has incompatible type "str"; expected "int"' in out


def test_async_callable_objects_and_partials_are_detected(clock: FakeClock) -> None:
    class Client:
        def __init__(self) -> None:
            self.calls = 0

        async def __call__(self, x: int) -> int:
            self.calls += 1
            if self.calls == 1:
                raise ConnectionResetError("first")
            return x

    async def add(a: int, b: int) -> int:
        return a + b

    assert is_async_callable(Client())
    assert is_async_callable(functools.partial(add, 1))
    assert not is_async_callable(lambda: None)
    client = Client()
    wrapped = Retry(attempts=2, backoff=Backoff.constant(0), clock=clock)(client)
    assert inspect.iscoroutinefunction(wrapped)
    assert run(wrapped(5)) == 5


def test_methods_can_be_decorated(clock: FakeClock) -> None:
    class Repo:
        def __init__(self) -> None:
            self.flaky = Flaky(1, value="row")

        @retry(attempts=2, backoff=Backoff.constant(0), clock=clock)
        def get(self, key: str) -> str:
            return f"{self.flaky()}:{key}"

    assert Repo().get("k") == "row:k"


def test_every_policy_implements_the_protocol() -> None:
    from recoup.policies.base import Policy
    from recoup.policies.fallback import Fallback
    from recoup.policies.pipeline import Pipeline
    from recoup.policies.timeout import Timeout

    for policy in (Retry(), Timeout(1), Fallback(value=None), Pipeline()):
        assert isinstance(policy, Policy)


def test_retry_waits_for_an_open_circuit_when_asked_to(clock: FakeClock) -> None:
    from recoup.policies.errors import CircuitOpenError

    errors = [CircuitOpenError("db", retry_after=12.5)]

    def guarded() -> str:
        if errors:
            raise errors.pop()
        return "ok"

    policy = Retry(attempts=2, on=CircuitOpenError, backoff=Backoff.constant(0.1), clock=clock)
    assert policy.call(guarded) == "ok"
    assert clock.sleeps == [12.5]
    with pytest.raises(CircuitOpenError):  # not retried by default: it is recoup's own refusal
        Retry(attempts=3, clock=clock).call(lambda: (_ for _ in ()).throw(CircuitOpenError("db", 1.0)))


# -- admission refusals (breaker / rate limiter): waited out without spending attempts ---------------------


class Refusing:
    """Refuses `refusals` times with a recoup admission error carrying `hint`, then fails `failures` times with
    a transient error, then succeeds."""

    def __init__(self, refusals: int, hint: float | None, failures: int = 0, kind: str = "breaker") -> None:
        self.refusals = refusals
        self.hint = hint
        self.failures = failures
        self.kind = kind
        self.calls = 0

    def __call__(self) -> str:
        from recoup.policies.errors import CircuitOpenError, RateLimitedError

        self.calls += 1
        if self.refusals:
            self.refusals -= 1
            if self.kind == "breaker":
                raise CircuitOpenError("db", self.hint, "open")
            raise RateLimitedError("api", self.hint)
        if self.failures:
            self.failures -= 1
            raise ConnectionResetError("reset")
        return "ok"


@pytest.mark.parametrize("kind", ["breaker", "limiter"])
def test_refusals_are_waited_out_without_spending_attempts(clock: FakeClock, kind: str) -> None:
    fn = Refusing(refusals=5, hint=0.2, failures=1, kind=kind)
    policy = Retry(attempts=2, backoff=Backoff.constant(0.01), clock=clock)
    assert policy.call(fn) == "ok"  # 5 refusals + 1 failure + success, with only 2 attempts allowed
    assert fn.calls == 7
    assert clock.sleeps == [0.2] * 5 + [0.01]  # the hint exactly (constant backoff: no jitter)


def test_refusal_wait_adds_jitter_up_to_the_first_step(clock: FakeClock) -> None:
    fn = Refusing(refusals=20, hint=0.05)
    Retry(attempts=1, backoff=Backoff.exponential(0.01, jitter="full", seed=3), clock=clock).call(fn)
    assert all(0.05 <= s <= 0.06 for s in clock.sleeps) and len(set(clock.sleeps)) > 1


def test_refusals_stop_at_max_rejected_wait_with_the_refusal(
    clock: FakeClock, policy_events: list[PolicyEvent]
) -> None:
    from recoup.policies.errors import CircuitOpenError

    fn = Refusing(refusals=100, hint=1.0)
    policy = Retry(attempts=3, backoff=Backoff.constant(0.0), max_rejected_wait=3.5, clock=clock, name="db")
    with pytest.raises(CircuitOpenError) as info:
        policy.call(fn)
    assert clock.sleeps == [1.0, 1.0, 1.0]  # a fourth wait would pass 3.5 s
    assert fn.calls == 4
    gave_up = [e for e in policy_events if e.kind is EventKind.GAVE_UP]
    assert gave_up[-1].data["reason"] == "rejected" and gave_up[-1].data["rejections"] == 3
    assert any("3 refusal(s) waited out" in note for note in info.value.__notes__)
    scheduled = [e for e in policy_events if e.kind is EventKind.RETRY_SCHEDULED]
    assert all(e.data["rejected"] for e in scheduled) and not [e for e in policy_events if e.kind is EventKind.ATTEMPT]


def test_a_refusal_longer_than_the_caller_can_wait_fails_fast(clock: FakeClock) -> None:
    from recoup.policies.errors import CircuitOpenError

    fn = Refusing(refusals=1, hint=30.0)
    with pytest.raises(CircuitOpenError):
        Retry(attempts=5, max_rejected_wait=10.0, clock=clock).call(fn)
    assert clock.sleeps == [] and fn.calls == 1


def test_refusal_waits_respect_the_deadline(clock: FakeClock) -> None:
    from recoup.policies.errors import CircuitOpenError

    fn = Refusing(refusals=100, hint=0.4)
    with pytest.raises(CircuitOpenError):
        Retry(attempts=3, timeout=1.0, backoff=Backoff.constant(0.0), clock=clock).call(fn)
    assert clock.sleeps == [0.4, 0.4]  # a third wait would end at 1.2 s, past the 1 s timeout


def test_refusals_spend_no_budget_tokens(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.0, min_per_second=0.0, clock=clock)
    fn = Refusing(refusals=3, hint=0.1)
    assert Retry(attempts=3, budget=budget, backoff=Backoff.constant(0.0), clock=clock).call(fn) == "ok"


def test_max_rejected_wait_none_counts_refusals_as_attempts(clock: FakeClock) -> None:
    from recoup.policies.errors import CircuitOpenError

    fn = Refusing(refusals=10, hint=0.1)
    with pytest.raises(CircuitOpenError):
        Retry(attempts=3, backoff=Backoff.constant(0.0), max_rejected_wait=None, clock=clock).call(fn)
    assert fn.calls == 3


def test_a_refusal_without_a_hint_is_an_ordinary_failure(clock: FakeClock) -> None:
    from recoup.policies.errors import CircuitOpenError

    fn = Refusing(refusals=10, hint=None)  # forced open: no admission time to wait for
    with pytest.raises(CircuitOpenError):
        Retry(attempts=3, backoff=Backoff.constant(0.01), clock=clock).call(fn)
    assert fn.calls == 3 and clock.sleeps == [0.01, 0.01]


def test_async_refusals_wait_for_a_real_breaker_to_admit(clock: FakeClock) -> None:
    from recoup.policies.breaker import CircuitBreaker
    from recoup.policies.pipeline import Pipeline
    from recoup.policies.trip import ConsecutiveFailures

    breaker = CircuitBreaker("dep", trip=ConsecutiveFailures(1), reset_timeout=5.0, clock=clock)
    with pytest.raises(ConnectionResetError):
        breaker.call(Flaky(1))  # opens it
    pipeline = Pipeline(Retry(attempts=1, backoff=Backoff.constant(0.0), clock=clock), breaker)
    calls = AsyncFlaky(0)
    assert run(pipeline.wrap_async(calls.run)()) == "ok"  # one attempt allowed, yet it waited for the probe
    assert clock.sleeps == [5.0] and breaker.state == "closed"


def test_invalid_max_rejected_wait_is_named() -> None:
    with pytest.raises(ValueError, match="max_rejected_wait"):
        Retry(max_rejected_wait=-1)

"""RecoveryEngine with real errors: refused connections, a real HTTP server, real files, a real git repo."""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from recoup.errors.taxonomy import Category, Classification
from recoup.policies.errors import CircuitOpenError
from recoup.recovery.actions.git import GitError, run_git
from recoup.recovery.config import BreakerConfig, EngineConfig
from recoup.recovery.engine import RecoveryEngine, recovery_report
from recoup.recovery.protocols import Learner
from recoup.telemetry.events import (
    ErrorEvent,
    Outcome,
    RecoveryAttemptEvent,
    RecoveryOutcomeEvent,
    TelemetryEvent,
)
from recoup.telemetry.sinks import EventBus
from recoup.testing import FakeClock

# --- helpers -----------------------------------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def connect(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        return "connected"


class Scripted(BaseHTTPRequestHandler):
    """Answers each GET with the next (status, headers) of the server's script; the last one repeats."""

    def do_GET(self) -> None:
        srv: Any = self.server
        with srv.lock:
            status, headers = srv.script[min(srv.hits, len(srv.script) - 1)]
            srv.hits += 1
            srv.seen_auth.append(self.headers.get("Authorization"))
        if status == 401 and self.headers.get("Authorization") == f"Bearer {srv.valid_token}":
            status, headers = 200, {}
        body = json.dumps({"status": status}).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[Any]:
    srv: Any = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    srv.lock = threading.Lock()
    srv.script = [(200, {})]
    srv.hits = 0
    srv.seen_auth = []
    srv.valid_token = "fresh"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/x"
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def get(url: str, token: str | None = None) -> int:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=5) as resp:
        status: int = resp.status
        return status


class Collector:
    def __init__(self) -> None:
        self.events: list[TelemetryEvent] = []

    def emit(self, event: TelemetryEvent) -> None:
        self.events.append(event)

    def outcomes(self) -> list[RecoveryOutcomeEvent]:
        return [e for e in self.events if isinstance(e, RecoveryOutcomeEvent)]


def engine_with(clock: FakeClock, **kw: Any) -> RecoveryEngine:
    cfg = kw.pop("config", None) or EngineConfig(seed=1)
    return RecoveryEngine(cfg, clock=clock, **kw)


# --- network -----------------------------------------------------------------------------------------------


def test_network_refused_retries_with_backoff_then_raises_original(clock: FakeClock) -> None:
    engine = engine_with(clock)
    port = closed_port()
    with pytest.raises(ConnectionRefusedError) as info:
        engine.run(connect, port)
    report = recovery_report(info.value)
    assert report is not None
    assert report.outcome is Outcome.GAVE_UP
    assert len(report.attempts) == 4
    assert report.category is Category.NETWORK
    assert report.tried == ("breaker",)
    assert len(clock.sleeps) == 3 and all(0 <= s <= 10 for s in clock.sleeps)
    note = "\n".join(info.value.__notes__)
    assert "gave_up on operation 'connect' after 4 attempt(s); tried: breaker" in note
    assert "attempts exhausted (4 of 4)" in note
    assert "ConnectionRefusedError" in note


def test_network_recovers_when_the_port_starts_listening(clock: FakeClock) -> None:
    engine = engine_with(clock)
    port = closed_port()
    calls = 0
    listener: list[socket.socket] = []

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 3:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen()
            listener.append(s)
        return connect(port)

    try:
        assert engine.run(flaky) == "connected"
    finally:
        for s in listener:
            s.close()
    assert calls == 3
    assert engine.last_report is not None and engine.last_report.outcome is Outcome.RECOVERED
    assert engine.breaker_for("test_network_recovers_when_the_port_starts_listening.<locals>.flaky").state == "closed"


def test_breaker_per_endpoint_opens_and_rejects_later_calls(clock: FakeClock) -> None:
    cfg = EngineConfig(seed=1, breaker=BreakerConfig(failure_threshold=2, reset_timeout=60))
    engine = engine_with(clock, config=cfg)
    port = closed_port()
    fetch = engine.recoverable(operation="fetch", endpoint="svc-a")(connect)
    with pytest.raises(ConnectionRefusedError):
        fetch(port)  # two failures open the breaker: no third attempt
    with pytest.raises(CircuitOpenError) as info:
        fetch(port)
    assert engine.breaker_for("svc-a").state == "open"
    report = recovery_report(info.value)
    assert report is not None and report.outcome is Outcome.FAILED_FAST
    assert "rejected the call" in "\n".join(info.value.__notes__)


# --- service -----------------------------------------------------------------------------------------------


def test_service_503_with_retry_after_then_200(clock: FakeClock, http_server: Any) -> None:
    http_server.script = [(503, {"Retry-After": "2"}), (200, {})]
    engine = engine_with(clock)
    assert engine.run(get, http_server.url) == 200
    assert http_server.hits == 2
    assert clock.sleeps and clock.sleeps[0] >= 2.0  # the server's Retry-After wins over the shorter backoff


def test_service_down_serves_fallback_and_sets_degraded_flag(clock: FakeClock, http_server: Any) -> None:
    http_server.script = [(503, {}), (503, {}), (503, {}), (503, {}), (200, {})]
    sink = Collector()
    engine = engine_with(clock, sink=sink)
    fetch = engine.recoverable(operation="prices", fallback=lambda exc: -1)(get)
    assert fetch(http_server.url) == -1
    assert engine.degraded and engine.is_degraded("prices")
    assert sink.outcomes()[-1].outcome is Outcome.DEGRADED
    assert fetch(http_server.url) == 200  # the service is back: the flag clears
    assert not engine.degraded
    assert sink.outcomes()[-1].outcome is Outcome.SUCCEEDED


# --- filesystem ---------------------------------------------------------------------------------------------


def test_filesystem_missing_folder_created_under_root(clock: FakeClock, tmp_path: Path) -> None:
    engine = engine_with(clock, config=EngineConfig(fs_roots=(str(tmp_path),)))
    target = tmp_path / "out" / "deep" / "report.txt"

    def write() -> int:
        return target.write_text("ok")

    assert engine.run(write) == 2
    assert target.read_text() == "ok"
    report = engine.last_report
    assert report is not None and report.outcome is Outcome.RECOVERED
    assert report.attempts[0].category is Category.FILESYSTEM
    assert "repaired" in report.attempts[0].action


def test_filesystem_outside_roots_is_refused(clock: FakeClock, tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    engine = engine_with(clock, config=EngineConfig(fs_roots=(str(tmp_path / "root"),)))
    target = tmp_path / "elsewhere" / "x.txt"
    with pytest.raises(FileNotFoundError) as info:
        engine.run(target.write_text, "x")
    assert not (tmp_path / "elsewhere").exists()
    assert "refused" in "\n".join(info.value.__notes__)


# --- git ---------------------------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    _git(r, "init", "-q", "-b", "main")
    _git(r, "config", "user.email", "t@example.com")
    _git(r, "config", "user.name", "t")
    (r / "data.txt").write_text("original\n")
    _git(r, "add", "data.txt")
    _git(r, "commit", "-q", "-m", "init")
    return r


def test_git_step_corrupts_tree_engine_restores_and_retries(clock: FakeClock, repo: Path) -> None:
    engine = engine_with(clock)
    seen: list[str] = []

    @engine.recoverable(operation="sync-repo", repo=repo)
    def step() -> str:
        seen.append((repo / "data.txt").read_text())
        if len(seen) == 1:
            (repo / "data.txt").write_text("half-written garbage")
            (repo / "junk.tmp").write_text("x")
            run_git(repo, "checkout", "no-such-branch")  # a real git failure (pathspec did not match)
        return "done"

    assert step() == "done"
    assert seen == ["original\n", "original\n"]  # the retry saw the restored tree
    assert not (repo / "junk.tmp").exists()
    report = engine.last_report
    assert report is not None and report.attempts[0].category is Category.GIT
    assert "restored" in report.attempts[0].action
    refs = subprocess.run(["git", "for-each-ref", "refs/recoup"], cwd=repo, capture_output=True, text=True).stdout
    assert refs == ""  # checkpoint discarded after success


def test_git_failure_without_checkpoint_gives_up_and_tree_restored_on_final_failure(
    clock: FakeClock, repo: Path
) -> None:
    engine = engine_with(clock)

    def always_broken(repo: Path) -> None:
        (repo / "data.txt").write_text("broken")
        run_git(repo, "checkout", "no-such-branch")

    with pytest.raises(GitError) as info:
        engine.run(always_broken, repo=repo)  # `repo=` in the call's arguments triggers the checkpoint
    assert (repo / "data.txt").read_text() == "original\n"
    report = recovery_report(info.value)
    assert report is not None and report.outcome is Outcome.GAVE_UP and len(report.attempts) == 2


# --- validation --------------------------------------------------------------------------------------------


def test_bom_prefixed_json_fixed_by_fixer(clock: FakeClock, tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"a": 1}).encode())
    engine = engine_with(clock)
    text = path.read_text(encoding="utf-8")  # keeps the BOM: json.loads refuses it
    assert engine.run(json.loads, text) == {"a": 1}
    report = engine.last_report
    assert report is not None and "fixer strip_bom" in report.attempts[0].action
    assert clock.sleeps == []


def test_validation_without_applicable_fixer_fails_fast(clock: FakeClock) -> None:
    engine = engine_with(clock)
    calls = 0

    def parse(text: str) -> Any:
        nonlocal calls
        calls += 1
        return json.loads(text)

    with pytest.raises(json.JSONDecodeError) as info:
        engine.run(parse, "{not json")
    assert calls == 1
    report = recovery_report(info.value)
    assert report is not None and report.outcome is Outcome.FAILED_FAST
    assert "no validation fixer applied (tried strip_bom, decode_bytes, pydantic_coerce)" in report.attempts[0].action


# --- auth --------------------------------------------------------------------------------------------------


def test_auth_hook_refreshes_token_then_retry_succeeds(clock: FakeClock, http_server: Any) -> None:
    http_server.script = [(401, {})]
    token = {"value": "expired"}
    refreshed: list[str] = []

    def refresh(exc: BaseException) -> bool:
        refreshed.append(type(exc).__name__)
        token["value"] = "fresh"
        return True

    engine = engine_with(clock, auth_refresh=refresh)
    assert engine.run(lambda: get(http_server.url, token["value"])) == 200
    assert refreshed == ["HTTPError"]
    assert http_server.seen_auth == ["Bearer expired", "Bearer fresh"]


def test_auth_without_hook_fails_fast_and_refresh_happens_only_once(clock: FakeClock, http_server: Any) -> None:
    http_server.script = [(401, {})]
    with pytest.raises(urllib.error.HTTPError) as info:
        engine_with(clock).run(get, http_server.url, "expired")
    assert "no credential-refresh hook registered" in "\n".join(info.value.__notes__)

    hooks = 0

    def useless(exc: BaseException) -> bool:
        nonlocal hooks
        hooks += 1
        return True

    with pytest.raises(urllib.error.HTTPError):
        engine_with(clock, auth_refresh=useless).run(get, http_server.url, "expired")
    assert hooks == 1


# --- programming / unknown -----------------------------------------------------------------------------------


def test_type_error_fails_fast_with_one_attempt(clock: FakeClock) -> None:
    sink = Collector()
    engine = engine_with(clock, sink=sink)
    calls = 0

    def buggy() -> int:
        nonlocal calls
        calls += 1
        return len(5)  # type: ignore[arg-type]

    with pytest.raises(TypeError) as info:
        engine.run(buggy)
    assert calls == 1 and clock.sleeps == []
    assert "programming errors are never retried" in "\n".join(info.value.__notes__)
    assert sink.outcomes()[-1].outcome is Outcome.FAILED_FAST
    assert not [e for e in sink.events if isinstance(e, RecoveryAttemptEvent)]


# --- RTO ---------------------------------------------------------------------------------------------------


def test_rto_met_is_recorded(clock: FakeClock) -> None:
    cfg = EngineConfig(seed=3).with_category("network", rto=30.0, jitter="none", initial_delay=1.0)
    sink = Collector()
    engine = engine_with(clock, config=cfg, sink=sink)
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionResetError(104, "Connection reset by peer")
        return "ok"

    assert engine.run(flaky) == "ok"
    record = engine.rto.records[-1]
    assert record.seconds == pytest.approx(3.0) and record.met is True
    event = sink.outcomes()[-1]
    assert event.outcome is Outcome.RECOVERED and event.rto_met is True and event.time_to_recover == pytest.approx(3.0)
    assert engine.rto.compliance(Category.NETWORK) == 1.0


def test_rto_missed_gives_up_before_the_next_wait(clock: FakeClock) -> None:
    cfg = EngineConfig(seed=3).with_category("network", rto=2.5, jitter="none", initial_delay=1.0, max_attempts=10)
    engine = engine_with(clock, config=cfg)

    def down() -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    with pytest.raises(ConnectionResetError) as info:
        engine.run(down)
    # waits 1 then 2 would end at 3 > 2.5: the engine stops after the first wait
    assert clock.sleeps == [1.0]
    assert "RTO of 2.5s can no longer be met" in "\n".join(info.value.__notes__)
    assert engine.rto.records[-1].met is False


def test_rto_missed_degrades_to_fallback(clock: FakeClock) -> None:
    cfg = EngineConfig(seed=3).with_category("network", rto=0.5, jitter="none", initial_delay=1.0)
    engine = engine_with(clock, config=cfg)
    engine.register_fallback("quote", {"price": None})

    @engine.recoverable(operation="quote")
    def quote() -> dict[str, Any]:
        raise ConnectionAbortedError(103, "Software caused connection abort")

    assert quote() == {"price": None}
    assert clock.sleeps == []
    assert engine.is_degraded("quote")
    assert engine.last_report is not None and engine.last_report.outcome is Outcome.DEGRADED


# --- learner, telemetry, happy path, decorator ------------------------------------------------------------


class CountingLearner:
    """A tiny real learner: always prefers plain backoff, and remembers what it was told."""

    def __init__(self) -> None:
        self.choices: list[tuple[str, Category, tuple[str, ...]]] = []
        self.records: list[tuple[str, Category, str, bool, int]] = []

    def choose(self, fingerprint: str, category: Category, candidates: Sequence[str]) -> str:
        self.choices.append((fingerprint, category, tuple(candidates)))
        return "backoff" if "backoff" in candidates else candidates[0]

    def record(
        self, fingerprint: str, category: Category, strategy: str, *, success: bool, attempts: int, seconds: float
    ) -> None:
        self.records.append((fingerprint, category, strategy, success, attempts))


def test_learner_chooses_and_is_told_the_outcome(clock: FakeClock) -> None:
    learner = CountingLearner()
    assert isinstance(learner, Learner)
    engine = engine_with(clock, learner=learner)
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 2:
            raise ConnectionRefusedError(111, "Connection refused")
        return "ok"

    assert engine.run(flaky) == "ok"
    assert len(learner.choices) == 1
    fp, cat, candidates = learner.choices[0]
    assert cat is Category.NETWORK and candidates == ("breaker", "backoff", "fallback", "fail_fast")
    assert learner.records == [(fp, Category.NETWORK, "backoff", True, 2)]
    assert engine._breakers == {}  # plain backoff: no breaker was created


def test_learner_answer_outside_candidates_is_ignored(clock: FakeClock) -> None:
    class Wrong(CountingLearner):
        def choose(self, fingerprint: str, category: Category, candidates: Sequence[str]) -> str:
            return "teleport"

    engine = engine_with(clock, learner=Wrong())
    with pytest.raises(ConnectionRefusedError) as info:
        engine.run(connect, closed_port())
    report = recovery_report(info.value)
    assert report is not None and report.strategy == "breaker"


def test_events_on_a_bus(clock: FakeClock) -> None:
    bus = EventBus()
    seen: list[TelemetryEvent] = []
    bus.subscribe(seen.append)
    engine = RecoveryEngine(EngineConfig(seed=1, sink=bus), clock=clock)
    calls = 0

    def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionResetError(104, "reset")
        return 7

    assert engine.run(flaky) == 7
    attempts = [e for e in seen if isinstance(e, RecoveryAttemptEvent)]
    assert [a.attempt for a in attempts] == [2, 3]
    assert all(a.category is Category.NETWORK and a.error_type == "ConnectionResetError" for a in attempts)
    outcome = [e for e in seen if isinstance(e, RecoveryOutcomeEvent)]
    assert len(outcome) == 1 and outcome[0].outcome is Outcome.RECOVERED and outcome[0].attempts == 3


class NoClassifyEngine(RecoveryEngine):
    classified = 0

    def _classify(self, exc: BaseException) -> Classification:
        NoClassifyEngine.classified += 1
        return super()._classify(exc)


def test_happy_path_never_classifies(clock: FakeClock) -> None:
    engine = NoClassifyEngine(clock=clock)
    assert engine.run(sum, [1, 2]) == 3
    assert engine.recoverable(lambda x: x * 2)(4) == 8
    assert NoClassifyEngine.classified == 0
    assert engine.last_report is None


def test_decorator_keeps_signature_and_detects_async(clock: FakeClock) -> None:
    engine = engine_with(clock)

    @engine.recoverable
    def add(a: int, b: int = 2) -> int:
        """Adds."""
        return a + b

    @engine.recoverable(operation="aadd")
    async def aadd(a: int) -> int:
        return a + 1

    assert add(1) == 3 and add.__doc__ == "Adds." and add.__name__ == "add"
    assert str(inspect.signature(add)) == "(a: 'int', b: 'int' = 2) -> 'int'"  # postponed annotations
    assert inspect.iscoroutinefunction(aadd)
    assert asyncio.run(aadd(1)) == 2


# --- async -------------------------------------------------------------------------------------------------


def test_async_network_and_validation_and_auth(clock: FakeClock, http_server: Any) -> None:
    async def scenario() -> None:
        engine = engine_with(clock)
        port = closed_port()

        async def aconnect() -> None:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()

        with pytest.raises(ConnectionRefusedError) as info:
            await engine.arun(aconnect)
        report = recovery_report(info.value)
        assert report is not None and len(report.attempts) == 4

        async def aparse(text: str) -> Any:
            return json.loads(text)

        assert await engine.arun(aparse, "\ufeff[1, 2]") == [1, 2]

        http_server.script = [(401, {})]
        token = {"value": "old"}

        async def arefresh(exc: BaseException) -> bool:
            await asyncio.sleep(0)
            token["value"] = "fresh"
            return True

        auth_engine = engine_with(clock, auth_refresh=arefresh)

        @auth_engine.recoverable(operation="whoami")
        async def whoami() -> int:
            return await asyncio.to_thread(get, http_server.url, token["value"])

        assert await whoami() == 200

        async def abuggy() -> None:
            raise AttributeError("'NoneType' object has no attribute 'x'")

        with pytest.raises(AttributeError):
            await engine.arun(abuggy)

    asyncio.run(scenario())


def test_async_fallback_coroutine_is_awaited(clock: FakeClock) -> None:
    engine = engine_with(clock)

    async def fb(exc: BaseException) -> str:
        return f"fallback for {type(exc).__name__}"

    @engine.recoverable(operation="feed", fallback=fb)
    async def feed() -> str:
        raise ConnectionResetError(104, "reset")

    assert asyncio.run(feed()) == "fallback for ConnectionResetError"
    assert len(clock.sleeps) == 3


def test_error_events_carry_the_classification(clock: FakeClock) -> None:
    sink = Collector()
    engine = engine_with(clock, sink=sink)
    with pytest.raises(ConnectionRefusedError):
        engine.run(connect, closed_port())
    errors = [e for e in sink.events if isinstance(e, ErrorEvent)]
    assert len(errors) == 4
    assert all(e.category is Category.NETWORK and e.operation == "connect" and e.fingerprint for e in errors)
    assert errors[0].timestamp == 1_700_000_000.0  # the engine's clock, not the system's


@pytest.mark.parametrize("hook_result", ["false", "raise"])
def test_auth_hook_that_cannot_refresh_gives_up(clock: FakeClock, hook_result: str) -> None:
    def hook(exc: BaseException) -> bool:
        if hook_result == "raise":
            raise RuntimeError("vault sealed")
        return False

    def call() -> None:
        raise PermissionError("401 Unauthorized: token expired")

    engine = engine_with(clock, auth_refresh=hook)
    with pytest.raises(PermissionError) as info:
        engine.run(call)
    note = "\n".join(info.value.__notes__)
    expected = "hook raised RuntimeError: vault sealed" if hook_result == "raise" else "returned False"
    assert expected in note


def test_enclosing_deadline_stops_waits(clock: FakeClock) -> None:
    from recoup.policies.deadline import deadline_scope

    cfg = EngineConfig(seed=1).with_category("network", jitter="none", initial_delay=1.0, max_attempts=10)
    engine = engine_with(clock, config=cfg)

    def down() -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    with deadline_scope(clock.monotonic() + 2.5), pytest.raises(ConnectionResetError) as info:
        engine.run(down)
    assert clock.sleeps == [1.0]
    assert "deadline leaves" in "\n".join(info.value.__notes__)


def test_async_git_step_restored_off_the_event_loop(clock: FakeClock, repo: Path) -> None:
    engine = engine_with(clock)
    seen: list[str] = []

    @engine.recoverable(operation="async-sync-repo")
    async def step(*, repo: Path) -> str:
        seen.append((repo / "data.txt").read_text())
        if len(seen) == 1:
            (repo / "data.txt").write_text("garbage")
            await asyncio.to_thread(run_git, repo, "merge", "no-such-branch")
        return "done"

    assert asyncio.run(step(repo=repo)) == "done"
    assert seen == ["original\n", "original\n"]


def test_fallback_that_raises_surfaces_the_original_error(clock: FakeClock) -> None:
    engine = engine_with(clock)

    def broken_fallback(exc: BaseException) -> None:
        raise LookupError("no default configured")

    @engine.recoverable(operation="rates", fallback=broken_fallback)
    def rates() -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    with pytest.raises(ConnectionResetError) as info:
        rates()
    assert "the fallback raised LookupError: no default configured" in "\n".join(info.value.__notes__)
    assert not engine.degraded


def test_permanent_http_status_is_not_covered_by_the_fallback(clock: FakeClock, http_server: Any) -> None:
    http_server.script = [(501, {})]
    engine = engine_with(clock)
    fetch = engine.recoverable(operation="fx", fallback="cached-fx")(get)
    with pytest.raises(urllib.error.HTTPError) as info:
        fetch(http_server.url)
    assert not engine.degraded
    assert http_server.hits == 1
    assert "permanent service error" in "\n".join(info.value.__notes__)


def test_run_refuses_a_coroutine_function(clock: FakeClock) -> None:
    async def coro() -> None:
        return None

    with pytest.raises(TypeError, match=r"use `await engine\.arun"):
        engine_with(clock).run(coro)


def test_breaker_transitions_are_policy_events(clock: FakeClock, policy_events: list[Any]) -> None:
    cfg = EngineConfig(seed=1, breaker=BreakerConfig(failure_threshold=2, reset_timeout=60))
    engine = engine_with(clock, config=cfg)
    with pytest.raises(ConnectionRefusedError):
        engine.recoverable(operation="op", endpoint="svc-b")(connect)(closed_port())
    changes = [e for e in policy_events if e.kind == "state_changed" and e.name == "svc-b"]
    assert changes and changes[-1].data["to_state"] == "open"

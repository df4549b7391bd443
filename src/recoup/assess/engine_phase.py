"""Recovery through `RecoveryEngine`: faults whose cure is a *repair*, not just a retry.

Each operation meets one real fault and the engine has to pick and run the right recovery for its
category: recreate a missing folder (filesystem), restore a git working tree the step corrupted (git),
strip a BOM from its input (validation), refresh an expired token (auth), back off and probe
(network, service), shed load (resource), or fail fast (programming). After a recovery the operation
checks that the repair really happened (the folder exists, `git status` is clean, the token works), so
"recovered" means the post-condition held, not merely that no exception escaped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from recoup.assess.faults import FaultContext, real_work, refuse_connection
from recoup.assess.fixtures import LocalHTTPServer, closed_port
from recoup.errors.taxonomy import TRANSIENT_BY_DEFAULT, Category
from recoup.recovery.config import DEFAULT_CATEGORIES, BreakerConfig, EngineConfig
from recoup.recovery.engine import RecoveryEngine
from recoup.telemetry.events import RecoveryOutcomeEvent, TelemetryEvent

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "recoup assess",
    "GIT_AUTHOR_EMAIL": "assess@recoup.invalid",
    "GIT_COMMITTER_NAME": "recoup assess",
    "GIT_COMMITTER_EMAIL": "assess@recoup.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class _Collector:
    """The engine's telemetry sink: keeps every event (emit is called from the event loop thread) and
    hands each to ``forward`` too (the server phase, when one runs)."""

    def __init__(self, forward: Callable[[TelemetryEvent], None] | None = None) -> None:
        self.events: list[TelemetryEvent] = []
        self._forward = forward

    def emit(self, event: TelemetryEvent) -> None:
        self.events.append(event)
        if self._forward is not None:
            self._forward(event)


@dataclass
class RepairOutcome:
    """One engine operation: what was injected, how it ended, and whether the repair was verified."""

    case: str
    category: Category
    recoverable: bool
    succeeded: bool
    verified: bool
    attempts: int
    seconds: float
    error: str | None = None


@dataclass
class EnginePhaseResult:
    outcomes: list[RepairOutcome]
    events: list[RecoveryOutcomeEvent]
    wall_seconds: float
    repos: int = 0
    notes: list[str] = field(default_factory=list)


def _git(repo: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **_GIT_ENV, "HOME": repo}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False)


def _make_repo(root: str, index: int) -> str:
    repo = os.path.join(root, f"repo-{index}")
    os.makedirs(repo)
    _git(repo, "init", "-q")
    for n in range(20):
        with open(os.path.join(repo, f"module_{n}.py"), "w", encoding="utf-8") as handle:
            handle.write(f"VALUE = {n}\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "baseline")
    return repo


class _Scenario:
    """The real peers and scratch space the repair cases work against."""

    def __init__(self, ctx: FaultContext, root: str, repos: list[str]) -> None:
        self.ctx = ctx
        self.root = root
        self.repos: asyncio.Queue[str] = asyncio.Queue()
        for repo in repos:
            self.repos.put_nowait(repo)
        self.token = "expired-token"


def _get(url: str, token: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        body: bytes = response.read()
    return body


Case = Callable[[_Scenario, RecoveryEngine, int, int], Awaitable[bool]]


async def _filesystem(sc: _Scenario, engine: RecoveryEngine, index: int, clears: int) -> bool:
    target = os.path.join(sc.root, "outputs", f"op-{index}", "nested", "result.json")

    async def write_result() -> None:
        with open(target, "w", encoding="utf-8") as handle:  # noqa: ASYNC230 - a tiny local write
            handle.write('{"ok": true}')

    await engine.arun(write_result)
    return await asyncio.to_thread(os.path.isfile, target)


async def _git_case(sc: _Scenario, engine: RecoveryEngine, index: int, clears: int) -> bool:
    repo = await sc.repos.get()
    failures = 0
    try:

        async def risky_step(repo: str) -> str:
            nonlocal failures
            status = await asyncio.to_thread(_git, repo, "status", "--porcelain")
            if status.stdout.strip():
                raise AssertionError(f"working tree not restored before retry: {status.stdout[:200]!r}")
            if failures < clears:
                failures += 1
                # The step corrupts the tree, then fails on a real git error.
                with open(os.path.join(repo, "module_3.py"), "w", encoding="utf-8") as handle:  # noqa: ASYNC230
                    handle.write("half-written = \n")
                with open(os.path.join(repo, "scratch.tmp"), "w", encoding="utf-8") as handle:  # noqa: ASYNC230
                    handle.write("junk")
                result = await asyncio.to_thread(_git, repo, "checkout", "-q", f"no-such-branch-{index}")
                raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout, result.stderr)
            head = await asyncio.to_thread(_git, repo, "rev-parse", "HEAD")
            return head.stdout.strip()

        await engine.arun(risky_step, repo=repo)
        status = await asyncio.to_thread(_git, repo, "status", "--porcelain")
        return status.stdout.strip() == ""
    finally:
        await asyncio.to_thread(_git, repo, "checkout", "-q", "--", ".")
        await asyncio.to_thread(_git, repo, "clean", "-qfd")
        sc.repos.put_nowait(repo)


async def _validation(sc: _Scenario, engine: RecoveryEngine, index: int, clears: int) -> bool:
    payload = "\ufeff" + json.dumps({"order": index, "items": [1, 2, 3]})

    async def parse(payload: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(payload)
        return value

    parsed = await engine.arun(parse, payload)
    return parsed == {"order": index, "items": [1, 2, 3]}


async def _auth(sc: _Scenario, engine: RecoveryEngine, index: int, clears: int) -> bool:
    used: list[str] = []

    async def call_protected() -> bytes:
        token = sc.token if used else "expired-token"
        used.append(token)
        return await asyncio.to_thread(_get, f"{sc.ctx.base_url}/protected", token)

    body = await engine.arun(call_protected)
    return b'"ok"' in body


def _transient(provoke: Callable[[FaultContext], Awaitable[None]], endpoint: str) -> Case:
    async def case(sc: _Scenario, engine: RecoveryEngine, index: int, clears: int) -> bool:
        failures = 0

        async def upstream_call() -> None:
            nonlocal failures
            if failures < clears:
                failures += 1
                await provoke(sc.ctx)
                raise RuntimeError("the provoked fault did not fail")
            await real_work(sc.ctx)

        # One operation (and so one circuit breaker) per upstream, as an application would name them.
        upstream_call.__qualname__ = upstream_call.__name__ = endpoint
        await engine.arun(upstream_call)
        return True

    return case


async def _service_503(ctx: FaultContext) -> None:
    await asyncio.to_thread(_get, f"{ctx.base_url}/status/503?retry_after=0")


async def _rate_limited(ctx: FaultContext) -> None:
    await asyncio.to_thread(_get, f"{ctx.base_url}/status/429?retry_after=0")


async def _programming(sc: _Scenario, engine: RecoveryEngine, index: int, clears: int) -> bool:
    async def buggy() -> int:
        counts: dict[str, int] = {}
        return counts["missing"] + index

    await engine.arun(buggy)
    return True


#: name -> (category, recoverable, case)
CASES: dict[str, tuple[Category, bool, Case]] = {
    "missing-folder": (Category.FILESYSTEM, True, _filesystem),
    "corrupted-git-tree": (Category.GIT, True, _git_case),
    "bom-in-json": (Category.VALIDATION, True, _validation),
    "expired-token": (Category.AUTH, True, _auth),
    "connection-refused": (Category.NETWORK, True, _transient(refuse_connection, "inventory-api")),
    "http-503": (Category.SERVICE, True, _transient(_service_503, "payments-api")),
    "http-429": (Category.RESOURCE, True, _transient(_rate_limited, "search-api")),
    "key-error": (Category.PROGRAMMING, False, _programming),
}


def engine_config(root: str, seed: int) -> EngineConfig:
    """Defaults as shipped, with waits scaled to a loopback run (ms, not s) and `root` as the repair root."""
    fast = {
        cat: dataclasses.replace(cfg, initial_delay=min(cfg.initial_delay, 0.005), max_delay=min(cfg.max_delay, 0.1))
        for cat, cfg in DEFAULT_CATEGORIES.items()
    }
    # Every operation here fails at least once by design, so a breaker tuned for production traffic
    # (5 in a row, 30 s open) would turn the planned faults into an outage; scale it to the run instead.
    breaker = BreakerConfig(failure_threshold=50, reset_timeout=0.2)
    return EngineConfig(categories=fast, fs_roots=(root,), seed=seed, breaker=breaker)


async def run_engine_phase(
    ops: int,
    concurrency: int,
    seed: int,
    on_done: Callable[[RepairOutcome], None] | None = None,
    forward: Callable[[TelemetryEvent], None] | None = None,
) -> EnginePhaseResult:
    """`ops` operations, each meeting one repair case (round robin, shuffled by `seed`); the engine's
    telemetry also goes to ``forward`` when given."""
    rng = random.Random(seed)
    names = [list(CASES)[i % len(CASES)] for i in range(ops)]
    rng.shuffle(names)
    root = tempfile.mkdtemp(prefix="recoup-assess-engine-")
    collector = _Collector(forward)
    repos = [_make_repo(root, i) for i in range(min(4, concurrency))]
    outcomes: list[RepairOutcome] = []
    try:
        with LocalHTTPServer() as server:
            ctx = FaultContext(base_url=server.base_url, closed_port=closed_port(), scratch_dir=root)
            scenario = _Scenario(ctx, root, repos)

            def refresh_sync(exc: BaseException) -> bool:
                scenario.token = _get(f"{ctx.base_url}/token").decode()
                return True

            engine = RecoveryEngine(engine_config(root, seed), sink=collector, auth_refresh=refresh_sync)
            gate = asyncio.Semaphore(concurrency)

            async def one(index: int, name: str) -> RepairOutcome:
                category, recoverable, case = CASES[name]
                # A repair cures its fault at once; a transient fault clears after 1-3 failures.
                if not recoverable:
                    clears = 0
                elif category in TRANSIENT_BY_DEFAULT:
                    clears = 1 + rng.randrange(3)
                else:
                    clears = 1
                async with gate:
                    started = time.monotonic()
                    try:
                        verified = await case(scenario, engine, index, clears)
                        outcome = RepairOutcome(name, category, recoverable, True, verified, 0, 0.0)
                    except Exception as exc:
                        outcome = RepairOutcome(
                            name, category, recoverable, False, False, 0, 0.0, f"{type(exc).__name__}: {exc}"[:300]
                        )
                    outcome.seconds = time.monotonic() - started
                if on_done is not None:
                    on_done(outcome)
                return outcome

            started = time.monotonic()
            outcomes = list(await asyncio.gather(*(one(i, n) for i, n in enumerate(names))))
            wall = time.monotonic() - started
    finally:
        shutil.rmtree(root, ignore_errors=True)
    events = [e for e in collector.events if isinstance(e, RecoveryOutcomeEvent)]
    return EnginePhaseResult(outcomes=outcomes, events=events, wall_seconds=wall, repos=len(repos))

"""Durable workflows: steps whose results are checkpointed before they are used.

A run executes the workflow's main function; every step call inside it is identified by
(step name, call index within the run). If that call completed in an earlier attempt of the same
run, its stored result is returned and the step is not executed again; otherwise the step runs and
its result is committed durably (fsync) before the main function sees it. A run killed at any point
therefore resumes from the last completed step and ends with the result an uninterrupted run gives,
provided the main function itself is deterministic (side effects and non-determinism go in steps).

    wf = Workflow("ingest", store=SQLiteStore("ck.db"))

    @wf.step
    def fetch(url: str) -> dict[str, str]: ...

    @wf.step(policy=Retry(...), timeout=5.0)
    async def upload(doc: dict[str, str]) -> str: ...

    @wf.main
    async def ingest(url: str) -> str:
        return await upload(fetch(url))

    await ingest.arun("order-42", "https://...")   # typed; the run id doubles as the idempotency key
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import os
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar, Token
from typing import Any, Generic, ParamSpec, TypeVar, cast, overload

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.policies.base import Policy
from recoup.policies.deadline import deadline_scope
from recoup.policies.errors import DeadlineExceeded
from recoup.recovery.checkpoint.errors import LeaseLost, NotSerializableError, RunLeaseHeld, StepOutsideRun
from recoup.recovery.checkpoint.store import CheckpointStore, Claim, StepKey, StepWrite, decode

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_STORE_ENV = "RECOUP_CHECKPOINTS"
"""Environment variable naming the SQLite file used when a `Workflow` is given no store."""


class _Run:
    """The state of one active run, shared by every step call made inside it."""

    __slots__ = ("counts", "done", "lease_until", "owner", "run_id", "seq", "token", "workflow")

    def __init__(self, workflow: Workflow, run_id: str, owner: str, claim: Claim) -> None:
        self.workflow = workflow
        self.run_id = run_id
        self.owner = owner
        self.done: dict[StepKey, str] = claim.steps
        self.counts: dict[str, int] = {}
        self.seq = 0
        self.lease_until = claim.lease_until
        self.token: Token[_Run | None] | None = None

    def next_call(self, name: str) -> tuple[int, int]:
        """Allocate this call's (call index for `name`, position in the run)."""
        index = self.counts.get(name, 0)
        self.counts[name] = index + 1
        seq = self.seq
        self.seq = seq + 1
        return index, seq


_ACTIVE: ContextVar[_Run | None] = ContextVar("recoup_checkpoint_run", default=None)


class _Heartbeat:
    """One daemon thread per process that keeps the leases of this process's active runs alive.

    A run's lease is extended when a third of it has passed without a step commit, so a step may
    take longer than `lease_seconds` while its process lives, and a dead process's lease still
    expires after at most `lease_seconds`. Waits are real time (the thread runs beside the work).
    """

    def __init__(self) -> None:
        self._runs: dict[int, _Run] = {}
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, state: _Run) -> None:
        with self._lock:
            self._runs[id(state)] = state
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="recoup-checkpoint-heartbeat", daemon=True)
                self._thread.start()
        self._changed.set()

    def discard(self, state: _Run) -> None:
        with self._lock:
            self._runs.pop(id(state), None)

    def _loop(self) -> None:
        while True:
            with self._lock:
                runs = list(self._runs.values())
            interval = min((r.workflow.lease_seconds / 6 for r in runs), default=60.0)
            self._changed.wait(interval)
            self._changed.clear()
            for state in runs:
                self._beat(state)

    def _beat(self, state: _Run) -> None:
        wf = state.workflow
        with self._lock:
            if id(state) not in self._runs:
                return
        now = wf.clock.wall()
        if state.lease_until - now > wf.lease_seconds * 2 / 3:
            return
        try:
            wf._renew(state, now)
        except Exception:  # a lost lease or a store outage surfaces at the run's next commit
            self.discard(state)


_HEARTBEAT = _Heartbeat()

_LIVE_OWNERS: set[str] = set()
"""Owner ids of the runs executing in this process right now (thread-safe enough: set add/discard)."""

_HOST: list[str] = []


def _host() -> str:
    """This process's host identity: hostname plus, on Linux, the pid namespace (so containers differ)."""
    if not _HOST:
        name = socket.gethostname()
        with contextlib.suppress(OSError):
            name = f"{name}/{os.stat('/proc/self/ns/pid').st_ino}"
        _HOST.append(name)
    return _HOST[0]


def _new_owner() -> str:
    """A lease owner id unique to one `run()` call, readable in `recoup runs` (host:pid:random)."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def dead_local_owner(holder: str | None) -> bool:
    """True when `holder` was a process on this host (same pid namespace) that no longer exists,
    or a run of this very process that is no longer executing (it ended without releasing its lease).

    Its lease can be taken over at once: after a kill -9 and restart on the same machine the run
    resumes immediately instead of waiting for the lease to expire.
    """
    if holder is None:
        return False
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _host() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return holder not in _LIVE_OWNERS  # a run of this process that ended without releasing its lease
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__qualname__}: {exc}"


def _inputs_text(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The run's inputs for inspection; inputs that are not JSON are kept as their repr."""
    try:
        return json.dumps({"args": args, "kwargs": kwargs}, allow_nan=False)
    except (TypeError, ValueError):
        return json.dumps({"repr": repr((args, kwargs))})


class Workflow:
    """A named set of checkpointed steps plus the main function that calls them.

    `policy` is the default for steps that name none (any object with `wrap`/`wrap_async`, such as
    `recoup.Retry`). `lease_seconds` bounds how long a runner that died on another host blocks its
    run (a dead runner on this host is detected at once). `heartbeat` (default: on with the system
    clock) renews the lease from a background thread while a run is active, so a step may outlast
    `lease_seconds`; without it the lease must exceed the longest step. `lease_wait` is how long
    `run` waits for another live runner of the same key before raising `RunLeaseHeld`.

    Run ids are global in a store (one id, one workflow). A step's identity is its name (default:
    the function's qualified name; pass `name=` to keep it stable across refactors) plus its call
    index in the run; steps must be called from the run's own thread or task tree.
    """

    def __init__(
        self,
        name: str,
        store: CheckpointStore | None = None,
        *,
        policy: Policy | None = None,
        lease_seconds: float = 60.0,
        lease_wait: float = 0.0,
        poll_interval: float = 0.5,
        clock: Clock = SYSTEM_CLOCK,
        heartbeat: bool | None = None,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.name = name
        self._store = store
        self.policy = policy
        self.lease_seconds = lease_seconds
        self.lease_wait = lease_wait
        self.poll_interval = poll_interval
        self.clock = clock
        self.heartbeat = clock is SYSTEM_CLOCK if heartbeat is None else heartbeat
        self._main: Callable[..., Any] | None = None
        self._steps: dict[str, Callable[..., Any]] = {}

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, store={self._store!r})"

    @property
    def store(self) -> CheckpointStore:
        """The store; without one, a SQLite file at $RECOUP_CHECKPOINTS or .recoup/checkpoints.db."""
        if self._store is None:
            from recoup.recovery.checkpoint.sqlite_store import SQLiteStore

            self._store = SQLiteStore(os.environ.get(DEFAULT_STORE_ENV, ".recoup/checkpoints.db"))
        return self._store

    # -- declaring ---------------------------------------------------------------------------------

    @overload
    def step(self, fn: F, /) -> F: ...

    @overload
    def step(
        self, *, name: str | None = None, policy: Policy | None = None, timeout: float | None = None
    ) -> Callable[[F], F]: ...

    def step(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        policy: Policy | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Declare a checkpointed step (sync or async). Its result must be JSON-serialisable.

        `policy` wraps each execution (retries happen before anything is stored); `timeout` bounds
        the whole step including retries: async steps are cancelled, sync steps get a deadline that
        retries respect and that is checked when they return (their result is then discarded).
        """

        def decorate(f: Callable[..., Any]) -> Any:
            step_name = name or f.__qualname__
            if step_name in self._steps:
                raise ValueError(f"workflow {self.name!r} already has a step named {step_name!r}; pass name=")
            wrapped = (
                _async_step(self, f, step_name, policy, timeout)
                if inspect.iscoroutinefunction(f)
                else (_sync_step(self, f, step_name, policy, timeout))
            )
            self._steps[step_name] = wrapped
            return wrapped

        return decorate if fn is None else decorate(fn)

    @overload
    def main(self, fn: Callable[P, Coroutine[Any, Any, R]]) -> AsyncEntry[P, R]: ...  # type: ignore[overload-overlap]

    @overload
    def main(self, fn: Callable[P, R]) -> Entry[P, R]: ...

    def main(self, fn: Callable[..., Any]) -> Entry[..., Any] | AsyncEntry[..., Any]:
        """Declare the function a run executes; returns a handle whose `run`/`arun` keep its types.

        `wf.run(key, ...)` (sync main) and `await wf.arun(key, ...)` (either) do the same, untyped.
        """
        if self._main is not None:
            raise ValueError(f"workflow {self.name!r} already has a main function ({self._main.__qualname__})")
        self._main = fn
        return AsyncEntry(self, fn) if inspect.iscoroutinefunction(fn) else Entry(self, fn)

    def _body(self) -> Callable[..., Any]:
        if self._main is None:
            raise RuntimeError(f"workflow {self.name!r} has no main function; decorate one with @wf.main")
        return self._main

    # -- running -----------------------------------------------------------------------------------

    def run(self, run_id: str, /, *args: Any, **kwargs: Any) -> Any:
        """Execute (or resume, or just return the stored result of) the run keyed `run_id`."""
        body = self._body()
        if inspect.iscoroutinefunction(body):
            raise TypeError(f"workflow {self.name!r} has an async main function; use `await wf.arun(...)`")
        owner = _new_owner()
        _LIVE_OWNERS.add(owner)
        try:
            claim = self._claim(run_id, owner, _inputs_text(args, kwargs))
            if claim.outcome == "completed":
                return decode(claim.result)
            state = self._start(run_id, owner, claim)
            try:
                result = body(*args, **kwargs)
            except BaseException as exc:
                _HEARTBEAT.discard(state)
                self._fail(state, exc)
                raise
            finally:
                self._stop(state)
            return self._complete(state, result)
        finally:
            _LIVE_OWNERS.discard(owner)

    async def arun(self, run_id: str, /, *args: Any, **kwargs: Any) -> Any:
        """`run` for asyncio: store calls go to a worker thread so the event loop never waits on fsync."""
        body = self._body()
        if not inspect.iscoroutinefunction(body):
            return await asyncio.to_thread(self.run, run_id, *args, **kwargs)
        owner = _new_owner()
        _LIVE_OWNERS.add(owner)
        try:
            claim = await self._aclaim(run_id, owner, _inputs_text(args, kwargs))
            if claim.outcome == "completed":
                return decode(claim.result)
            state = self._start(run_id, owner, claim)
            try:
                result = await body(*args, **kwargs)
            except BaseException as exc:
                _HEARTBEAT.discard(state)
                await asyncio.to_thread(self._fail, state, exc)
                raise
            finally:
                self._stop(state)
            return await asyncio.to_thread(self._complete, state, result)
        finally:
            _LIVE_OWNERS.discard(owner)

    def _start(self, run_id: str, owner: str, claim: Claim) -> _Run:
        state = _Run(self, run_id, owner, claim)
        state.token = _ACTIVE.set(state)
        if self.heartbeat:
            _HEARTBEAT.add(state)
        return state

    def _stop(self, state: _Run) -> None:
        if state.token is not None:
            _ACTIVE.reset(state.token)
        _HEARTBEAT.discard(state)

    def _claim(self, run_id: str, owner: str, inputs: str) -> Claim:
        clock = self.clock
        give_up = clock.monotonic() + self.lease_wait
        reclaim: str | None = None
        while True:
            claim = self.store.claim(run_id, self.name, owner, inputs, clock.wall(), self.lease_seconds, reclaim)
            if claim.outcome == "held" and claim.holder != reclaim and dead_local_owner(claim.holder):
                reclaim = claim.holder
                continue
            pause = self._pause(run_id, claim, give_up)
            if pause is None:
                return claim
            clock.sleep(pause)

    async def _aclaim(self, run_id: str, owner: str, inputs: str) -> Claim:
        clock = self.clock
        give_up = clock.monotonic() + self.lease_wait
        reclaim: str | None = None
        while True:
            claim = await asyncio.to_thread(
                self.store.claim, run_id, self.name, owner, inputs, clock.wall(), self.lease_seconds, reclaim
            )
            if claim.outcome == "held" and claim.holder != reclaim and dead_local_owner(claim.holder):
                reclaim = claim.holder
                continue
            pause = self._pause(run_id, claim, give_up)
            if pause is None:
                return claim
            await clock.asleep(pause)

    def _pause(self, run_id: str, claim: Claim, give_up: float) -> float | None:
        """None when the claim is final; else how long to wait before asking again (or raise)."""
        if claim.outcome != "held":
            return None
        expires_in = claim.lease_until - self.clock.wall()
        left = give_up - self.clock.monotonic()
        if left <= 0:
            raise RunLeaseHeld(run_id, claim.holder, expires_in)
        return max(min(left, expires_in, self.poll_interval), 0.001)

    def _complete(self, state: _Run, result: Any) -> Any:
        try:
            text = json.dumps(result, allow_nan=False)
        except (TypeError, ValueError) as cause:
            error = NotSerializableError(self.name, "the main function", result, cause)
            self._fail(state, error)
            raise error from cause
        self.store.finish(state.run_id, state.owner, "completed", text, None, self.clock.wall())
        return json.loads(text)

    def _fail(self, state: _Run, exc: BaseException) -> None:
        """Record the run as failed (a later run of the same key resumes it); a lost lease records nothing."""
        if isinstance(exc, LeaseLost):
            return
        try:
            self.store.finish(state.run_id, state.owner, "failed", None, _error_text(exc), self.clock.wall())
        except LeaseLost:
            pass
        except Exception as store_error:  # keep the run's own error; the run stays resumable either way
            exc.add_note(f"recoup: recording run {state.run_id!r} as failed also failed: {store_error!r}")

    # -- step plumbing -----------------------------------------------------------------------------

    def _enter(self, step: str) -> _Run:
        state = _ACTIVE.get()
        if state is None or state.workflow is not self:
            raise StepOutsideRun(self.name, step)
        return state

    def _renew_if_due(self, state: _Run) -> None:
        """Extend the lease before a step when the main function spent half of it since the last write."""
        now = self.clock.wall()
        if now > state.lease_until - self.lease_seconds / 2:
            self._renew(state, now)

    def _renew(self, state: _Run, now: float) -> None:
        lease_until = now + self.lease_seconds
        self.store.renew(state.run_id, state.owner, now, lease_until)
        state.lease_until = lease_until

    def _commit(self, state: _Run, write: StepWrite) -> None:
        now = self.clock.wall()
        lease_until = now + self.lease_seconds
        self.store.save_step(state.run_id, state.owner, write, now, lease_until)
        state.lease_until = lease_until
        if write.result is not None:
            state.done[(write.name, write.call_index)] = write.result

    def _record_failure(self, state: _Run, write: StepWrite, exc: BaseException) -> None:
        """Store a failed step call for inspection; a store error must not hide the step's own error."""
        try:
            self._commit(state, write)
        except LeaseLost:
            raise
        except Exception as store_error:
            exc.add_note(f"recoup: recording step {write.name!r} as failed also failed: {store_error!r}")

    def _serialise(self, step: str, value: Any) -> str:
        try:
            return json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as cause:
            raise NotSerializableError(self.name, f"step {step!r}", value, cause) from cause

    def _failed(self, step: str, index: int, seq: int, exc: BaseException, attempts: int, started: float) -> StepWrite:
        return StepWrite(step, index, seq, "failed", None, _error_text(exc), attempts, started, self.clock.wall())


class Entry(Generic[P, R]):
    """A workflow's sync main function, bound to it: `entry.run(key, ...)` is `wf.run` with its types."""

    __slots__ = ("fn", "workflow")

    def __init__(self, workflow: Workflow, fn: Callable[P, R]) -> None:
        self.workflow = workflow
        self.fn = fn

    def run(self, run_id: str, /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Execute, resume, or return the stored result of the run keyed `run_id`."""
        return cast(R, self.workflow.run(run_id, *args, **kwargs))

    async def arun(self, run_id: str, /, *args: P.args, **kwargs: P.kwargs) -> R:
        """`run` from asyncio (the sync main runs in a worker thread)."""
        return cast(R, await self.workflow.arun(run_id, *args, **kwargs))


class AsyncEntry(Generic[P, R]):
    """A workflow's async main function, bound to it: `await entry.arun(key, ...)` with its types."""

    __slots__ = ("fn", "workflow")

    def __init__(self, workflow: Workflow, fn: Callable[P, Coroutine[Any, Any, R]]) -> None:
        self.workflow = workflow
        self.fn = fn

    async def arun(self, run_id: str, /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Execute, resume, or return the stored result of the run keyed `run_id`."""
        return cast(R, await self.workflow.arun(run_id, *args, **kwargs))


def _sync_step(wf: Workflow, fn: Callable[..., Any], name: str, policy: Policy | None, timeout: float | None) -> Any:
    clock = wf.clock

    @functools.wraps(fn)
    def step(*args: Any, **kwargs: Any) -> Any:
        state = wf._enter(name)
        index, seq = state.next_call(name)
        stored = state.done.get((name, index))
        if stored is not None:
            return json.loads(stored)
        wf._renew_if_due(state)
        started = clock.wall()
        attempts = 0
        deadline = None if timeout is None else clock.monotonic() + timeout

        def attempt(*a: Any, **k: Any) -> Any:
            nonlocal attempts
            if deadline is not None and clock.monotonic() >= deadline:
                raise DeadlineExceeded(f"{wf.name}.{name}", cast(float, timeout))
            attempts += 1
            return fn(*a, **k)

        active = policy or wf.policy
        call = attempt if active is None else active.wrap(attempt)
        try:
            if deadline is None:
                value = call(*args, **kwargs)
            else:
                with deadline_scope(deadline):
                    value = call(*args, **kwargs)
                if clock.monotonic() > deadline:
                    raise DeadlineExceeded(f"{wf.name}.{name}", cast(float, timeout))
            text = wf._serialise(name, value)
        except LeaseLost:
            raise
        except BaseException as exc:
            wf._record_failure(state, wf._failed(name, index, seq, exc, attempts, started), exc)
            raise
        wf._commit(state, StepWrite(name, index, seq, "completed", text, None, attempts, started, clock.wall()))
        return json.loads(text)

    return step


def _async_step(
    wf: Workflow, fn: Callable[..., Awaitable[Any]], name: str, policy: Policy | None, timeout: float | None
) -> Any:
    clock = wf.clock

    @functools.wraps(fn)
    async def step(*args: Any, **kwargs: Any) -> Any:
        state = wf._enter(name)
        index, seq = state.next_call(name)
        stored = state.done.get((name, index))
        if stored is not None:
            return json.loads(stored)
        if clock.wall() > state.lease_until - wf.lease_seconds / 2:
            await asyncio.to_thread(wf._renew_if_due, state)
        started = clock.wall()
        attempts = 0

        async def attempt(*a: Any, **k: Any) -> Any:
            nonlocal attempts
            attempts += 1
            return await fn(*a, **k)

        active = policy or wf.policy
        call = attempt if active is None else active.wrap_async(attempt)
        try:
            if timeout is None:
                value = await call(*args, **kwargs)
            else:
                scope = asyncio.timeout(timeout)
                try:
                    with deadline_scope(clock.monotonic() + timeout):
                        async with scope:
                            value = await call(*args, **kwargs)
                except TimeoutError as exc:
                    if scope.expired():
                        raise DeadlineExceeded(f"{wf.name}.{name}", timeout) from exc
                    raise
            text = wf._serialise(name, value)
        except LeaseLost:
            raise
        except BaseException as exc:
            write = wf._failed(name, index, seq, exc, attempts, started)
            await asyncio.to_thread(wf._record_failure, state, write, exc)
            raise
        write = StepWrite(name, index, seq, "completed", text, None, attempts, started, clock.wall())
        await asyncio.to_thread(wf._commit, state, write)
        return json.loads(text)

    return step

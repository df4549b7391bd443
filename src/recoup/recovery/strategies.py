"""The recovery strategies: pure-ish decisions from one failure to the engine's next step.

Each strategy turns (the run so far, the error, its classification) into a `Step`: retry (after a delay,
maybe with fixed arguments, maybe after a hook), serve a substitute value (degraded), or give up. Repair
actions (filesystem, git restore, load shedding) run inside the strategy and are described in the step's
`action`, which ends up in the attempt log that the final error lists.

| strategy   | does                                                                                   |
|------------|----------------------------------------------------------------------------------------|
| backoff    | wait (exponential, jitter, Retry-After honoured) and retry while attempts remain        |
| breaker    | route the endpoint through its circuit breaker, then as backoff                          |
| fallback   | serve the operation's fallback or stale result at once                                  |
| degrade    | shed load (shrink the bulkhead), free registered caches, serve fallback/stale, else backoff |
| repair     | `fs.repair_for` under the configured roots, then retry                                  |
| restore    | restore the git checkpoint taken before the step, then retry                            |
| fix        | the next unused validation fixer, then retry                                            |
| refresh    | the credential-refresh hook (once per call), then retry                                 |
| fail_fast  | give up at once                                                                         |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recoup.errors.taxonomy import TRANSIENT_BY_DEFAULT, Category, Classification
from recoup.recovery.config import CategoryConfig
from recoup.recovery.validation import CallArgs

if TYPE_CHECKING:
    from recoup.recovery.engine import Run

RETRY = "retry"
SERVE = "serve"
GIVE_UP = "give_up"


@dataclass(slots=True)
class Step:
    """What the engine does next. `serve` produces the substitute (may return an awaitable in async code);
    `hook` runs before the retry and a result of ``False`` turns the retry into giving up."""

    kind: str
    action: str
    delay: float = 0.0
    call: CallArgs | None = None
    serve: Callable[[], Any] | None = None
    hook: Callable[[], Any] | None = None


def give_up(reason: str) -> Step:
    return Step(GIVE_UP, f"gave up: {reason}")


def backoff(run: Run, exc: BaseException, cls: Classification, cfg: CategoryConfig, prefix: str = "") -> Step:
    if not cls.transient and cls.category in TRANSIENT_BY_DEFAULT:
        return give_up(f"{prefix}a permanent {cls.category.value} error ({cls.reason}), not retried")
    if run.attempt >= cfg.max_attempts:
        return give_up(f"{prefix}attempts exhausted ({run.attempt} of {cfg.max_attempts})")
    delay = run.next_delay(cls.category, exc)
    return Step(RETRY, f"{prefix}retry after {delay:.3f}s backoff", delay=delay)


def breaker(run: Run, exc: BaseException, cls: Classification, cfg: CategoryConfig) -> Step:
    br = run.use_breaker()
    if br.state == "open":
        return give_up(f"breaker {br.name!r} opened; not retrying until it probes again")
    return backoff(run, exc, cls, cfg, prefix=f"breaker {br.name!r} is {br.state}; ")


def fallback(run: Run, exc: BaseException, cls: Classification, cfg: CategoryConfig) -> Step:
    step = run.engine._substitute(run, exc)
    return step if step is not None else give_up("no fallback or fresh-enough cached result")


def degrade(run: Run, exc: BaseException, cls: Classification, cfg: CategoryConfig) -> Step:
    done = run.engine._shed_load(run)
    prefix = "; ".join(done) + "; " if done else ""
    step = run.engine._substitute(run, exc)
    if step is not None:
        step.action = prefix + step.action
        return step
    return backoff(run, exc, cls, cfg, prefix=prefix)


def repair(run: Run, exc: BaseException, cls: Classification, cfg: CategoryConfig) -> Step:
    if run.attempt >= cfg.max_attempts:
        return give_up(f"attempts exhausted ({run.attempt} of {cfg.max_attempts})")
    roots = run.engine.config.fs_roots
    if not roots:
        return give_up("no fs_roots configured, filesystem repair disabled")
    from recoup.recovery.actions import fs

    report = fs.repair_for(exc, roots=roots)
    if report is None:
        return give_up("no filesystem repair applies to this error")
    text = "; ".join(report.details) or report.action
    if not report.ok:
        return give_up(f"{report.action} refused: {report.refused}")
    if not report.changed:
        return give_up(f"{report.action} changed nothing ({text})")
    return Step(RETRY, f"repaired ({report.action}: {text}); retry", delay=run.next_delay(cls.category, exc))


def restore(run: Run, exc: BaseException, cls: Classification, cfg: CategoryConfig) -> Step:
    if run.attempt >= cfg.max_attempts:
        return give_up(f"attempts exhausted ({run.attempt} of {cfg.max_attempts})")
    cp = run.checkpoint
    if cp is None:
        return give_up("no git checkpoint was taken for this operation (pass repo=)")
    from recoup.recovery.actions import git_checkpoint

    report = git_checkpoint.restore(cp, keep=True)
    if not report.ok:
        return give_up(f"git restore refused: {report.refused}")
    changes = "; ".join(report.details) or "nothing differed"
    return Step(RETRY, f"restored {cp.worktree} to checkpoint {cp.id} ({changes}); retry")


def fix(run: Run, exc: BaseException, cls: Classification, cfg: CategoryConfig) -> Step:
    if run.attempt >= cfg.max_attempts:
        return give_up(f"attempts exhausted ({run.attempt} of {cfg.max_attempts})")
    tried = run.used_fixers  # name -> what happened, in order, across the whole call
    for name, fixer in run.engine.fixers:
        if name in tried:
            continue
        tried[name] = name
        try:
            fixed = fixer(exc, run.call)
        except Exception as err:  # a broken fixer must not hide the original error
            tried[name] = f"{name} (raised {type(err).__name__}: {err})"
            continue
        if fixed is not None:
            tried[name] = f"{name} (applied)"
            return Step(RETRY, f"fixer {name} changed the arguments; retry", call=fixed)
    detail = f"tried {', '.join(tried.values())}" if tried else "none registered"
    return give_up(f"no validation fixer applied ({detail})")


def refresh(run: Run, exc: BaseException, cls: Classification, cfg: CategoryConfig) -> Step:
    hook = run.engine.auth_refresh
    if hook is None:
        return give_up("no credential-refresh hook registered")
    if run.refreshed:
        return give_up("credentials were already refreshed once in this call")
    if run.attempt >= cfg.max_attempts:
        return give_up(f"attempts exhausted ({run.attempt} of {cfg.max_attempts})")
    run.refreshed = True
    name = getattr(hook, "__name__", type(hook).__name__)
    return Step(RETRY, f"refreshed credentials ({name}); retry", hook=lambda: hook(exc))


def fail_fast(run: Run, exc: BaseException, cls: Classification, cfg: CategoryConfig) -> Step:
    if cls.category in (Category.PROGRAMMING, Category.UNKNOWN):
        return give_up(f"{cls.category.value} errors are never retried")
    return give_up("fail_fast strategy")


Strategy = Callable[["Run", BaseException, Classification, CategoryConfig], Step]

REGISTRY: dict[str, Strategy] = {
    "backoff": backoff,
    "breaker": breaker,
    "fallback": fallback,
    "degrade": degrade,
    "repair": repair,
    "restore": restore,
    "fix": fix,
    "refresh": refresh,
    "fail_fast": fail_fast,
}

"""How long to wait before the next attempt: a pure function of the attempt number.

`Backoff.delay(attempt, prev_delay, exc)` reads no clock and sleeps nowhere, so retry can use it
from sync and async code alike and tests can check schedules exactly (pass `seed=`).

Jitter follows the AWS Architecture Blog ("Exponential Backoff and Jitter"):

* ``none``: the schedule itself, ``min(cap, base(attempt))``;
* ``full``: ``uniform(0, min(cap, base))`` — spreads clients the most;
* ``equal``: ``b/2 + uniform(0, b/2)`` with ``b = min(cap, base)`` — never shorter than half;
* ``decorrelated``: ``min(cap, uniform(initial, prev_delay * 3))`` — grows from the previous
  delay rather than from the attempt number (the schedule kind is then irrelevant).

A server's Retry-After (found by `recoup.errors.classifier.retry_after_of`) wins when it asks for
longer: the delay becomes ``max(delay, min(retry_after, max_retry_after))``. With
``retry_after_exact=True`` the server's value replaces the schedule instead (plus jitter up to the
schedule's first step), so a server that answers ``Retry-After: 0`` is retried at once rather than
after our own, longer, guess - the server knows when it will be ready; we only spread the callers.

`admission_wait(hint)` is the wait for one of recoup's own admission policies (a breaker, a rate
limiter) that refused a call and said when it will admit one: the hint plus the same jitter.
"""

from __future__ import annotations

import random
from typing import Literal

from recoup.errors.classifier import retry_after_of

Kind = Literal["constant", "linear", "exponential"]
Jitter = Literal["none", "full", "equal", "decorrelated"]

_KINDS: frozenset[str] = frozenset({"constant", "linear", "exponential"})
_JITTERS: frozenset[str] = frozenset({"none", "full", "equal", "decorrelated"})
_MIN_ADMISSION_WAIT = 0.001


class Backoff:
    """A delay schedule with optional jitter and Retry-After support. Immutable after construction.

    ``attempt`` is 1-based: ``delay(1)`` is the wait after the first attempt failed.
    """

    __slots__ = (
        "_random",
        "cap",
        "honor_retry_after",
        "increment",
        "initial",
        "jitter",
        "kind",
        "max_retry_after",
        "multiplier",
        "retry_after_exact",
    )

    def __init__(
        self,
        kind: Kind = "exponential",
        *,
        initial: float = 0.1,
        multiplier: float = 2.0,
        increment: float | None = None,
        cap: float = 10.0,
        jitter: Jitter = "full",
        honor_retry_after: bool = True,
        max_retry_after: float = 60.0,
        seed: int | None = None,
        rng: random.Random | None = None,
        retry_after_exact: bool = False,
    ) -> None:
        if kind not in _KINDS:
            raise ValueError(f"unknown backoff kind {kind!r}; expected one of {sorted(_KINDS)}")
        if jitter not in _JITTERS:
            raise ValueError(f"unknown jitter {jitter!r}; expected one of {sorted(_JITTERS)}")
        if initial < 0 or cap < 0 or max_retry_after < 0:
            raise ValueError("initial, cap and max_retry_after must be >= 0")
        if multiplier < 1:
            raise ValueError("multiplier must be >= 1 (a shrinking backoff defeats its purpose)")
        if increment is not None and increment < 0:
            raise ValueError("increment must be >= 0")
        self.kind: Kind = kind
        self.initial = float(initial)
        self.multiplier = float(multiplier)
        self.increment = float(initial if increment is None else increment)
        self.cap = float(cap)
        self.jitter: Jitter = jitter
        self.honor_retry_after = honor_retry_after
        self.max_retry_after = float(max_retry_after)
        self.retry_after_exact = retry_after_exact
        self._random = rng if rng is not None else random.Random(seed)

    # -- constructors named after the schedule -------------------------------------------------

    @classmethod
    def constant(
        cls,
        delay: float,
        *,
        jitter: Jitter = "none",
        honor_retry_after: bool = True,
        max_retry_after: float = 60.0,
        seed: int | None = None,
    ) -> Backoff:
        """The same wait every time (``Backoff.constant(0)`` retries immediately, never sleeping)."""
        return cls(
            "constant",
            initial=delay,
            cap=delay,
            jitter=jitter,
            honor_retry_after=honor_retry_after,
            max_retry_after=max_retry_after,
            seed=seed,
        )

    @classmethod
    def linear(
        cls,
        initial: float = 0.1,
        increment: float | None = None,
        *,
        cap: float = 10.0,
        jitter: Jitter = "none",
        honor_retry_after: bool = True,
        max_retry_after: float = 60.0,
        seed: int | None = None,
    ) -> Backoff:
        """``initial + increment * (attempt - 1)``, capped; `increment` defaults to `initial`."""
        return cls(
            "linear",
            initial=initial,
            increment=increment,
            cap=cap,
            jitter=jitter,
            honor_retry_after=honor_retry_after,
            max_retry_after=max_retry_after,
            seed=seed,
        )

    @classmethod
    def exponential(
        cls,
        initial: float = 0.1,
        multiplier: float = 2.0,
        *,
        cap: float = 10.0,
        jitter: Jitter = "full",
        honor_retry_after: bool = True,
        max_retry_after: float = 60.0,
        seed: int | None = None,
        retry_after_exact: bool = False,
    ) -> Backoff:
        """``initial * multiplier ** (attempt - 1)``, capped; full jitter by default (AWS advice)."""
        return cls(
            "exponential",
            initial=initial,
            multiplier=multiplier,
            cap=cap,
            jitter=jitter,
            honor_retry_after=honor_retry_after,
            max_retry_after=max_retry_after,
            seed=seed,
            retry_after_exact=retry_after_exact,
        )

    # -- the pure decision ---------------------------------------------------------------------

    def base(self, attempt: int) -> float:
        """The un-jittered schedule after `attempt` failed attempts, capped at `cap`."""
        n = attempt - 1 if attempt > 1 else 0
        if self.kind == "constant":
            value = self.initial
        elif self.kind == "linear":
            value = self.initial + self.increment * n
        else:
            # Past ~1000 doublings the float overflows; by then the cap has long applied.
            value = self.cap if n > 1000 else self.initial * self.multiplier**n
        return value if value < self.cap else self.cap

    def delay(self, attempt: int, prev_delay: float | None = None, exc: BaseException | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based).

        `prev_delay` is the previous wait (decorrelated jitter grows from it); `exc` is the error
        that ended the attempt, consulted for a server's Retry-After.
        """
        jitter = self.jitter
        if jitter == "none":
            d = self.base(attempt)
        elif jitter == "full":
            b = self.base(attempt)
            d = self._random.uniform(0.0, b) if b > 0 else 0.0
        elif jitter == "equal":
            half = self.base(attempt) / 2
            d = half + self._random.uniform(0.0, half) if half > 0 else 0.0
        else:
            low = self.initial
            prev = prev_delay if prev_delay is not None and prev_delay > low else low
            d = self._random.uniform(low, prev * 3) if prev > 0 else 0.0
            if d > self.cap:
                d = self.cap
        if exc is not None and self.honor_retry_after:
            asked = retry_after_of(exc)
            if asked is not None:
                if asked > self.max_retry_after:
                    asked = self.max_retry_after
                if self.retry_after_exact:
                    return asked + self._spread()
                if asked > d:
                    d = asked
        return d

    def _spread(self) -> float:
        """Jitter up to the schedule's first step (none when jitter is off), to keep callers apart."""
        if self.jitter == "none":
            return 0.0
        first = self.base(1)
        return self._random.uniform(0.0, first) if first > 0 else 0.0

    def admission_wait(self, hint: float) -> float:
        """The wait for an admission policy (breaker, rate limiter) that refused a call and said it will admit
        one in `hint` seconds: the hint plus jitter up to the first step, never less than a millisecond (so a
        zero hint cannot become a busy loop)."""
        wait = max(0.0, hint) + self._spread()
        return wait if wait > _MIN_ADMISSION_WAIT else _MIN_ADMISSION_WAIT

    def __repr__(self) -> str:
        return (
            f"Backoff({self.kind!r}, initial={self.initial}, multiplier={self.multiplier}, "
            f"increment={self.increment}, cap={self.cap}, jitter={self.jitter!r}, "
            f"honor_retry_after={self.honor_retry_after}, max_retry_after={self.max_retry_after}, "
            f"retry_after_exact={self.retry_after_exact})"
        )


def default_backoff() -> Backoff:
    """The default for `Retry`: 0.1 s doubling to at most 5 s, full jitter (close to stamina's defaults).

    A fresh instance per Retry, so each has its own random generator.
    """
    return Backoff.exponential(0.1, 2.0, cap=5.0, jitter="full")

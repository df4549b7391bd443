"""Per-(fingerprint, strategy) outcome counters: additive, so stores can merge and persist deltas cheaply."""

from __future__ import annotations

from dataclasses import dataclass

from recoup.errors.taxonomy import Category


@dataclass(frozen=True, slots=True)
class ArmKey:
    """One bandit arm: a strategy tried against one error fingerprint (of one category)."""

    fingerprint: str
    category: Category
    strategy: str


@dataclass(slots=True)
class Counts:
    """Sufficient statistics of the outcomes of one arm. Every field is a sum, so deltas add up.

    Seconds are kept separately for successes (time to recover) and failures (time wasted before
    giving up), with sums of squares for the spread the sampler needs.
    """

    trials: int = 0
    successes: int = 0
    attempts: int = 0
    success_seconds: float = 0.0
    success_seconds_sq: float = 0.0
    failure_seconds: float = 0.0

    def add(self, other: Counts) -> None:
        self.trials += other.trials
        self.successes += other.successes
        self.attempts += other.attempts
        self.success_seconds += other.success_seconds
        self.success_seconds_sq += other.success_seconds_sq
        self.failure_seconds += other.failure_seconds

    def minus(self, other: Counts) -> Counts:
        """``self - other`` (floored at zero): a category's evidence without one fingerprint's own."""
        return Counts(
            max(0, self.trials - other.trials),
            max(0, self.successes - other.successes),
            max(0, self.attempts - other.attempts),
            max(0.0, self.success_seconds - other.success_seconds),
            max(0.0, self.success_seconds_sq - other.success_seconds_sq),
            max(0.0, self.failure_seconds - other.failure_seconds),
        )

    def copy(self) -> Counts:
        return Counts(
            self.trials,
            self.successes,
            self.attempts,
            self.success_seconds,
            self.success_seconds_sq,
            self.failure_seconds,
        )

    @property
    def failures(self) -> int:
        return self.trials - self.successes

    @classmethod
    def one(cls, *, success: bool, attempts: int, seconds: float) -> Counts:
        """The delta for a single recorded outcome."""
        if success:
            return cls(1, 1, attempts, seconds, seconds * seconds, 0.0)
        return cls(1, 0, attempts, 0.0, 0.0, seconds)


@dataclass(frozen=True, slots=True)
class ArmStats:
    """One row of `Learner.stats` / `Learner.table`: what was measured, and what the learner expects."""

    fingerprint: str
    category: Category
    strategy: str
    trials: int
    successes: int
    success_rate: float
    mean_attempts: float
    #: Mean time to recover over the successes (None before the first success).
    mean_seconds_to_recover: float | None
    #: Mean time spent before giving up over the failures (None before the first failure).
    mean_seconds_on_failure: float | None
    #: The learner's posterior-mean cost in seconds (time spent + failure penalty), with category shrinkage.
    expected_cost: float

"""A per-fingerprint bandit choosing the recovery strategy with the lowest expected cost.

Objective. Recovering from one error with strategy *s* costs the seconds it took, plus a penalty when
it did not recover at all (the price of giving up: the caller's RTO or give-up time):

    cost(s) = p·T_ok + (1 - p)·(T_fail + failure_penalty)

with ``p`` the probability of recovering, ``T_ok`` the mean time to recover and ``T_fail`` the mean
time burnt before giving up. The learner minimises expected cost per error.

Estimates (hierarchical). Each (fingerprint, strategy) arm keeps additive counters. Its success rate
has a Beta posterior whose prior is the same strategy's rate over the *other* fingerprints of the
category, worth up to `prior_weight` pseudo-trials: fewer when the category's fingerprints disagree
(empirical Bayes, see `Learner._prior_strength`); its times shrink toward the category's the same way.
A fingerprint seen once therefore behaves like its category, and one seen often like itself.

Choice (Thompson sampling + ε; ``thompson=False``: ε-greedy on the posterior mean). With no data for any
candidate at either level the first candidate (the configured default) is returned, deterministically.
Otherwise, with probability `exploration`, a candidate other than the current best (lowest
posterior-mean cost) is tried, drawn with weight 1 / (1 + its trials on this fingerprint): a floor of
exploration that measures alternatives a misleading category prior made look bad, and keeps a drifting
service re-measured. Otherwise each candidate's cost is sampled from its posterior
(``p ~ Beta``, ``T_ok ~ Normal(mean, sd/√n)``) and the cheapest sample wins, so uncertain arms are
explored in proportion to their chance of being best, and that exploration fades with data.

A category prior is worth at most `prior_weight` trials, at most as many trials as it was measured
from, and one trial while only one other fingerprint backs it (an anecdote, not a population).
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from recoup.errors.taxonomy import Category
from recoup.recovery.learning.stats import ArmKey, ArmStats, Counts
from recoup.recovery.learning.store import LearningStore, MemoryLearningStore


@dataclass(frozen=True, slots=True)
class _Posterior:
    alpha: float
    beta: float
    t_ok: float
    t_ok_sd: float
    t_fail: float


class _Spread:
    """Running moments of one strategy's per-fingerprint success rates within a category."""

    __slots__ = ("n", "sum_inv_trials", "sum_rate", "sum_rate_sq")

    def __init__(self) -> None:
        self.n = 0
        self.sum_rate = 0.0
        self.sum_rate_sq = 0.0
        self.sum_inv_trials = 0.0

    def update(self, arm: Counts, sign: int) -> None:
        rate = arm.successes / arm.trials
        self.n += sign
        self.sum_rate += sign * rate
        self.sum_rate_sq += sign * rate * rate
        self.sum_inv_trials += sign / arm.trials


def _category(value: Category | str) -> Category:
    if isinstance(value, Category):
        return value
    try:
        return Category(value)
    except ValueError:
        raise ValueError(f"unknown category {value!r}; expected one of {[c.value for c in Category]}") from None


class Learner:
    """Chooses recovery strategies per error fingerprint from measured outcomes. Thread-safe.

    ``Learner(store=SQLiteLearningStore(path) | MemoryLearningStore(), rng_seed=..., exploration=...)``.
    `failure_penalty` is the cost, in seconds, of not recovering; `prior_weight` is how many trials the
    category's evidence is worth to a fingerprint at most. ``thompson=False`` exploits the posterior-mean
    best instead of sampling: exploration is then exactly `exploration` (bounded, for operators who
    would rather learn slower than try alternatives more often), at the price of slower learning.
    """

    def __init__(
        self,
        store: LearningStore | None = None,
        *,
        rng_seed: int | None = None,
        exploration: float = 0.05,
        failure_penalty: float = 30.0,
        prior_weight: float = 3.0,
        thompson: bool = True,
    ) -> None:
        if not 0.0 <= exploration <= 1.0:
            raise ValueError(f"exploration must be in [0, 1], got {exploration!r}")
        if not (math.isfinite(failure_penalty) and failure_penalty >= 0):
            raise ValueError(f"failure_penalty must be a finite number >= 0, got {failure_penalty!r}")
        if not (math.isfinite(prior_weight) and prior_weight > 0):
            raise ValueError(f"prior_weight must be a finite number > 0, got {prior_weight!r}")
        self.store: LearningStore = store if store is not None else MemoryLearningStore()
        self.exploration = exploration
        self.failure_penalty = failure_penalty
        self.prior_weight = prior_weight
        self.thompson = thompson
        self._rng = random.Random(rng_seed)
        self._lock = threading.Lock()
        self._arms: dict[ArmKey, Counts] = {}
        self._by_category: dict[tuple[Category, str], Counts] = {}
        self._by_fingerprint: dict[str, Counts] = {}
        self._spread: dict[tuple[Category, str], _Spread] = {}
        self._load()

    def _load(self) -> None:
        arms = self.store.load()
        with self._lock:
            self._arms = {}
            self._by_category = {}
            self._by_fingerprint = {}
            self._spread = {}
            for key, counts in arms.items():
                self._add_locked(key, counts)

    def reload(self) -> None:
        """Re-read the store (outcomes other processes recorded into a shared file since we loaded)."""
        self.store.flush()
        self._load()

    def _add_locked(self, key: ArmKey, delta: Counts) -> None:
        arm = self._arms.setdefault(key, Counts())
        spread = self._spread.setdefault((key.category, key.strategy), _Spread())
        if arm.trials:
            spread.update(arm, -1)
        arm.add(delta)
        if arm.trials:
            spread.update(arm, +1)
        self._by_category.setdefault((key.category, key.strategy), Counts()).add(delta)
        self._by_fingerprint.setdefault(key.fingerprint, Counts()).add(delta)

    # -- the interface the engine calls ------------------------------------------------------------

    def choose(self, fingerprint: str, category: Category, candidates: Sequence[str]) -> str:
        """The strategy to try for this error; ``candidates[0]`` is the configured default."""
        if not isinstance(fingerprint, str) or not fingerprint:
            raise ValueError("fingerprint must be a non-empty string")
        cat = _category(category)
        if isinstance(candidates, str):
            raise ValueError("candidates must be a sequence of strategy names, not one string")
        options = list(dict.fromkeys(candidates))  # de-duplicated, order kept
        if not options:
            raise ValueError("candidates must not be empty (the first one is the default strategy)")
        for name in options:
            if not isinstance(name, str) or not name:
                raise ValueError(f"candidate strategy names must be non-empty strings, got {name!r}")
        if len(options) == 1:
            return options[0]
        with self._lock:
            if not any(self._has_data(fingerprint, cat, s) for s in options):
                return options[0]
            posts = [self._posterior(fingerprint, cat, s) for s in options]
            means = [self._mean_cost(p) for p in posts]
            best = min(range(len(options)), key=lambda i: (means[i], i))
            rng = self._rng
            if self.exploration > 0 and rng.random() < self.exploration:
                # Spend the exploration budget mostly on the least-measured alternatives.
                others = [s for i, s in enumerate(options) if i != best]
                weights = [1.0 / (1.0 + self._own_trials(fingerprint, cat, s)) for s in others]
                return rng.choices(others, weights)[0]
            if not self.thompson:
                return options[best]
            samples = [self._sampled_cost(p, rng) for p in posts]
            pick = min(range(len(options)), key=lambda i: (samples[i], i))
            return options[pick]

    def record(
        self,
        fingerprint: str,
        category: Category,
        strategy: str,
        *,
        success: bool,
        attempts: int,
        seconds: float,
    ) -> None:
        """One recovery outcome: did `strategy` recover, after how many attempts and seconds."""
        if not isinstance(fingerprint, str) or not fingerprint:
            raise ValueError("fingerprint must be a non-empty string")
        if not isinstance(strategy, str) or not strategy:
            raise ValueError("strategy must be a non-empty string")
        cat = _category(category)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
            raise ValueError(f"attempts must be an int >= 0, got {attempts!r}")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError(f"seconds must be a number, got {seconds!r}")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be finite and >= 0, got {seconds!r}")
        key = ArmKey(fingerprint, cat, strategy)
        delta = Counts.one(success=bool(success), attempts=attempts, seconds=float(seconds))
        with self._lock:
            self._add_locked(key, delta)
            self.store.add(key, delta)

    # -- reports -----------------------------------------------------------------------------------

    def best(self, fingerprint: str, category: Category, candidates: Sequence[str]) -> str:
        """The current best candidate by posterior-mean cost, without exploring (for reports and tests)."""
        options = list(dict.fromkeys(candidates))
        if not options:
            raise ValueError("candidates must not be empty (the first one is the default strategy)")
        cat = _category(category)
        with self._lock:
            if not any(self._has_data(fingerprint, cat, s) for s in options):
                return options[0]
            means = [self._mean_cost(self._posterior(fingerprint, cat, s)) for s in options]
        return options[min(range(len(options)), key=lambda i: (means[i], i))]

    def stats(self, fingerprint: str) -> list[ArmStats]:
        """What was measured for each strategy tried on this fingerprint, cheapest expected cost first."""
        with self._lock:
            rows = [self._row(k, c) for k, c in self._arms.items() if k.fingerprint == fingerprint]
        return sorted(rows, key=lambda r: (r.expected_cost, r.strategy))

    def table(self) -> list[ArmStats]:
        """Every (fingerprint, strategy) arm, grouped by fingerprint, cheapest first within each."""
        with self._lock:
            rows = [self._row(k, c) for k, c in self._arms.items()]
        return sorted(rows, key=lambda r: (r.category.value, r.fingerprint, r.expected_cost, r.strategy))

    def _row(self, key: ArmKey, c: Counts) -> ArmStats:
        post = self._posterior(key.fingerprint, key.category, key.strategy)
        return ArmStats(
            fingerprint=key.fingerprint,
            category=key.category,
            strategy=key.strategy,
            trials=c.trials,
            successes=c.successes,
            success_rate=c.successes / c.trials if c.trials else 0.0,
            mean_attempts=c.attempts / c.trials if c.trials else 0.0,
            mean_seconds_to_recover=c.success_seconds / c.successes if c.successes else None,
            mean_seconds_on_failure=c.failure_seconds / c.failures if c.failures else None,
            expected_cost=self._mean_cost(post),
        )

    # -- lifecycle ---------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write pending outcomes to the store now."""
        self.store.flush()

    def close(self) -> None:
        """Flush and close the store."""
        self.store.close()

    def __enter__(self) -> Learner:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- the model ---------------------------------------------------------------------------------

    def _own_trials(self, fingerprint: str, category: Category, strategy: str) -> int:
        own = self._arms.get(ArmKey(fingerprint, category, strategy))
        return own.trials if own is not None else 0

    def _has_data(self, fingerprint: str, category: Category, strategy: str) -> bool:
        own = self._arms.get(ArmKey(fingerprint, category, strategy))
        if own is not None and own.trials:
            return True
        cat = self._by_category.get((category, strategy))
        return cat is not None and cat.trials > 0

    def _prior_strength(self, category: Category, strategy: str) -> float:
        """How many trials the category's evidence is worth to one fingerprint (empirical Bayes).

        Method of moments on the strategy's success rates across the category's fingerprints: when they
        agree the category predicts a new fingerprint well (strength up to `prior_weight`); when they
        disagree (one endpoint overloaded, another merely flaky) it predicts little, and a fingerprint's
        own few outcomes should take over quickly (strength down to 0.5 trial).
        """
        cap = self.prior_weight
        spread = self._spread.get((category, strategy))
        if spread is None or spread.n < 2:
            return min(cap, 1.0)  # one fingerprint is an anecdote, not a population: a weak prior
        mu = spread.sum_rate / spread.n
        observed = spread.sum_rate_sq / spread.n - mu * mu
        between = observed - mu * (1.0 - mu) * spread.sum_inv_trials / spread.n  # minus binomial noise
        if between <= 1e-12:
            return cap
        strength = mu * (1.0 - mu) / between - 1.0
        return min(cap, max(min(0.5, cap), strength))

    def _posterior(self, fingerprint: str, category: Category, strategy: str) -> _Posterior:
        """Success Beta and time estimates for one arm, shrunk toward the category's other fingerprints."""
        own = self._arms.get(ArmKey(fingerprint, category, strategy)) or Counts()
        cat_total = self._by_category.get((category, strategy))
        rest = cat_total.minus(own) if cat_total is not None else Counts()
        # A prior is worth no more trials than it was measured from.
        m = min(self._prior_strength(category, strategy), float(rest.trials))

        p_cat = (rest.successes + 1.0) / (rest.trials + 2.0)
        # Jeffreys' Beta(½, ½) underneath, so that an arm without any evidence is maximally uncertain.
        alpha = own.successes + m * p_cat + 0.5
        beta = own.failures + m * (1.0 - p_cat) + 0.5

        # Time to recover: the category's mean for this strategy, else this fingerprint's mean over all
        # strategies (a scale, weakly weighted), else nothing.
        if rest.successes:
            ref_ok, w_ok = rest.success_seconds / rest.successes, m
        else:
            fp_all = self._by_fingerprint.get(fingerprint)
            if fp_all is not None and fp_all.successes:
                ref_ok, w_ok = fp_all.success_seconds / fp_all.successes, 1.0
            else:
                ref_ok, w_ok = 0.0, 0.0
        n_ok = own.successes + w_ok
        t_ok = (own.success_seconds + w_ok * ref_ok) / n_ok if n_ok > 0 else 0.0
        n_pool = own.successes + rest.successes
        if n_pool >= 2:
            mean_pool = (own.success_seconds + rest.success_seconds) / n_pool
            var = max(0.0, (own.success_seconds_sq + rest.success_seconds_sq) / n_pool - mean_pool * mean_pool)
            # A floor so that two identical timings do not make the estimate look certain.
            var = max(var, (0.1 * t_ok) ** 2)
        else:
            var = t_ok * t_ok  # one or no observation: assume a coefficient of variation of 1
        t_ok_sd = math.sqrt(var / max(1.0, n_ok))

        if rest.failures:
            ref_fail, w_fail = rest.failure_seconds / rest.failures, m
        else:
            ref_fail, w_fail = t_ok, 1.0
        n_fail = own.failures + w_fail
        t_fail = (own.failure_seconds + w_fail * ref_fail) / n_fail
        return _Posterior(alpha, beta, t_ok, t_ok_sd, t_fail)

    def _mean_cost(self, post: _Posterior) -> float:
        p = post.alpha / (post.alpha + post.beta)
        return p * post.t_ok + (1.0 - p) * (post.t_fail + self.failure_penalty)

    def _sampled_cost(self, post: _Posterior, rng: random.Random) -> float:
        p = rng.betavariate(post.alpha, post.beta)
        t_ok = max(0.0, rng.gauss(post.t_ok, post.t_ok_sd)) if post.t_ok_sd > 0 else post.t_ok
        return p * t_ok + (1.0 - p) * (post.t_fail + self.failure_penalty)

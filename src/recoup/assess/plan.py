"""What the assessment will do, decided up front from a seed so a run can be repeated exactly."""

from __future__ import annotations

import random
from dataclasses import dataclass

from recoup.assess.faults import PERMANENT_FAULTS, TIMEOUT_FAULTS, TRANSIENT_FAULTS, FaultKind

#: What the load phase draws from: every transient fault, the hung upstream included.
LOAD_TRANSIENT_FAULTS: tuple[FaultKind, ...] = TRANSIENT_FAULTS + TIMEOUT_FAULTS


@dataclass(frozen=True)
class AssessConfig:
    """Knobs of one assessment run. Rates are fractions of all operations."""

    ops: int = 1000
    concurrency: int = 100
    transient_rate: float = 0.30
    permanent_rate: float = 0.10
    max_clears_after: int = 3
    attempts: int = 8
    seed: int = 1
    outage_seconds: float = 0.5
    outage_at: float = 0.5

    def validate(self) -> None:
        """Reject impossible settings with a message naming the bad one."""
        if self.ops < 1:
            raise ValueError(f"ops must be at least 1, got {self.ops}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
        for name in ("transient_rate", "permanent_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.transient_rate + self.permanent_rate > 1.0:
            raise ValueError(
                f"transient_rate + permanent_rate must not exceed 1, got "
                f"{self.transient_rate} + {self.permanent_rate}"
            )
        if self.outage_seconds < 0:
            raise ValueError(f"outage_seconds must not be negative, got {self.outage_seconds}")
        if not 0.0 <= self.outage_at <= 1.0:
            raise ValueError(f"outage_at must be between 0 and 1, got {self.outage_at}")
        if self.max_clears_after < 1:
            raise ValueError(f"max_clears_after must be at least 1, got {self.max_clears_after}")
        if self.attempts <= self.max_clears_after:
            raise ValueError(
                f"attempts ({self.attempts}) must exceed max_clears_after ({self.max_clears_after}), "
                "or transient faults could never be recovered"
            )


@dataclass(frozen=True)
class OperationPlan:
    """One operation: which fault (if any) stands in its way, and after how many failures it clears."""

    index: int
    fault: FaultKind | None
    clears_after: int

    @property
    def recoverable(self) -> bool:
        return self.fault is not None and self.fault.transient

    @property
    def permanent(self) -> bool:
        return self.fault is not None and not self.fault.transient


def make_plan(config: AssessConfig) -> list[OperationPlan]:
    """Draw every operation's fault from the seeded generator: rates are met in expectation."""
    rng = random.Random(config.seed)
    plans: list[OperationPlan] = []
    for index in range(config.ops):
        draw = rng.random()
        if draw < config.transient_rate:
            fault: FaultKind | None = rng.choice(LOAD_TRANSIENT_FAULTS)
            clears_after = rng.randint(1, config.max_clears_after)
        elif draw < config.transient_rate + config.permanent_rate:
            fault = rng.choice(PERMANENT_FAULTS)
            clears_after = 0
        else:
            fault, clears_after = None, 0
        plans.append(OperationPlan(index, fault, clears_after))
    return plans

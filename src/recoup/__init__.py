"""recoup: classify errors, recover from them, and tell people truthfully when you can't.

Public names load lazily so that ``import recoup`` costs milliseconds and imports only the stdlib.
"""

from __future__ import annotations

import importlib

# `typing` costs more to import than all of recoup's own start-up, so it is not imported at run time;
# type checkers treat this name like `typing.TYPE_CHECKING`.
TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Category": "recoup.errors.taxonomy",
    "Classification": "recoup.errors.taxonomy",
    "classify": "recoup.errors.classifier",
    "retry": "recoup.policies.retry",
    "Retry": "recoup.policies.retry",
    "Backoff": "recoup.policies.backoff",
    "CircuitBreaker": "recoup.policies.breaker",
    "Bulkhead": "recoup.policies.bulkhead",
    "RateLimiter": "recoup.policies.ratelimit",
    "Timeout": "recoup.policies.timeout",
    "Fallback": "recoup.policies.fallback",
    "Pipeline": "recoup.policies.pipeline",
    "CircuitOpenError": "recoup.policies.errors",
    "BulkheadFullError": "recoup.policies.errors",
    "RateLimitedError": "recoup.policies.errors",
    "DeadlineExceeded": "recoup.policies.errors",
    "RecoupError": "recoup.policies.errors",
    "subscribe": "recoup.policies.events",
    "RetryBudget": "recoup.policies.budget",
    "ConsecutiveFailures": "recoup.policies.trip",
    "FailureRatio": "recoup.policies.trip",
    "SlowCallRatio": "recoup.policies.trip",
    "AdaptiveFailureRatio": "recoup.policies.trip",
    "Workflow": "recoup.recovery.checkpoint",
    "RecoveryEngine": "recoup.recovery.engine",
    "RecoveryReport": "recoup.recovery.engine",
    "recovery_report": "recoup.recovery.engine",
    "EngineConfig": "recoup.recovery.config",
    "CategoryConfig": "recoup.recovery.config",
    "BreakerConfig": "recoup.recovery.config",
    "DegradeConfig": "recoup.recovery.config",
    "ConfigError": "recoup.recovery.config",
    "Learner": "recoup.recovery.protocols",
    "FixerRegistry": "recoup.recovery.validation",
    "CallArgs": "recoup.recovery.validation",
    "PolicyEvent": "recoup.policies.events",
    "EventKind": "recoup.policies.events",
    # Chaos Toolkit's convention: `chaos discover recoup` calls the distribution's top-level `discover`.
    "discover": "recoup.chaos.chaostoolkit",
}

__all__ = [
    "AdaptiveFailureRatio",
    "Backoff",
    "BreakerConfig",
    "Bulkhead",
    "BulkheadFullError",
    "CallArgs",
    "Category",
    "CategoryConfig",
    "CircuitBreaker",
    "CircuitOpenError",
    "Classification",
    "ConfigError",
    "ConsecutiveFailures",
    "DeadlineExceeded",
    "DegradeConfig",
    "EngineConfig",
    "EventKind",
    "FailureRatio",
    "Fallback",
    "FixerRegistry",
    "Learner",
    "Pipeline",
    "PolicyEvent",
    "RateLimitedError",
    "RateLimiter",
    "RecoupError",
    "RecoveryEngine",
    "RecoveryReport",
    "Retry",
    "RetryBudget",
    "SlowCallRatio",
    "Timeout",
    "Workflow",
    "__version__",
    "classify",
    "discover",
    "recovery_report",
    "retry",
    "subscribe",
]

if TYPE_CHECKING:
    from typing import Any

    from recoup.chaos.chaostoolkit import discover
    from recoup.errors.classifier import classify
    from recoup.errors.taxonomy import Category, Classification
    from recoup.policies.backoff import Backoff
    from recoup.policies.breaker import CircuitBreaker
    from recoup.policies.budget import RetryBudget
    from recoup.policies.bulkhead import Bulkhead
    from recoup.policies.errors import (
        BulkheadFullError,
        CircuitOpenError,
        DeadlineExceeded,
        RateLimitedError,
        RecoupError,
    )
    from recoup.policies.events import EventKind, PolicyEvent, subscribe
    from recoup.policies.fallback import Fallback
    from recoup.policies.pipeline import Pipeline
    from recoup.policies.ratelimit import RateLimiter
    from recoup.policies.retry import Retry, retry
    from recoup.policies.timeout import Timeout
    from recoup.policies.trip import AdaptiveFailureRatio, ConsecutiveFailures, FailureRatio, SlowCallRatio
    from recoup.recovery.checkpoint import Workflow
    from recoup.recovery.config import BreakerConfig, CategoryConfig, ConfigError, DegradeConfig, EngineConfig
    from recoup.recovery.engine import RecoveryEngine, RecoveryReport, recovery_report
    from recoup.recovery.protocols import Learner
    from recoup.recovery.validation import CallArgs, FixerRegistry


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'recoup' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

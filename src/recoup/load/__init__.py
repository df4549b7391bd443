"""Load testing: an open-model asyncio runner, an HDR-style histogram and CI thresholds.

``Histogram`` is stdlib-only and cheap to import (the assessment reuses it); the runner pulls in aiohttp
(or httpx) only when it opens an HTTP target. Names load on first use.
"""

from __future__ import annotations

import importlib

# `typing` costs more to import than the histogram itself; type checkers treat this like typing.TYPE_CHECKING
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from recoup.load.histogram import Histogram, HistogramError
    from recoup.load.http import HttpTarget
    from recoup.load.profiles import ClosedModel, LoadProfileError, OpenModel, Stage
    from recoup.load.result import IntervalStats, LoadResult
    from recoup.load.runner import LoadError, Progress, note_recoverable_fault, run_load, run_load_async
    from recoup.load.thresholds import (
        Threshold,
        ThresholdError,
        ThresholdOutcome,
        evaluate_thresholds,
        parse_threshold,
    )

_EXPORTS = {
    "Histogram": "recoup.load.histogram",
    "HistogramError": "recoup.load.histogram",
    "LoadResult": "recoup.load.result",
    "IntervalStats": "recoup.load.result",
    "OpenModel": "recoup.load.profiles",
    "ClosedModel": "recoup.load.profiles",
    "Stage": "recoup.load.profiles",
    "LoadProfileError": "recoup.load.profiles",
    "HttpTarget": "recoup.load.http",
    "run_load": "recoup.load.runner",
    "run_load_async": "recoup.load.runner",
    "note_recoverable_fault": "recoup.load.runner",
    "Progress": "recoup.load.runner",
    "LoadError": "recoup.load.runner",
    "Threshold": "recoup.load.thresholds",
    "ThresholdOutcome": "recoup.load.thresholds",
    "ThresholdError": "recoup.load.thresholds",
    "parse_threshold": "recoup.load.thresholds",
    "evaluate_thresholds": "recoup.load.thresholds",
}

__all__ = [
    "ClosedModel",
    "Histogram",
    "HistogramError",
    "HttpTarget",
    "IntervalStats",
    "LoadError",
    "LoadProfileError",
    "LoadResult",
    "OpenModel",
    "Progress",
    "Stage",
    "Threshold",
    "ThresholdError",
    "ThresholdOutcome",
    "evaluate_thresholds",
    "note_recoverable_fault",
    "parse_threshold",
    "run_load",
    "run_load_async",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'recoup.load' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

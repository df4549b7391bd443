"""Chaos engineering for recoup: in-process fault injection, resource pressure, a TCP fault proxy
(`recoup.chaos.proxy`) and the Chaos Toolkit extension (`recoup.chaos.chaostoolkit`).

Names are imported on first use, so `import recoup.chaos` stays as light as `import recoup`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "Chaos": "recoup.chaos.inject",
    "CHAOS": "recoup.chaos.inject",
    "ChaosConfigError": "recoup.chaos.inject",
    "Rule": "recoup.chaos.inject_rules",
    "Latency": "recoup.chaos.inject_effects",
    "Hang": "recoup.chaos.inject_effects",
    "Raise": "recoup.chaos.inject_effects",
    "Fault": "recoup.chaos.catalogue",
    "CATALOGUE": "recoup.chaos.catalogue",
    "fault": "recoup.chaos.catalogue",
    "faults_of": "recoup.chaos.catalogue",
    "Always": "recoup.chaos.schedule",
    "FirstCalls": "recoup.chaos.schedule",
    "AfterCalls": "recoup.chaos.schedule",
    "EveryNth": "recoup.chaos.schedule",
    "CallBursts": "recoup.chaos.schedule",
    "During": "recoup.chaos.schedule",
    "TimeBursts": "recoup.chaos.schedule",
    "memory_ballast": "recoup.chaos.pressure",
    "fd_exhaustion": "recoup.chaos.pressure",
    "cpu_hog": "recoup.chaos.pressure",
    "disk_full": "recoup.chaos.pressure_disk",
}

__all__ = [
    "CATALOGUE",
    "CHAOS",
    "AfterCalls",
    "Always",
    "CallBursts",
    "Chaos",
    "ChaosConfigError",
    "During",
    "EveryNth",
    "Fault",
    "FirstCalls",
    "Hang",
    "Latency",
    "Raise",
    "Rule",
    "TimeBursts",
    "cpu_hog",
    "disk_full",
    "fault",
    "faults_of",
    "fd_exhaustion",
    "memory_ballast",
]

if TYPE_CHECKING:
    from recoup.chaos.catalogue import CATALOGUE, Fault, fault, faults_of
    from recoup.chaos.inject import CHAOS, Chaos, ChaosConfigError
    from recoup.chaos.inject_effects import Hang, Latency, Raise
    from recoup.chaos.inject_rules import Rule
    from recoup.chaos.pressure import cpu_hog, fd_exhaustion, memory_ballast
    from recoup.chaos.pressure_disk import disk_full
    from recoup.chaos.schedule import AfterCalls, Always, CallBursts, During, EveryNth, FirstCalls, TimeBursts


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'recoup.chaos' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

"""What a load run measured: the latency histogram, outcome counts, scheduler health and a per-second series."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recoup.load.histogram import Histogram

__all__ = ["SUMMARY_PERCENTILES", "IntervalStats", "LoadResult", "new_latency_histogram"]

#: Percentiles every summary shows.
SUMMARY_PERCENTILES = (50.0, 90.0, 99.0, 99.9)
#: Latencies are recorded in microseconds, from 1 µs to one hour, to 3 significant digits.
MICROS = 1_000_000
HIGHEST_MICROS = 3_600 * MICROS


def new_latency_histogram() -> Histogram:
    """The histogram every load latency goes into (µs, 1 µs .. 1 h, 3 significant digits)."""
    return Histogram(1, HIGHEST_MICROS, 3)


@dataclass(frozen=True, slots=True)
class IntervalStats:
    """One slice of the run (by completion time) for charts; latencies in seconds, all 0 when nothing
    completed in it."""

    start: float
    completed: int
    errors: int
    p50: float
    p99: float
    max: float

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "completed": self.completed, "errors": self.errors,
                "p50": self.p50, "p99": self.p99, "max": self.max}


@dataclass(slots=True)
class LoadResult:
    """Everything one run measured. Latency of an open-model operation counts from its INTENDED start."""

    target: str
    mode: str  # "constant" | "ramp" | "closed"
    profile: str
    planned_duration: float
    elapsed: float = 0.0
    started_at: float = 0.0  # wall clock (epoch s) at the start
    histogram: Histogram = field(default_factory=new_latency_histogram)
    scheduled: int = 0  # operations the schedule asked for (open model) or started (closed)
    ok: int = 0
    errors: int = 0
    error_categories: dict[str, int] = field(default_factory=dict)
    status_codes: dict[int, int] = field(default_factory=dict)
    dropped: int = 0  # due starts skipped because max-in-flight operations were already running
    late: int = 0  # starts that began more than `late_after` after they were due (the generator lagged)
    max_start_lag: float = 0.0
    unfinished: int = 0  # still running at the end of the drain time; counted as errors
    faulted: int = 0  # operations that noted a recoverable fault (`note_recoverable_fault`)
    faulted_ok: int = 0  # ... and still succeeded
    interval: float = 1.0
    intervals: list[IntervalStats] = field(default_factory=list)
    max_in_flight: int = 0
    peak_in_flight: int = 0

    @property
    def completed(self) -> int:
        return self.ok + self.errors

    @property
    def throughput(self) -> float:
        """Completed operations per second of the run."""
        return self.completed / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return self.errors / self.completed if self.completed else 0.0

    @property
    def success_rate(self) -> float:
        return self.ok / self.completed if self.completed else 0.0

    @property
    def recovery(self) -> float:
        """Success ratio of operations that met a recoverable fault, or of all operations if none noted one."""
        if self.faulted:
            return self.faulted_ok / self.faulted
        return self.success_rate

    def latency(self, percent: float) -> float:
        """The latency percentile in seconds (3 significant digits, from the histogram)."""
        return self.histogram.percentile(percent) / MICROS

    def latency_summary(self) -> dict[str, float]:
        """p50/p90/p99/p99.9, min, max, mean and stdev in seconds."""
        hist = self.histogram
        values = hist.percentiles(SUMMARY_PERCENTILES)
        summary = {_pname(p): v / MICROS for p, v in values.items()}
        summary.update(min=hist.min / MICROS, max=hist.max / MICROS, mean=hist.mean / MICROS,
                       stdev=hist.stdev / MICROS)
        return summary

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the summary, the counts, the per-interval series and the serialised histogram."""
        return {
            "target": self.target,
            "mode": self.mode,
            "profile": self.profile,
            "planned_duration_s": self.planned_duration,
            "elapsed_s": self.elapsed,
            "started_at": self.started_at,
            "scheduled": self.scheduled,
            "completed": self.completed,
            "ok": self.ok,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "throughput_per_s": self.throughput,
            "recovery": self.recovery,
            "faulted": self.faulted,
            "faulted_ok": self.faulted_ok,
            "dropped": self.dropped,
            "late": self.late,
            "unfinished": self.unfinished,
            "max_start_lag_s": self.max_start_lag,
            "max_in_flight": self.max_in_flight,
            "peak_in_flight": self.peak_in_flight,
            "error_categories": dict(sorted(self.error_categories.items())),
            "status_codes": {str(code): n for code, n in sorted(self.status_codes.items())},
            "latency_s": self.latency_summary(),
            "interval_s": self.interval,
            "intervals": [i.to_dict() for i in self.intervals],
            "histogram_unit": "us",
            "histogram": self.histogram.to_dict(),
        }


def _pname(percent: float) -> str:
    return f"p{percent:g}"

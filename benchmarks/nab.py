"""recoup's streaming anomaly detector on the Numenta Anomaly Benchmark, scored by NAB's published rules.

The scorer here is written from NAB's documented rules (Lavin & Ahmad 2015, and the NAB wiki / README):

* the first ``min(floor(0.15 * rows), 750)`` rows of a series are probationary and not scored;
* a detection is a row whose anomaly score is ``>= threshold``;
* inside a labelled window only the earliest detection counts, worth ``tpWeight * S(p) / S(-1)`` where
  ``S(p) = 2 * sigmoid(-5 p) - 1`` and ``p = -(right - i + 1) / width`` (about -1 at the window's start,
  0 at its end), so the best detection is worth exactly ``tpWeight``;
* a detection outside every window costs ``fpWeight * S(p)`` (``S`` is negative there), with
  ``p = (i - right_of_previous_window) / (width_of_previous_window - 1)``, and ``-fpWeight`` when no window
  came before or three widths have passed;
* a window with no detection costs ``-fnWeight``;
* the threshold is chosen per detector and profile to maximise the summed score over the whole corpus;
* final = ``100 * (raw - null) / (perfect - null)``: null = no detections (every window missed),
  perfect = every window caught at its first row.

The detectors: recoup's (`recoup.analytics.anomaly.StreamingDetector`, one configuration for all series),
and baselines written from their papers' descriptions: windowed Gaussian (tail probability of the value
under the mean/std of the last 6400 values, refreshed every 100), random scores (the mean over 10 seeds:
one seed's score varies by about ±8), and the null detector. Cost per point is the detector's own update
time (µs, wall clock over the corpus, one core, the best of the runs).

Run: ``.venv/bin/python benchmarks/nab.py [--data ../shared/data/nab] [--only recoup,gaussian]`` (~1-2 min).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab"
PROBATION_PERCENT = 0.15
PROBATION_CAP = 750


@dataclass(frozen=True)
class Profile:
    """One row of NAB's config/profiles.json: the weight of a true positive, false positive, false negative."""

    name: str
    tp: float
    fp: float
    fn: float


@dataclass(frozen=True)
class Series:
    """One NAB data file: its values and its labelled windows as inclusive (first, last) row indices."""

    name: str
    values: list[float]
    windows: list[tuple[int, int]]


@dataclass(frozen=True)
class Point:
    """A scorable row: the detector's score, the row's weight if detected, and its window (None: outside)."""

    score: float
    weight: float
    window: tuple[str, int] | None


class Detector(Protocol):
    """A streaming detector: one value in, an anomaly score in [0, 1] out."""

    def update(self, value: float) -> float: ...


def probation_length(rows: int) -> int:
    """NAB's probationary period: 15% of the rows, at most 750."""
    return int(min(math.floor(PROBATION_PERCENT * rows), PROBATION_CAP))


def scaled_sigmoid(position: float) -> float:
    """NAB's S(p): +0.987 at a window's start (p=-1), 0 at its end, down to -1 three widths past it."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def sweep(
    series_name: str, rows: int, windows: Sequence[tuple[int, int]], profile: Profile, scores: Sequence[float]
) -> list[Point]:
    """Weigh every scorable row of one series as NAB does; probationary rows are dropped."""
    if len(scores) != rows:
        raise ValueError(f"scores: {len(scores)} values for a series of {rows} rows ({series_name})")
    ordered = sorted(windows)
    for first, last in ordered:
        if not 0 <= first <= last < rows:
            raise ValueError(f"windows: ({first}, {last}) is outside the {rows} rows of {series_name}")
    probation = probation_length(rows)
    points: list[Point] = []
    next_window = 0
    current: tuple[int, int] | None = None
    previous: tuple[int, int] | None = None
    for i in range(rows):
        if current is None and next_window < len(ordered) and ordered[next_window][0] == i:
            current = ordered[next_window]
            next_window += 1
        window: tuple[str, int] | None = None
        if current is not None:
            width = current[1] - current[0] + 1
            weight = scaled_sigmoid(-(current[1] - i + 1) / width) * profile.tp / MAX_TP
            window = (series_name, current[0])
        else:
            if previous is None:
                past = 3.0
            else:
                width = previous[1] - previous[0] + 1
                past = abs(previous[1] - i) / max(width - 1, 1)
            weight = scaled_sigmoid(past) * profile.fp
        if i >= probation:
            points.append(Point(scores[i], weight, window))
        if current is not None and i == current[1]:
            previous, current = current, None
    return points


def scores_by_threshold(points: Iterable[Point], profile: Profile) -> list[tuple[float, float]]:
    """(threshold, summed score) for every distinct threshold, highest first, starting at 1.1 (no detections)."""
    ranked = sorted(points, key=lambda p: p.score, reverse=True)
    best: dict[tuple[str, int], float] = {}
    for point in ranked:
        if point.window is not None:
            best[point.window] = -profile.fn
    total = sum(best.values())
    result: list[tuple[float, float]] = []
    threshold = 1.1
    for point in ranked:
        if point.score != threshold:
            result.append((threshold, total))
            threshold = point.score
        if point.window is None:
            total += point.weight
        elif point.weight > best[point.window]:
            total += point.weight - best[point.window]
            best[point.window] = point.weight
    result.append((threshold, total))
    return result


@dataclass(frozen=True)
class Result:
    """A detector's corpus score for one profile."""

    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float

    @property
    def normalised(self) -> float:
        """NAB's final score: 0 for the null detector, 100 for the perfect one."""
        return 100.0 * (self.raw - self.null) / (self.perfect - self.null)


def score_corpus(corpus: Sequence[Series], all_scores: Sequence[Sequence[float]], profile: Profile) -> Result:
    """Tune the threshold over the whole corpus (as NAB does per detector) and normalise the best sum."""
    points: list[Point] = []
    for series, scores in zip(corpus, all_scores, strict=True):
        points.extend(sweep(series.name, len(series.values), series.windows, profile, scores))
    windows = {p.window for p in points if p.window is not None}
    threshold, raw = max(scores_by_threshold(points, profile), key=lambda pair: pair[1])
    return Result(profile.name, threshold, raw, -profile.fn * len(windows), profile.tp * len(windows))


# ---------------------------------------------------------------------------------------------- corpus


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def load_profiles(root: Path) -> list[Profile]:
    """The three NAB profiles from config/profiles.json."""
    raw = json.loads((root / "config" / "profiles.json").read_text())
    return [
        Profile(
            name,
            float(v["CostMatrix"]["tpWeight"]),
            float(v["CostMatrix"]["fpWeight"]),
            float(v["CostMatrix"]["fnWeight"]),
        )
        for name, v in raw.items()
    ]


def load_corpus(root: Path) -> list[Series]:
    """Every series of data/ with its windows from labels/combined_windows.json, as row indices."""
    labels: dict[str, list[list[str]]] = json.loads((root / "labels" / "combined_windows.json").read_text())
    corpus: list[Series] = []
    for name in sorted(labels):
        times: list[datetime] = []
        values: list[float] = []
        with (root / "data" / name).open(newline="") as handle:
            for row in csv.DictReader(handle):
                times.append(_parse_time(row["timestamp"]))
                values.append(float(row["value"]))
        windows = []
        for start, end in labels[name]:
            first = bisect_left(times, _parse_time(start))
            last = bisect_left(times, _parse_time(end))
            if last == len(times) or times[last] != _parse_time(end):
                last -= 1
            windows.append((first, last))
        corpus.append(Series(name, values, windows))
    return corpus


# ------------------------------------------------------------------------------------------- baselines


class WindowedGaussian:
    """NAB's windowed Gaussian baseline: upper-tail probability of |z| under the last 6400 values' mean/std."""

    def __init__(self, window: int = 6400, step: int = 100) -> None:
        self.window: deque[float] = deque(maxlen=window)
        self.step = step
        self.pending = 0
        self.mean = 0.0
        self.std = 0.0

    def update(self, value: float) -> float:
        score = 0.0
        if self.std > 0.0:
            z = abs(value - self.mean) / self.std
            score = 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))
        self.window.append(value)
        self.pending += 1
        if self.pending >= self.step or len(self.window) < self.step:
            self.pending = 0
            n = len(self.window)
            self.mean = sum(self.window) / n
            self.std = math.sqrt(sum((v - self.mean) ** 2 for v in self.window) / n)
        return score


class RandomDetector:
    """Uniform random scores (NAB's random baseline); seeded so runs repeat."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def update(self, value: float) -> float:
        return self.rng.random()


class NullDetector:
    """A constant score: its best threshold detects nothing, which is what NAB's 0 means."""

    def update(self, value: float) -> float:
        return 0.5


def run_detector(
    corpus: Sequence[Series], make: Callable[[int], Detector], first: int = 0
) -> tuple[list[list[float]], float]:
    """Scores of a fresh detector per series, and the detector's mean update time per point in µs."""
    out: list[list[float]] = []
    spent = 0.0
    points = 0
    for index, series in enumerate(corpus):
        detector = make(first + index)
        update = detector.update
        started = time.perf_counter()
        scores = [update(v) for v in series.values]
        spent += time.perf_counter() - started
        points += len(series.values)
        out.append(scores)
    return out, 1e6 * spent / max(points, 1)


def _recoup_detector(index: int) -> Detector:
    from recoup.analytics.anomaly import StreamingDetector

    return StreamingDetector()


DETECTORS: dict[str, Callable[[int], Detector]] = {
    "recoup": _recoup_detector,
    "gaussian": lambda index: WindowedGaussian(),
    "random": lambda index: RandomDetector(index),
    "null": lambda index: NullDetector(),
}
RANDOM_SEEDS = 10
PUBLISHED = {"recoup": "-", "gaussian": "39.6", "random": "11.0", "null": "0.0"}


def main(argv: Sequence[str] | None = None) -> int:
    """Score every chosen detector on all series, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", default=",".join(DETECTORS), help="comma-separated: " + ",".join(DETECTORS))
    args = parser.parse_args(argv)
    if not (args.data / "labels" / "combined_windows.json").exists():
        print(f"NAB data not found at {args.data}; skipping (pass --data)")
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in DETECTORS]
    if unknown:
        parser.error(f"--only: unknown detector(s) {', '.join(unknown)}")
    corpus = load_corpus(args.data)
    profiles = load_profiles(args.data)
    rows = sum(len(s.values) for s in corpus)
    print(f"NAB: {len(corpus)} series, {rows} rows, {sum(len(s.windows) for s in corpus)} windows")
    header = f"{'detector':<10} {'published':>9} " + " ".join(f"{p.name:>20}" for p in profiles)
    print(header + f" {'µs/point':>9}  thresholds per profile")
    for name in names:
        seeds = RANDOM_SEEDS if name == "random" else 1
        runs = []
        costs = []
        for seed in range(seeds):
            scores, cost = run_detector(corpus, DETECTORS[name], first=seed * 1000)
            runs.append([score_corpus(corpus, scores, p) for p in profiles])
            costs.append(cost)
        means = [sum(run[i].normalised for run in runs) / len(runs) for i in range(len(profiles))]
        cells = " ".join(f"{m:>20.1f}" for m in means)
        thresholds = "/".join(f"{r.threshold:.4f}" for r in runs[0]) if seeds == 1 else f"mean of {seeds} seeds"
        print(f"{name:<10} {PUBLISHED[name]:>9} {cells} {min(costs):>9.2f}  {thresholds}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""benchmarks/nab.py: NAB's scoring rules on tiny hand-made series with scores worked out by hand, and the
whole scorer on the real corpus against NAB's published baseline (skipped where the data is absent)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import nab

STANDARD = nab.Profile("standard", tp=1.0, fp=0.11, fn=1.0)
LOW_FN = nab.Profile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0)
# 100 rows (probation 15), one window of width 10 over rows 50..59.
TINY = nab.Series("tiny.csv", [0.0] * 100, [(50, 59)])


def scores_at(*rows: int, size: int = 100) -> list[float]:
    out = [0.0] * size
    for row in rows:
        out[row] = 1.0
    return out


def test_probation_is_15_percent_capped_at_750() -> None:
    assert nab.probation_length(100) == 15
    assert nab.probation_length(4032) == 604
    assert nab.probation_length(22695) == 750


def test_scaled_sigmoid_matches_the_published_points() -> None:
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(3.0) == -1.0


def test_perfect_detector_scores_100_and_null_scores_0() -> None:
    assert nab.score_corpus([TINY], [scores_at(50)], STANDARD).normalised == pytest.approx(100.0)
    assert nab.score_corpus([TINY], [[0.5] * 100], STANDARD).normalised == pytest.approx(0.0)
    assert nab.score_corpus([TINY], [[0.0] * 100], LOW_FN).normalised == pytest.approx(0.0)


def test_late_detection_earns_the_sigmoid_of_its_position() -> None:
    # Row 59 is the window's last row: position -(59 - 59 + 1) / 10 = -0.1 -> S(-0.1) / S(-1) = 0.248242.
    result = nab.score_corpus([TINY], [scores_at(59)], STANDARD)
    assert result.raw == pytest.approx(0.248242, abs=1e-6)
    assert result.normalised == pytest.approx(62.412, abs=1e-3)


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    # Rows 52 and 55: only 52 counts, position -0.8 -> 0.977107.
    result = nab.score_corpus([TINY], [scores_at(52, 55)], STANDARD)
    assert result.raw == pytest.approx(0.977107, abs=1e-6)


def test_false_positives_cost_fp_weight_growing_after_a_window() -> None:
    # Before any window: -fpWeight; row 69 is 10 rows past the window's end: S(10/9) * 0.11 = -0.109153.
    table = dict(nab.scores_by_threshold(nab.sweep("t", 100, [(50, 59)], STANDARD, scores_at(20, 50)), STANDARD))
    assert table[1.0] == pytest.approx(1.0 - 0.11)
    table = dict(nab.scores_by_threshold(nab.sweep("t", 100, [(50, 59)], STANDARD, scores_at(50, 69)), STANDARD))
    assert table[1.0] == pytest.approx(1.0 - 0.109153, abs=1e-6)
    # Just after the window the cost is small: row 60 -> S(1/9) * 0.11.
    table = dict(nab.scores_by_threshold(nab.sweep("t", 100, [(50, 59)], STANDARD, scores_at(50, 60)), STANDARD))
    assert table[1.0] == pytest.approx(1.0 + 0.11 * nab.scaled_sigmoid(1 / 9))


def test_probationary_rows_are_not_scored() -> None:
    points = nab.sweep("t", 100, [(50, 59)], STANDARD, scores_at(5))
    assert len(points) == 85
    assert all(p.score == 0.0 for p in points)


def test_threshold_is_tuned_and_detection_means_score_at_or_above_it() -> None:
    scores = [0.0] * 100
    scores[50] = 0.9  # the window's first row
    scores[20] = 0.95  # a false positive above it
    scores[30] = 0.4  # a false positive below it
    table = nab.scores_by_threshold(nab.sweep("t", 100, [(50, 59)], STANDARD, scores), STANDARD)
    assert [round(t, 2) for t, _ in table] == [1.1, 0.95, 0.9, 0.4, 0.0]
    by_threshold = dict(table)
    assert by_threshold[1.1] == pytest.approx(-1.0)
    assert by_threshold[0.9] == pytest.approx(1.0 - 0.11)
    result = nab.score_corpus([TINY], [scores], STANDARD)
    assert result.threshold == 0.9
    assert result.normalised == pytest.approx(100 * (0.89 + 1) / 2)


def test_windows_from_several_series_are_kept_apart() -> None:
    other = nab.Series("other.csv", [0.0] * 100, [(50, 59)])
    result = nab.score_corpus([TINY, other], [scores_at(50), [0.0] * 100], STANDARD)
    assert result.null == -2.0
    assert result.perfect == 2.0
    assert result.normalised == pytest.approx(50.0)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="scores"):
        nab.sweep("t", 100, [(50, 59)], STANDARD, [0.0] * 99)
    with pytest.raises(ValueError, match="windows"):
        nab.sweep("t", 100, [(95, 120)], STANDARD, [0.0] * 100)


NAB_DATA = nab.DEFAULT_DATA


@pytest.mark.skipif(not (NAB_DATA / "labels").exists(), reason=f"NAB data not at {NAB_DATA}")
def test_real_corpus_loads_and_windowed_gaussian_lands_near_its_published_score() -> None:
    corpus = nab.load_corpus(NAB_DATA)
    assert len(corpus) == 58
    assert sum(len(s.windows) for s in corpus) == 116
    profiles = {p.name: p for p in nab.load_profiles(NAB_DATA)}
    assert profiles["standard"] == STANDARD
    scores, _ = nab.run_detector(corpus, lambda index: nab.WindowedGaussian())
    result = nab.score_corpus(corpus, scores, STANDARD)
    assert math.isclose(result.normalised, 39.6, abs_tol=2.0), result

"""The combination's thresholds, re-chosen on first-seen verdicts only, one round held out at a time.

    python benchmarks/classifier_thresholds.py COMMIT=FILE[,FILE...] [COMMIT=FILE,...] ...

Each argument names the commit whose classifier first scored a round and that round's corpus files, e.g.
`d6ef616=tests/corpus/blind69.jsonl,...,tests/corpus/blind74.jsonl`. For each, the script checks the commit out
into a temporary git worktree (its rules and its shipped model), records the rule verdict and the model's prediction
of every record there (the verdicts as they were when the round was first seen), then searches a grid of the three
thresholds of `recoup.analytics.combined` on all rounds but one and scores the held-out round. It prints what the
current thresholds and the re-chosen ones get, per round and in total.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from recoup.analytics.classifier_model import Prediction
from recoup.analytics.combined import MODEL_CONFIDENT, MODEL_OVER_UNKNOWN, RULES_CONFIDENT, combine
from recoup.errors.taxonomy import Category, Classification

ROOT = Path(__file__).resolve().parent.parent
DUMP = """
import json, sys
from recoup.errors.classifier import classify
from recoup.analytics.classifier_model import predict
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        r = json.loads(line); rules = classify(r["text"]); model = predict(r["text"])
        print(json.dumps([r["category"], rules.category.value, rules.confidence, model.category.value,
                          model.probability]))
"""
Verdict = tuple[str, str, float, str, float]
Thresholds = tuple[float, float, float]
GRID: list[Thresholds] = list(itertools.product([0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.01],
                                                [0.5, 0.6, 0.7, 0.8, 0.9], [0.0, 0.25, 0.4]))
CURRENT: Thresholds = (RULES_CONFIDENT, MODEL_CONFIDENT, MODEL_OVER_UNKNOWN)


def first_seen(commit: str, files: list[str]) -> list[Verdict]:
    """Every record's rule and model verdicts from the classifier of `commit`."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit], check=True,
                       capture_output=True)
        try:
            out = subprocess.run([sys.executable, "-c", DUMP, *[str(ROOT / f) for f in files]], check=True,
                                 capture_output=True, text=True, env={"PYTHONPATH": str(tree / "src")}).stdout
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)
    return [tuple(json.loads(line)) for line in out.splitlines()]  # type: ignore[misc]


def combined(v: Verdict, t: Thresholds) -> str:
    """`recoup.analytics.combined.combine` itself on recorded verdicts, with thresholds `t`."""
    _, rules, confidence, model, probability = v
    verdict = Classification(Category(rules), False, confidence, "", "recorded")
    prediction = Prediction(Category(model), probability, {})
    chosen = combine(verdict, prediction, rules_confident=t[0], model_confident=t[1], model_over_unknown=t[2])
    return chosen.category.value


def right(rows: list[Verdict], t: Thresholds) -> int:
    return sum(combined(v, t) == v[0] for v in rows)


def main() -> None:
    rounds: dict[str, list[Verdict]] = {}
    for arg in sys.argv[1:]:
        commit, files = arg.split("=", 1)
        rounds[arg] = first_seen(commit, files.split(","))
    everything = [v for rows in rounds.values() for v in rows]
    print(f"{len(everything)} records; model alone {sum(v[3] == v[0] for v in everything)}, rules alone "
          f"{sum(v[1] == v[0] for v in everything)}, current thresholds {CURRENT}: {right(everything, CURRENT)}")
    total = 0
    for held, rows in rounds.items():
        rest = [v for name, other in rounds.items() if name != held for v in other]
        chosen = max(GRID, key=lambda t: (right(rest, t), t == CURRENT))
        total += right(rows, chosen)
        print(f"held out {held.split('=')[0]} ({len(rows)} records): re-chosen {chosen} gets {right(rows, chosen)}, "
              f"current {right(rows, CURRENT)}")
    print(f"leave one round out: re-chosen {total}, current {right(everything, CURRENT)} of {len(everything)}")


if __name__ == "__main__":
    main()

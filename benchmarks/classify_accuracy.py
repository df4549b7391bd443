"""Accuracy of the rule classifier on the real-error corpus, and its speed.

    python benchmarks/classify_accuracy.py [--split dev|heldout|both] [--misses]

Prints, per split: overall accuracy, accuracy per category and per source, a confusion matrix (rows: the
label of the provoked cause, columns: the classifier's answer), then classify() and category_of()
throughput in µs per call. `--misses` lists misclassified records (use it on dev only: heldout is
evaluated, never developed against).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import timeit
from pathlib import Path
from typing import ClassVar

from recoup.errors.classifier import category_of, classify
from recoup.errors.taxonomy import Category

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"


def load(split: str) -> list[dict[str, str]]:
    with (CORPUS / f"{split}.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate(split: str, misses: bool) -> float:
    records = load(split)
    confusion: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    by_source: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    correct = 0
    for rec in records:
        got = classify(rec["text"]).category.value
        confusion[rec["category"]][got] += 1
        ok = got == rec["category"]
        correct += ok
        by_source[rec["source"]][0] += ok
        by_source[rec["source"]][1] += 1
        if misses and not ok:
            text = rec["text"].replace("\n", " | ")[:300]
            print(f"  MISS {rec['category']:>11} -> {got:<11} {rec['provoker']}: {text}")
    accuracy = correct / len(records) if records else 0.0
    print(f"\n== {split}: {correct}/{len(records)} = {accuracy:.1%}")
    cats = [c.value for c in Category]
    print("per category:")
    for cat in cats:
        row = confusion.get(cat)
        if row:
            total = sum(row.values())
            print(f"  {cat:<12} {row[cat]:>4}/{total:<4} {row[cat] / total:6.1%}")
    print("per source:")
    for source, (ok_count, total) in sorted(by_source.items()):
        print(f"  {source:<12} {ok_count:>4}/{total:<4} {ok_count / total:6.1%}")
    print("confusion (rows = label, columns = classified as):")
    short = [c[:5] for c in cats]
    print("  " + " " * 12 + " ".join(f"{s:>5}" for s in short))
    for cat in cats:
        row = confusion.get(cat, collections.Counter())
        print(f"  {cat:<12}" + " ".join(f"{row[c]:>5}" for c in cats))
    return accuracy


def speed() -> None:
    records = load("dev")
    texts = [r["text"] for r in records]
    n = len(texts)
    t = timeit.timeit(lambda: [classify(x) for x in texts], number=3)
    print(f"\nclassify(text): {t / (3 * n) * 1e6:.1f} µs/call over {n} corpus texts")

    class FakeResponse:
        status_code = 503
        headers: ClassVar[dict[str, str]] = {"Retry-After": "3"}

    class HTTPStatusError(Exception):
        def __init__(self) -> None:
            super().__init__("Server error '503 Service Unavailable'")
            self.response = FakeResponse()

    samples: list[BaseException] = [ConnectionRefusedError(111, "Connection refused"), ConnectionError("x"),
                                    TimeoutError("timed out"), ValueError("bad"), HTTPStatusError(),
                                    KeyError("k"), OSError(28, "No space left on device")]
    for exc in samples:
        category_of(exc)
        number = 200_000
        t = timeit.timeit(lambda e=exc: category_of(e), number=number)  # type: ignore[misc]
        print(f"category_of({type(exc).__name__}): {t / number * 1e6:.2f} µs/call -> {category_of(exc)[0]}")
    t = timeit.timeit(lambda: classify(samples[0]), number=20_000)
    print(f"classify(ConnectionRefusedError): {t / 20_000 * 1e6:.1f} µs/call")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=["dev", "heldout", "both"], default="both")
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    splits = ["dev", "heldout"] if args.split == "both" else [args.split]
    for split in splits:
        evaluate(split, args.misses)
    if not args.no_speed:
        speed()
    return 0


if __name__ == "__main__":
    sys.exit(main())

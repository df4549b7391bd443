"""The learned model's settings, judged on first-seen data: train on every batch before a round, test on that round.

    python benchmarks/classifier_temporal.py [--c 10] [--weights 1,1,0.7] [--rounds 3-9] [--source-power 0]

Each round of blind batches (tests/corpus/README.md) was written after the batches before it, so a model trained
only on those earlier batches meets the round's sources for the first time, as it would meet a user's. The script
prints, per round and pooled, the model's accuracy alone and combined with the CURRENT rules (which were tuned on
every round, so that column is optimistic and only useful to compare model settings side by side). Run it once per
setting to compare; about a minute each on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import recoup.analytics.classifier_model as model_module
from recoup.analytics.combined import combine
from recoup.errors.classifier import classify

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
#: round -> its blind batch numbers (tests/corpus/README.md)
ROUNDS: dict[int, range] = {3: range(33, 39), 4: range(39, 45), 5: range(45, 51), 6: range(51, 57),
                            7: range(57, 63), 8: range(63, 69), 9: range(69, 75), 10: range(75, 81),
                            11: range(81, 87), 12: range(87, 93), 13: range(93, 99), 14: range(99, 105),
                            15: range(105, 111), 16: range(111, 117), 17: range(117, 123), 18: range(123, 129),
                            19: range(129, 135)}


def source_weights(sources: list[str], power: float) -> list[float]:
    """Each record weighs 1 / n^power, n being how many records its source has (power 0: all equal), rescaled
    so the weights average 1: with power > 0 a source with many records no longer dominates what is learned."""
    counts = Counter(sources)
    raw = [counts[s] ** -power for s in sources]
    mean = sum(raw) / len(raw)
    return [w / mean for w in raw]


def batch_number(name: str) -> int:
    """A blind batch's number; 0 for dev.jsonl and heldout.jsonl, which came before every round."""
    found = re.fullmatch(r"blind(\d+)\.jsonl", name)
    return int(found.group(1)) if found else 0


def load_corpus() -> list[dict[str, Any]]:
    """Every corpus record in file order, each with its `batch` number."""
    records = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            record["batch"] = batch_number(path.name)
            records.append(record)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c", type=float, default=10.0, help="inverse regularisation of the logistic regression")
    parser.add_argument("--weights", default="1,1,0.7", help="weights of the word, character and type blocks")
    parser.add_argument("--rounds", default="3-9", help="first-last round to test")
    parser.add_argument("--source-power", type=float, default=0.0,
                        help="weigh each training record 1/n^p, n = records of its source (0: unweighted)")
    args = parser.parse_args()
    words, chars, types = (float(x) for x in args.weights.split(","))
    model_module._BLOCK_WEIGHTS.update({"w": words, "c": chars, "t": types})
    first, last = (int(x) for x in args.rounds.split("-"))
    records = load_corpus()
    rules = [classify(r["text"]) for r in records]
    totals = [0, 0, 0]
    for number in range(first, last + 1):
        batches = ROUNDS[number]
        train = [r for r in records if r["batch"] < batches.start]
        test = [(r, rule) for r, rule in zip(records, rules, strict=True) if r["batch"] in batches]
        weights = source_weights([r["source"] for r in train], args.source_power) if args.source_power else None
        model = model_module.train([r["text"] for r in train], [r["category"] for r in train], c=args.c,
                                   temperature=0.8, sample_weight=weights)
        alone = both = 0
        for record, rule in test:
            prediction = model.predict(record["text"])
            alone += prediction.category.value == record["category"]
            both += combine(rule, prediction).category.value == record["category"]
        totals = [totals[0] + alone, totals[1] + both, totals[2] + len(test)]
        print(f"round {number}: trained on {len(train)}, tested on {len(test)}: model {alone / len(test):.1%}, "
              f"combined with current rules {both / len(test):.1%}", flush=True)
    print(f"C={args.c} weights={args.weights} source power={args.source_power}: "
          f"model {totals[0] / totals[2]:.2%}, combined with current rules "
          f"{totals[1] / totals[2]:.2%} over {totals[2]} records")


if __name__ == "__main__":
    main()

"""Train the learned error classifier from the corpus and write the shipped model.

    python scripts/train_classifier.py [--corpus tests/corpus] [--out src/recoup/analytics/model/classifier.npz]
                                       [--c 10] [--exclude heldout.jsonl ...]

Reads every `*.jsonl` in the corpus directory (real error outputs with provoked labels, see
tests/corpus/README.md), fits the softmax temperature on out-of-fold logits of a split grouped by
`source` (so calibration reflects sources the model had not seen), trains on everything and writes the model as
a compressed npz of plain arrays, with the corpus files and sources it was trained on (so an evaluation can
pick records the model never saw). Deterministic: the same corpus gives the same model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from recoup.analytics.classifier_model import fit_temperature, out_of_fold, train

ROOT = Path(__file__).resolve().parent.parent


def load_corpus(directory: Path, exclude: set[str]) -> list[dict[str, str]]:
    """Every record of every `*.jsonl` in `directory` except the excluded files; each gets a `file` field."""
    records: list[dict[str, str]] = []
    for path in sorted(directory.glob("*.jsonl")):
        if path.name in exclude:
            continue
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                rec = json.loads(line)
                for field in ("text", "category", "source"):
                    if not isinstance(rec.get(field), str):
                        raise SystemExit(f"{path}:{number}: field {field!r} missing or not a string")
                rec["file"] = path.name
                records.append(rec)
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "recoup" / "analytics" / "model" / "classifier.npz")
    parser.add_argument("--c", type=float, default=10.0, help="inverse regularisation strength")
    parser.add_argument("--exclude", nargs="*", default=[], help="corpus file names to leave out")
    args = parser.parse_args()
    records = load_corpus(args.corpus, set(args.exclude))
    texts = [r["text"] for r in records]
    labels = [r["category"] for r in records]
    groups = [r["source"] for r in records]
    started = time.perf_counter()
    classes, logits = out_of_fold(texts, labels, groups, c=args.c)
    right = sum(classes[max(range(len(z)), key=z.__getitem__)] == y for z, y in zip(logits, labels, strict=True))
    temperature = fit_temperature(logits, [classes.index(y) for y in labels])
    model = train(texts, labels, c=args.c, temperature=temperature)
    # provenance in the model file: an evaluation set must hold only records of other sources and files
    model.trained_on = {"files": sorted({r["file"] for r in records}), "sources": sorted(set(groups))}
    model.save(args.out)
    print(f"{len(records)} records, {len(set(groups))} sources; out-of-fold (grouped by source) accuracy "
          f"{right}/{len(records)} = {right / len(records):.1%}; temperature {temperature:.3f}; "
          f"{len(model.vocab)} features; {args.out.stat().st_size / 1e6:.2f} MB; "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

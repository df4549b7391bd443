"""Learned error classifier vs rules vs both, on texts each had not seen; per category, confusion, µs per call.

    python benchmarks/classifier_model.py [--blind FILE.jsonl ...] [--skip-history] [--blind-only]

Five evaluations, each printed as accuracy per category and a confusion matrix for rules, model and combined
(rules win when confident, `recoup.analytics.combined`):

1. history: the honest one. The rules as they were at commit e2be870 (before blind batches 6-13 existed) and
   a model trained only on the corpus sources of that commit, both scored on the records of every later batch
   (6 and up), which neither had seen. Needs git and the repository history (`--skip-history` to leave it out).
2. grouped: 5-fold split grouped by `source` over the whole corpus: the model never saw the test source
   (grouping by family instead, `node` with `node-extra4`, would put every git record in one fold and leave no
   git label to learn). The current rules were tuned on most of these texts, so their column (and the combined
   one) is optimistic here.
3. heldout: model trained on dev.jsonl only, scored on heldout.jsonl (rules never tuned on batches 5 and 13).
4. unseen: corpus files the shipped model was not trained on (its metadata lists the files it was), e.g. the
   last blind batch, scored after the last change and kept out of training.
5. blind: the shipped model on fresh batches written after it was trained (`--blind`), scored before reading.

Then µs per call for rules, model and combined over the corpus texts.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from recoup.analytics.classifier_model import Model, Prediction, load_model, out_of_fold, train
from recoup.analytics.combined import classify_text, combine
from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Category, Classification

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
HISTORY_COMMIT = "e2be870"
CATS = [c.value for c in Category]


def load(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def report(title: str, labels: Sequence[str], answers: Mapping[str, Sequence[str]]) -> None:
    """Accuracy per category side by side, then one confusion matrix per classifier."""
    n = len(labels)
    print(f"\n== {title}: {n} records")
    names = list(answers)
    print(f"  {'category':<12}{'n':>5}" + "".join(f"{name:>11}" for name in names))
    for cat in CATS:
        idx = [i for i, y in enumerate(labels) if y == cat]
        if idx:
            cells = "".join(f"{sum(answers[k][i] == cat for i in idx) / len(idx):>11.1%}" for k in names)
            print(f"  {cat:<12}{len(idx):>5}" + cells)
    cells = "".join(f"{sum(a == y for a, y in zip(answers[k], labels, strict=True)) / n:>11.1%}" for k in names)
    print(f"  {'ALL':<12}{n:>5}" + cells)
    for name in names:
        confusion: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for y, a in zip(labels, answers[name], strict=True):
            confusion[y][a] += 1
        print(f"  confusion, {name} (rows = label, columns = answer)")
        print("  " + " " * 12 + "".join(f"{c[:5]:>6}" for c in CATS))
        for cat in CATS:
            if confusion.get(cat):
                print(f"  {cat:<12}" + "".join(f"{confusion[cat][c]:>6}" for c in CATS))


def prediction(classes: Sequence[str], logits: Sequence[float]) -> Prediction:
    top = max(logits)
    exp = [math.exp(z - top) for z in logits]
    total = sum(exp)
    probs = {Category(c): e / total for c, e in zip(classes, exp, strict=True)}
    best = max(probs, key=lambda c: probs[c])
    return Prediction(best, probs[best], probs)


def three_way(records: Sequence[dict[str, str]], rules: Sequence[Classification],
              preds: Sequence[Prediction]) -> dict[str, list[str]]:
    return {"rules": [r.category.value for r in rules], "model": [p.category.value for p in preds],
            "combined": [combine(r, p).category.value for r, p in zip(rules, preds, strict=True)]}


_OLD_RULES = """
import json, sys
from recoup.errors.classifier import classify
out = [[c.category.value, c.confidence, c.reason] for c in (classify(json.loads(l)) for l in sys.stdin)]
json.dump(out, sys.stdout)
"""


def history(records: list[dict[str, str]]) -> None:
    """Rules of HISTORY_COMMIT and a model trained on that commit's corpus sources, on the later sources."""
    old_sources: set[str] = set()
    for split in ("dev", "heldout"):
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{HISTORY_COMMIT}:tests/corpus/{split}.jsonl"],
                               capture_output=True, text=True, check=True).stdout
        old_sources |= {json.loads(line)["source"] for line in shown.splitlines() if line.strip()}
    seen = [r for r in records if r["source"] in old_sources]
    unseen = [r for r in records if r["source"] not in old_sources]
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", HISTORY_COMMIT, "src/recoup"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        out = subprocess.run([sys.executable, "-c", _OLD_RULES], capture_output=True, text=True, check=True,
                             input="".join(json.dumps(r["text"]) + "\n" for r in unseen),
                             env={"PYTHONPATH": f"{tmp}/src", "PATH": "/usr/bin:/bin"}).stdout
    old_rules = [Classification(Category(c), False, conf, "", reason) for c, conf, reason in json.loads(out)]
    model = train([r["text"] for r in seen], [r["category"] for r in seen])
    preds = [model.predict(r["text"]) for r in unseen]
    report(f"history: rules of {HISTORY_COMMIT} and a model trained on its {len(seen)} records, on the "
           f"{len(unseen)} records of later sources (batches 6 and up)", [r["category"] for r in unseen],
           three_way(unseen, old_rules, preds))


def grouped(records: list[dict[str, str]]) -> None:
    texts = [r["text"] for r in records]
    labels = [r["category"] for r in records]
    classes, logits = out_of_fold(texts, labels, [r["source"] for r in records])
    preds = [prediction(classes, z) for z in logits]
    rules = [classify(t) for t in texts]
    report("grouped: 5 folds by source (rules tuned on most of these: optimistic)", labels,
           three_way(records, rules, preds))


def heldout(dev: list[dict[str, str]], held: list[dict[str, str]]) -> None:
    model = train([r["text"] for r in dev], [r["category"] for r in dev])
    preds = [model.predict(r["text"]) for r in held]
    rules = [classify(r["text"]) for r in held]
    report("heldout: model trained on dev.jsonl, scored on heldout.jsonl", [r["category"] for r in held],
           three_way(held, rules, preds))


def blind(path: Path, model: Model, title: str = "blind: shipped model on") -> None:
    records = load(path)
    preds = [model.predict(r["text"]) for r in records]
    rules = [classify(r["text"]) for r in records]
    report(f"{title} {path.name}", [r["category"] for r in records], three_way(records, rules, preds))


def speed(texts: Sequence[str]) -> None:
    model = load_model()
    runs: list[tuple[str, Callable[[str], object]]] = [("rules classify()", classify),
                                                       ("model predict()", model.predict),
                                                       ("combined classify_text()", classify_text)]
    print(f"\n== speed over {len(texts)} corpus texts (model loaded beforehand)")
    for name, fn in runs:
        started = time.perf_counter()
        for _ in range(2):
            for t in texts:
                fn(t)
        print(f"  {name:<26}{(time.perf_counter() - started) / (2 * len(texts)) * 1e6:>9.1f} µs/call")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blind", nargs="*", type=Path, default=[])
    parser.add_argument("--skip-history", action="store_true")
    parser.add_argument("--blind-only", action="store_true", help="score the --blind files and stop")
    args = parser.parse_args()
    dev, held = load(CORPUS / "dev.jsonl"), load(CORPUS / "heldout.jsonl")
    records = [r for path in sorted(CORPUS.glob("*.jsonl")) for r in load(path)]
    started = time.perf_counter()
    load_model()
    print(f"model load: {(time.perf_counter() - started) * 1e3:.0f} ms")
    if args.blind_only:
        for path in args.blind:
            blind(path, load_model())
        return 0
    if not args.skip_history:
        history(records)
    grouped(records)
    heldout(dev, held)
    trained = set(load_model().trained_on.get("files", []))
    print(f"\nshipped model trained on: {', '.join(sorted(trained)) or 'unknown (no metadata)'}")
    for path in sorted(CORPUS.glob("*.jsonl")):
        if trained and path.name not in trained:
            blind(path, load_model(), "unseen: shipped model (never trained on it) on")
    for path in args.blind:
        blind(path, load_model())
    speed([r["text"] for r in records])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

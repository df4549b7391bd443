"""How much the error text tells: a reader's labels, given from the text alone, against the provoked labels.

    python benchmarks/reader_agreement.py sample OUT_DIR FILE.jsonl ...   # shuffled texts for readers, and a key
    python benchmarks/reader_agreement.py score LABELS.json                # agreement, beside the classifier's

`sample` writes `sampleN.jsonl` ({"id", "text"}, two halves, long texts cut to their first and last 2,000
characters) and `key.json` (id -> file and line). Readers label each text using shared/TAXONOMY.md only and
write `labelsN.jsonl` ({"id", "category", "confident"}); `score` reads a resolved labels file
(tests/corpus/reader_round16.json is round 16's: {"labels": [{"file", "line", "category", "confident"}]}) and
prints the reader's accuracy, the
classifier's on the same records (whatever `recoup.analytics.combined` is importable: use a worktree of the scoring
commit on PYTHONPATH for a first-seen figure), and where they differ.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
CUT = 2000


def wilson(k: int, n: int) -> str:
    """`recoup.assess.stats.wilson_interval` as the table prints it."""
    from recoup.assess.stats import wilson_interval

    low, high = wilson_interval(k, n) or (0.0, 0.0)
    return f"{100 * low:.1f}-{100 * high:.1f}%"


def sample(out: Path, files: list[str]) -> None:
    records = [(Path(f).name, i, json.loads(line)) for f in files
               for i, line in enumerate(Path(f).read_text(encoding="utf-8").splitlines())]
    random.Random(16).shuffle(records)
    out.mkdir(parents=True, exist_ok=True)
    key: dict[str, str] = {}
    for part in (0, 1):
        with (out / f"sample{part}.jsonl").open("w", encoding="utf-8") as f:
            for n, (name, line, record) in enumerate(records[part::2]):
                text = record["text"]
                if len(text) > 2 * CUT:
                    text = text[:CUT] + "\n[... middle of the output cut ...]\n" + text[-CUT:]
                rid = f"s{part}-{n:03d}"
                key[rid] = f"{name}:{line}"
                f.write(json.dumps({"id": rid, "text": text}) + "\n")
    (out / "key.json").write_text(json.dumps(key), encoding="utf-8")
    print(f"{len(key)} records in {out}")


def score(labels_path: Path) -> None:
    from recoup.analytics.combined import classify_text

    labels = json.loads(labels_path.read_text(encoding="utf-8"))["labels"]
    cache: dict[str, list[str]] = {}
    reader = classifier = confident = confident_right = reader_only = classifier_only = both_wrong = 0
    for row in labels:
        lines = cache.setdefault(row["file"], (CORPUS / row["file"]).read_text(encoding="utf-8").splitlines())
        record = json.loads(lines[row["line"]])
        by_reader = row["category"] == record["category"]
        by_classifier = classify_text(record["text"]).category.value == record["category"]
        reader += by_reader
        classifier += by_classifier
        confident += row["confident"]
        confident_right += row["confident"] and by_reader
        reader_only += by_reader and not by_classifier
        classifier_only += by_classifier and not by_reader
        both_wrong += not (by_reader or by_classifier)
    n = len(labels)
    print(f"{'':<34}{'right':>7}{'of':>6}{'accuracy':>10}  Wilson 95%")
    print(f"{'reader, from the text alone':<34}{reader:>7}{n:>6}{reader / n:>10.1%}  {wilson(reader, n)}")
    print(f"{'reader, where confident':<34}{confident_right:>7}{confident:>6}{confident_right / confident:>10.1%}")
    print(f"{'classifier':<34}{classifier:>7}{n:>6}{classifier / n:>10.1%}  {wilson(classifier, n)}")
    print(f"reader right, classifier wrong: {reader_only}; classifier right, reader wrong: {classifier_only}; "
          f"both wrong: {both_wrong}")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "sample":
        sample(Path(sys.argv[2]), sys.argv[3:])
    elif len(sys.argv) == 3 and sys.argv[1] == "score":
        score(Path(sys.argv[2]))
    else:
        sys.exit(__doc__)

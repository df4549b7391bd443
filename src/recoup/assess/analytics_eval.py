"""Scoring error classifiers on labelled texts: accuracy per category and overall with a Wilson 95% interval,
and a confusion matrix, so the readiness report shows how far the classification it relies on can be trusted.

The labelled texts are the shipped evaluation set (`recoup/analytics/model/evaluation.jsonl.gz`, corpus records
from sources the shipped model was not trained on, built by scripts/build_eval_set.py) and failures provoked
during the run. Classifiers are plain ``text -> category`` functions, so a test can pass in a broken one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoup.assess.stats import wilson_interval
from recoup.errors.taxonomy import Category

Classify = Callable[[str], str]
MODEL_DIR = Path(__file__).resolve().parent.parent / "analytics" / "model"
EVALUATION_PATH = MODEL_DIR / "evaluation.jsonl.gz"
#: Names the training script may record its training list under (npz arrays or a ``classifier.json`` sidecar).
SOURCE_KEYS = ("trained_on_sources", "train_sources", "training_sources", "trained_sources", "sources")
FILE_KEYS = ("trained_on_files", "train_files", "training_files", "trained_files", "files")
CATEGORIES = tuple(c.value for c in Category)


@dataclass(frozen=True, slots=True)
class Labelled:
    """An error text and the category of the cause that was provoked (never read back from the text)."""

    text: str
    category: str
    source: str = ""
    batch: str = ""


def _strings(value: Any) -> list[str]:
    return [str(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]


def recorded_training(model: Path) -> tuple[set[str], set[str]] | None:
    """(sources, batch files) the model says it was trained on, or None when it records neither. Needs numpy
    for an npz (the analytics extra); a ``<model>.json`` sidecar is read first."""
    found: dict[str, list[str]] = {}
    sidecar = model.with_suffix(".json")
    if sidecar.exists():
        data = json.loads(sidecar.read_text(encoding="utf-8"))
        found = {k: _strings(data[k]) for k in (*SOURCE_KEYS, *FILE_KEYS) if k in data}
    if not found:
        import numpy as np

        with np.load(model, allow_pickle=False) as arrays:
            found = {k: _strings(arrays[k]) for k in (*SOURCE_KEYS, *FILE_KEYS) if k in arrays.files}
    sources = next((set(found[k]) for k in SOURCE_KEYS if k in found), set())
    files = next((set(found[k]) for k in FILE_KEYS if k in found), set())
    return (sources, files) if sources or files else None


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_evaluation(path: Path) -> tuple[dict[str, Any], list[Labelled]]:
    """(meta, records) of an evaluation file: gzipped JSON lines, the first ``{"meta": {...}}``. ValueError
    naming the line when one is malformed."""
    meta: dict[str, Any] = {}
    records: list[Labelled] = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from None
            if number == 1 and isinstance(item, dict) and "meta" in item:
                meta = dict(item["meta"])
                continue
            for field in ("text", "category", "source"):
                if not isinstance(item.get(field), str):
                    raise ValueError(f"{path}:{number}: field {field!r} missing or not a string")
            if item["category"] not in CATEGORIES:
                raise ValueError(f"{path}:{number}: field 'category' is not a category: {item['category']!r}")
            records.append(Labelled(item["text"], item["category"], item["source"], str(item.get("batch", ""))))
    return meta, records


def sample(records: Sequence[Labelled], limit: int) -> list[Labelled]:
    """At most ``limit`` records, every category kept in proportion (deterministic: every k-th per category)."""
    if len(records) <= limit:
        return list(records)
    by_category: dict[str, list[Labelled]] = {}
    for r in records:
        by_category.setdefault(r.category, []).append(r)
    out: list[Labelled] = []
    for items in by_category.values():
        share = max(1, round(limit * len(items) / len(records)))
        step = len(items) / share
        out.extend(items[int(i * step)] for i in range(share))
    return out


def _rate(right: int, n: int) -> dict[str, Any]:
    interval = wilson_interval(right, n)
    return {"n": n, "right": right, "accuracy": right / n if n else None,
            "ci95": list(interval) if interval is not None else None}


def score(records: Iterable[Labelled], classify: Classify) -> dict[str, Any]:
    """Accuracy overall and per true category (Wilson 95% intervals), the confusion matrix
    ``confusion[true][predicted]``, and up to five misses. A classifier that raises on a text counts as wrong
    for it (predicted ``error``) and the exception is reported, never dropped."""
    confusion: dict[str, dict[str, int]] = {}
    misses: list[dict[str, str]] = []
    failures: dict[str, int] = {}
    right = n = 0
    for record in records:
        try:
            predicted = str(classify(record.text))
        except Exception as exc:  # a broken classifier is a finding, reported below
            failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
            predicted = "error"
        row = confusion.setdefault(record.category, {})
        row[predicted] = row.get(predicted, 0) + 1
        n += 1
        if predicted == record.category:
            right += 1
        elif len(misses) < 5:
            first = next((ln.strip() for ln in reversed(record.text.strip().splitlines()) if ln.strip()), "")
            misses.append({"true": record.category, "predicted": predicted, "source": record.source,
                           "text": first[:160]})
    per_category = {
        cat: _rate(row.get(cat, 0), sum(row.values())) for cat, row in sorted(confusion.items())
    }
    return {**_rate(right, n), "per_category": per_category, "confusion": confusion, "misses": misses,
            "classifier_errors": failures}


def default_classifiers() -> tuple[dict[str, Classify], str | None]:
    """``rules`` always; ``model`` and ``combined`` when numpy (the analytics extra) is installed. The second
    value says what is missing and why, None when all three are available."""
    from recoup.errors.classifier import classify

    found: dict[str, Classify] = {"rules": lambda text: classify(text).category.value}
    try:
        import numpy  # noqa: F401 - only probing: the model's inference needs it

        from recoup.analytics.classifier_model import MODEL_PATH, load_model
        from recoup.analytics.combined import classify_text

        load_model(MODEL_PATH)  # fail here, once, rather than on every text
    except (ImportError, OSError, ValueError) as exc:
        return found, f"model and combined not measured: {type(exc).__name__}: {exc} (the analytics extra)"
    found["model"] = lambda text: load_model(MODEL_PATH).predict(text).category.value
    found["combined"] = lambda text: classify_text(text).category.value
    return found, None


def score_all(records: Sequence[Labelled], classifiers: Mapping[str, Classify]) -> dict[str, dict[str, Any]]:
    return {name: score(records, fn) for name, fn in classifiers.items()}

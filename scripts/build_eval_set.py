"""Build the classifier evaluation set shipped with the package: corpus records the shipped model never saw.

    python scripts/build_eval_set.py [--corpus tests/corpus] [--model src/recoup/analytics/model/classifier.npz]
                                     [--out src/recoup/analytics/model/evaluation.jsonl.gz]

`recoup assess` scores the classifier on this file (the installed package has no tests/ folder). A record is
kept only when its `source` is not among the sources the model was trained on, found in this order:

1. the model's own metadata: arrays `trained_on_sources` / `trained_on_files` in the npz (or a `classifier.json` next
   to it with those keys), when the training script records them;
2. otherwise git: if the model file is committed and unchanged, the corpus as it was in the commit that last
   wrote the model (scripts/train_classifier.py trains on every `*.jsonl` there);
3. otherwise every corpus file present now (the conservative answer: nothing counts as unseen).

The first line of the output is `{"meta": {...}}`: how the training set was found, the model's sha256 (so
the assessment can tell when the model was retrained after this file was built) and counts. Rebuild after
every retraining. Deterministic: the same corpus and model give the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from recoup.assess.analytics_eval import recorded_training

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "src" / "recoup" / "analytics" / "model"
KEEP = ("text", "category", "source", "kind", "provoker", "exc_type")


def load_corpus(directory: Path) -> list[dict[str, Any]]:
    """Every record of every `*.jsonl` in `directory`, with the file it came from as `batch`."""
    out: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            record = json.loads(line)
            for field in ("text", "category", "source"):
                if not isinstance(record.get(field), str):
                    raise SystemExit(f"{path}:{number}: field {field!r} missing or not a string")
            out.append({**{k: record[k] for k in KEEP if k in record}, "batch": path.name})
    return out


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def from_git(model: Path, corpus: Path) -> tuple[set[str], set[str], str] | None:
    """(sources, files, commit) of the corpus in the commit that last wrote the model, when the model file is
    committed and unchanged since; None otherwise (uncommitted retraining, no git)."""
    try:
        rel_model = model.resolve().relative_to(ROOT).as_posix()
        rel_corpus = corpus.resolve().relative_to(ROOT).as_posix()
        commit = _git("log", "-1", "--format=%H", "--", rel_model).strip()
        if not commit or _git("hash-object", rel_model).strip() != _git("rev-parse", f"{commit}:{rel_model}").strip():
            return None
        names = [n for n in _git("ls-tree", "--name-only", f"{commit}:{rel_corpus}").split() if n.endswith(".jsonl")]
        sources: set[str] = set()
        for name in names:
            for line in _git("show", f"{commit}:{rel_corpus}/{name}").splitlines():
                if line.strip():
                    sources.add(json.loads(line)["source"])
        return sources, set(names), commit
    except (subprocess.CalledProcessError, FileNotFoundError, ValueError):
        return None


def build(corpus: Path, model: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    records = load_corpus(corpus)
    recorded = recorded_training(model)
    if recorded is not None:
        sources, files = recorded
        how = "the model's metadata (sources and batch files it was trained on)"
    else:
        committed = from_git(model, corpus)
        if committed is not None:
            sources, files, commit = committed
            how = (f"git: the corpus in commit {commit[:12]}, which last wrote the model (train_classifier.py trains "
                   "on every *.jsonl there); the model records no training list")
        else:
            sources, files = {r["source"] for r in records}, {r["batch"] for r in records}
            how = ("unknown (the model records no training list and differs from its last commit): every corpus file "
                   "present now is assumed trained on")
    unseen = [r for r in records if r["source"] not in sources and (not files or r["batch"] not in files)]
    meta = {
        "model_sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        "training_set_from": how,
        "training_sources": len(sources),
        "corpus_records": len(records),
        "corpus_files": sorted({r["batch"] for r in records}),
        "records": len(unseen),
        "unseen_sources": sorted({r["source"] for r in unseen}),
    }
    return meta, unseen


def write(out: Path, meta: dict[str, Any], records: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n" for line in [{"meta": meta}, *records])
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "corpus")
    parser.add_argument("--model", type=Path, default=MODEL_DIR / "classifier.npz")
    parser.add_argument("--out", type=Path, default=MODEL_DIR / "evaluation.jsonl.gz")
    args = parser.parse_args()
    meta, records = build(args.corpus, args.model)
    write(args.out, meta, records)
    print(f"{meta['records']} of {meta['corpus_records']} corpus records are from sources the model was not trained "
          f"on ({len(meta['unseen_sources'])} sources); training set from {meta['training_set_from']}; wrote "
          f"{args.out} ({args.out.stat().st_size / 1e3:.1f} kB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

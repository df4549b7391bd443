"""The analytics phase runs for real (provoked failures, provoked error families, the shipped classifiers) and
its figures hold together; a broken classifier passed in scores low; the evaluation set keeps out what the
model was trained on (its own training list, or a stale-model guard) and its builder script does the same."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recoup.assess.analytics_eval import (
    EVALUATION_PATH,
    Labelled,
    file_sha256,
    load_evaluation,
    recorded_training,
    score,
)
from recoup.assess.analytics_grouping import FAMILIES
from recoup.assess.analytics_phase import STEPS, _evaluation_records, analytics_markdown, run_analytics_phase

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
MODEL = ROOT / "src" / "recoup" / "analytics" / "model" / "classifier.npz"


def _corpus_sample(n: int = 40) -> list[dict[str, Any]]:
    lines = (CORPUS / "heldout.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:: max(1, len(lines) // n)]][:n]


def _write_eval(path: Path, records: list[dict[str, Any]], meta: dict[str, Any]) -> Path:
    text = "".join(json.dumps(x) + "\n" for x in [{"meta": meta}, *records])
    path.write_bytes(gzip.compress(text.encode()))
    return path


def _consistent(result: dict[str, Any]) -> None:
    n = result["n"]
    assert sum(sum(row.values()) for row in result["confusion"].values()) == n
    assert sum(row.get(cat, 0) for cat, row in result["confusion"].items()) == result["right"]
    assert sum(c["n"] for c in result["per_category"].values()) == n
    if n:
        low, high = result["ci95"]
        assert low <= result["accuracy"] <= high


@pytest.fixture(scope="module")
def phase(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("eval")
    model = _model_copy(folder, None)  # records no training list: the set below counts as built for it
    path = _write_eval(folder / "e.jsonl.gz", _corpus_sample(), {"model_sha256": file_sha256(model),
                                                                  "training_set_from": "test"})
    steps: list[str] = []
    result = run_analytics_phase(quick=True, evaluation=path, model_path=model, on_step=steps.append)
    assert steps == list(STEPS)
    return result


def test_the_phase_measures_everything_and_its_figures_add_up(phase: dict[str, Any]) -> None:
    json.dumps(phase)  # JSON-able as it is
    c = phase["classifier"]
    assert c["classifiers"] == ["combined", "model", "rules"] and c["missing"] is None
    ev = c["evaluation_set"]
    assert ev["records_scored"] == 40 and set(ev["results"]) == {"rules", "model", "combined"}
    for name in ("rules", "model", "combined"):
        _consistent(ev["results"][name])
        _consistent(c["fresh_failures"]["results"][name])
        assert ev["results"][name]["accuracy"] > 0.5  # corpus texts, the shipped classifiers
    fresh = c["fresh_failures"]
    assert fresh["problems"] == [] and fresh["texts"] >= 2 * fresh["kinds"] - 4
    assert len({cat for cat in fresh["results"]["rules"]["per_category"]}) >= 8
    g = phase["grouping"]
    assert g["problems"] == [] and g["occurrences"] == 3 * len(FAMILIES)
    for view in ("live_exception", "printed_traceback"):
        r = g[view]
        assert r["families"] == len(FAMILIES)
        assert r["groups"] >= r["families"] - len(r["over_merged"])
    assert g["templates"]["lines"] == g["occurrences"] and g["templates"]["found"] >= 1
    text = analytics_markdown(phase)
    for heading in ("### Classifier on texts the shipped model was not trained on",
                    "### Classifier on failures provoked in this run", "### Grouping and templates"):
        assert heading in text
    assert text.count("Method:") == 3 and "95% CI" in text and "Confusion matrix (combined" in text


def test_a_broken_classifier_scores_low_and_a_raising_one_is_reported(tmp_path: Path) -> None:
    path = _write_eval(tmp_path / "e.jsonl.gz", _corpus_sample(30), {})

    def raises(text: str) -> str:
        raise RuntimeError("broken")

    result = run_analytics_phase(quick=True, evaluation=path, classifiers={"network": lambda t: "network",
                                                                           "raises": raises})
    for part in (result["classifier"]["evaluation_set"], result["classifier"]["fresh_failures"]):
        assert part["results"]["network"]["accuracy"] < 0.4
        assert part["results"]["raises"]["accuracy"] == 0.0
        assert part["results"]["raises"]["classifier_errors"] == {"RuntimeError": part["results"]["raises"]["n"]}
    assert "raised on some texts" in analytics_markdown(result)


def test_score_counts_every_record() -> None:
    records = [Labelled("x", "network"), Labelled("y", "auth"), Labelled("z", "auth")]
    result = score(records, lambda t: "auth")
    assert (result["n"], result["right"]) == (3, 2)
    assert result["confusion"] == {"network": {"auth": 1}, "auth": {"auth": 2}}
    assert result["per_category"]["network"]["accuracy"] == 0.0


def _model_copy(tmp_path: Path, sources: list[str] | None) -> Path:
    """The shipped model's arrays, with ``sources`` as its training list (None: no training list)."""
    target = tmp_path / "classifier.npz"
    with np.load(MODEL, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if not k.startswith("trained_on_")}
    if sources is not None:
        arrays["trained_on_sources"] = np.asarray(sources, dtype=str)
    np.savez_compressed(target, **arrays)
    return target


def test_records_the_model_was_trained_on_are_dropped(tmp_path: Path) -> None:
    records = _corpus_sample(20)
    trained = sorted({r["source"] for r in records})[:2]
    path = _write_eval(tmp_path / "e.jsonl.gz", records, {"model_sha256": "0" * 64})
    model = _model_copy(tmp_path, trained)
    assert recorded_training(model) == (set(trained), set())
    facts, kept, honest = _evaluation_records(path, 1000, model)
    assert honest and kept and all(r.source not in trained for r in kept)
    assert facts["dropped_as_trained_on"] == sum(r["source"] in trained for r in records) > 0


def test_a_model_changed_since_the_set_was_built_is_not_scored_as_unseen(tmp_path: Path) -> None:
    model = _model_copy(tmp_path, None)
    path = _write_eval(tmp_path / "e.jsonl.gz", _corpus_sample(5), {"model_sha256": "0" * 64})
    facts, _, honest = _evaluation_records(path, 1000, model)
    assert not honest and "rebuild" in facts["stale"]
    result = run_analytics_phase(quick=True, evaluation=path, model_path=model)
    ev = result["classifier"]["evaluation_set"]
    assert set(ev["results"]) == {"rules"} and "Model and combined left out" in analytics_markdown(result)


def test_a_malformed_evaluation_file_names_the_line(tmp_path: Path) -> None:
    bad = _write_eval(tmp_path / "e.jsonl.gz", [{"text": "x", "category": "weather", "source": "s"}], {})
    with pytest.raises(ValueError, match=r"e\.jsonl\.gz:2: field 'category' is not a category: 'weather'"):
        load_evaluation(bad)
    (tmp_path / "f.jsonl.gz").write_bytes(gzip.compress(b'{"meta": {}}\n{"text": 1}\n'))
    with pytest.raises(ValueError, match=r"f\.jsonl\.gz:2: field 'text' missing or not a string"):
        load_evaluation(tmp_path / "f.jsonl.gz")


def test_the_shipped_evaluation_set_holds_nothing_the_model_recorded_training_on() -> None:
    meta, records = load_evaluation(EVALUATION_PATH)
    assert "training_set_from" in meta and "model_sha256" in meta
    trained = recorded_training(MODEL)
    if trained is not None:
        sources, files = trained
        seen = sorted({r.source for r in records if r.source in sources or r.batch in files})
        assert not seen, f"rebuild the evaluation set (python scripts/build_eval_set.py): trained on {seen}"


def test_the_builder_keeps_only_sources_outside_the_models_training_list(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = {"a.jsonl": [("ConnectionRefusedError: refused", "network", "alpha")],
            "b.jsonl": [("PermissionError: denied", "filesystem", "beta"), ("HTTP 503", "service", "alpha")]}
    for name, items in rows.items():
        (corpus / name).write_text("".join(json.dumps({"text": t, "category": c, "source": s}) + "\n"
                                           for t, c, s in items))
    model = _model_copy(tmp_path, ["alpha"])
    out = tmp_path / "eval.jsonl.gz"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_eval_set.py"), "--corpus", str(corpus),
                           "--model", str(model), "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    meta, records = load_evaluation(out)
    assert [(r.source, r.batch) for r in records] == [("beta", "b.jsonl")]
    assert meta["training_set_from"].startswith("the model's metadata") and meta["model_sha256"] == file_sha256(model)
    again = tmp_path / "again.jsonl.gz"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_eval_set.py"), "--corpus", str(corpus),
                    "--model", str(model), "--out", str(again)], check=True, capture_output=True, timeout=60)
    assert again.read_bytes() == out.read_bytes()  # deterministic


def test_a_skipped_phase_renders_its_reason() -> None:
    text = analytics_markdown({"skipped": "skipped: --no-analytics"})
    assert text == "## Analytics: classification and grouping\n\nskipped: --no-analytics\n"

"""The assessment's analytics phase: how well recoup classifies and groups errors, measured in this run.

Four measurements, all in process and in a few seconds, each reported with its method:

* the classifiers (rules; the learned model and the combination when the analytics extra is installed) on the
  shipped evaluation set, corpus records from sources the shipped model was not trained on (`analytics_eval`);
* the same classifiers on failures provoked now on 127.0.0.1 (`analytics_fresh`), reported separately;
* grouping: known error families provoked in process, fingerprinted, families vs groups (`analytics_grouping`);
* template mining over those errors' messages.

`run_analytics_phase` returns JSON-able data for ``results.analytics``; `analytics_markdown` renders it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from recoup.assess.analytics_eval import (
    CATEGORIES,
    EVALUATION_PATH,
    Classify,
    Labelled,
    default_classifiers,
    file_sha256,
    load_evaluation,
    recorded_training,
    sample,
    score_all,
)

#: The steps `on_step` is called after, in order (a progress bar's total).
STEPS = ("evaluation set", "fresh failures", "grouping")
#: (quick, full) sizes: evaluation records scored, rounds per fresh fault, occurrences per error family.
EVAL_LIMIT = (150, 600)
FRESH_ROUNDS = (1, 2)
OCCURRENCES = (3, 6)


def _model_path() -> Path:
    from recoup.analytics.classifier_model import MODEL_PATH

    return MODEL_PATH


def _evaluation_records(path: Path, limit: int, model: Path | None) -> tuple[dict[str, Any], list[Labelled], bool]:
    """(facts about the set, records to score, whether the model's figures on them are honest)."""
    meta, records = load_evaluation(path)
    facts: dict[str, Any] = {"file": path.name, "records_in_file": len(records),
                             "training_set_from": meta.get("training_set_from", "not recorded")}
    honest_for_model = True
    if model is not None and model.exists():
        current = file_sha256(model)
        facts["model_sha256"] = current[:12]
        facts["built_for_model_sha256"] = str(meta.get("model_sha256", ""))[:12]
        trained = None
        with contextlib.suppress(ImportError):  # without numpy the model is not scored at all
            trained = recorded_training(model)
        if trained is not None:
            sources, files = trained
            kept = [r for r in records if r.source not in sources and (not files or r.batch not in files)]
            facts["dropped_as_trained_on"] = len(records) - len(kept)
            facts["checked_against"] = "the shipped model's own training list"
            records = kept
        elif meta.get("model_sha256") != current:
            honest_for_model = False
            facts["stale"] = ("the shipped model differs from the one this set was built for and records no training "
                              "list: its records may be in the model's training data; rebuild with "
                              "scripts/build_eval_set.py")
    scored = sample(records, limit)
    facts["records_scored"] = len(scored)
    facts["sources"] = len({r.source for r in scored})
    return facts, scored, honest_for_model


def _classifier_section(quick: bool, classifiers: Mapping[str, Classify] | None, evaluation: Path | None,
                        model_path: Path | None, step: Callable[[str], None]) -> dict[str, Any]:
    from recoup.assess.analytics_fresh import EXTRA, provoke_fresh
    from recoup.assess.faults import PERMANENT_FAULTS, TRANSIENT_FAULTS

    missing = None
    if classifiers is None:
        classifiers, missing = default_classifiers()
    model = None if "model" not in classifiers else (model_path or _model_path())
    path = evaluation if evaluation is not None else EVALUATION_PATH
    ev: dict[str, Any]
    if not path.exists():
        ev = {"skipped": f"no evaluation set at {path.name} (build it with scripts/build_eval_set.py)", "results": {}}
    else:
        facts, records, honest = _evaluation_records(path, EVAL_LIMIT[not quick], model)
        chosen = classifiers if honest else {k: v for k, v in classifiers.items() if k == "rules"}
        ev = {**facts, "results": score_all(records, chosen) if records else {}}
        if not records:
            ev["skipped"] = ("no records: the shipped model was trained on every corpus source "
                             f"(training set from {facts['training_set_from']})")
        ev["method"] = (f"each classifier labelled {len(records)} records of {facts['sources']} corpus sources the "
                        "shipped model was not trained on (real error outputs of provoked failures, labelled by the "
                        "provoked cause), in this process; accuracy = right / n, 95% Wilson interval. Unseen means "
                        "unseen by the model: the hand-written rules record no training list, so their figure is "
                        "unseen only if the rules were not tuned on these sources")
    step(STEPS[0])
    rounds = FRESH_ROUNDS[not quick]
    fresh, problems = provoke_fresh(rounds)
    kinds = len(TRANSIENT_FAULTS) + len(PERMANENT_FAULTS) + len(EXTRA)
    step(STEPS[1])
    return {
        "classifiers": sorted(classifiers),
        "missing": missing,
        "evaluation_set": ev,
        "fresh_failures": {
            "kinds": kinds, "texts": len(fresh), "problems": problems, "results": score_all(fresh, classifiers),
            "method": (f"{kinds} kinds of real failure provoked {rounds}x each in this run on 127.0.0.1 (a local "
                       "HTTP server answering 401/403/429/5xx, a closed port, a silent peer, missing files and "
                       "folders, bad input, MemoryError, a full queue, git), each classified as traceback and "
                       "one-line text (a tool's stderr for git), labelled by the provoked cause. Fresh texts, but of "
                       "kinds whose wording the training corpus holds: a check on this machine, not an "
                       "unseen-source figure"),
        },
    }


def run_analytics_phase(*, quick: bool = False, seed: int = 1, classifiers: Mapping[str, Classify] | None = None,
                        evaluation: Path | None = None, model_path: Path | None = None,
                        on_step: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure classification and grouping now; ``classifiers`` (name -> text -> category) default to rules,
    model and combined, ``evaluation`` to the shipped set, ``model_path`` (the model file whose training list
    keeps trained-on records out) to the shipped model. ``on_step`` is called after each of `STEPS`."""
    from recoup.assess.analytics_grouping import measure_grouping

    def step(name: str) -> None:
        if on_step is not None:
            on_step(name)

    started = time.perf_counter()
    classifier = _classifier_section(quick, classifiers, evaluation, model_path, step)
    occurrences = OCCURRENCES[not quick]
    grouping = measure_grouping(occurrences, seed)
    step(STEPS[2])
    families = len(grouping["families"])
    grouping["method"] = (
        f"{families} error families (distinct code paths of a small application written to a temporary folder) "
        f"provoked {occurrences}x each in this process, alternating two versions of the module whose line numbers "
        "differ, with varied ids, numbers, paths and ports, a chained cause, recursion to varying depth and a "
        "RecursionError; each occurrence fingerprinted from the live exception (recoup.errors.classify, what "
        "telemetry sends) and from its printed traceback (recoup.analytics.grouping.fingerprint_text). A family "
        "spread over several groups is an over-split, a group holding several families an over-merge")
    grouping["templates"]["method"] = (
        f"the {grouping['templates']['lines']} one-line messages (Type: message) of those occurrences mined in order "
        "with recoup.analytics.templates.TemplateMiner (default settings); two families share a message by design "
        "(same KeyError from two functions), which a message template cannot tell apart")
    return {"wall_seconds": round(time.perf_counter() - started, 3), "quick": quick, "classifier": classifier,
            "grouping": grouping}


# --------------------------------------------------------------------------- Markdown


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _ci(interval: list[float] | None) -> str:
    return "n/a" if not interval else f"{interval[0] * 100:.1f}–{interval[1] * 100:.1f}%"


def _code(text: str) -> str:
    """Inline code that survives backticks and pipes in the text."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _results_tables(results: Mapping[str, Any]) -> list[str]:
    if not results:
        return []
    names = list(results)
    lines = ["| Classifier | Right / n | Accuracy | 95% CI |", "|---|---|---|---|"]
    lines += [f"| {n} | {r['right']} / {r['n']} | {_pct(r['accuracy'])} | {_ci(r['ci95'])} |"
              for n, r in results.items()]
    for n, r in results.items():
        if r.get("classifier_errors"):
            lines.append(f"\n{n} raised on some texts (counted wrong): {r['classifier_errors']}")
    cats = sorted({c for r in results.values() for c in r["per_category"]}, key=CATEGORIES.index)
    lines += ["", "| True category | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for c in cats:
        n = next(r["per_category"][c]["n"] for r in results.values() if c in r["per_category"])
        cells = [_pct(r["per_category"].get(c, {}).get("accuracy")) for r in results.values()]
        lines.append(f"| {c} | {n} | " + " | ".join(cells) + " |")
    best = "combined" if "combined" in results else names[0]
    confusion = results[best]["confusion"]
    predicted = sorted({p for row in confusion.values() for p in row},
                       key=lambda p: CATEGORIES.index(p) if p in CATEGORIES else len(CATEGORIES))
    lines += ["", f"Confusion matrix ({best}; rows: true category, columns: predicted):", "",
              "| true \\ predicted | " + " | ".join(predicted) + " |", "|---|" + "---|" * len(predicted)]
    for c in cats:
        row = confusion.get(c, {})
        lines.append(f"| {c} | " + " | ".join(str(row.get(p, 0)) for p in predicted) + " |")
    misses = results[best]["misses"]
    if misses:
        lines += ["", f"First misses ({best}):", ""]
        lines += [f"- {m['true']} read as {m['predicted']} ({m['source']}): {_code(m['text'])}" for m in misses]
    return lines


def _grouping_lines(g: Mapping[str, Any]) -> list[str]:
    lines = ["| Fingerprint from | Families | Groups | Over-split families | Over-merged groups |",
             "|---|---|---|---|---|"]
    for key, label in (("live_exception", "live exception"), ("printed_traceback", "printed traceback")):
        r = g[key]
        split = ", ".join(f"{f} ({n} groups)" for f, n in r["over_split"].items()) or "none"
        merged = "; ".join(" + ".join(fams) for fams in r["over_merged"].values()) or "none"
        lines.append(f"| {label} | {r['families']} | {r['groups']} | {split} | {merged} |")
    t = g["templates"]
    split = ", ".join(f"{f} ({n})" for f, n in t["over_split"].items()) or "none"
    shared = "; ".join(" + ".join(fams) for fams in t["shared"].values()) or "none"
    lines += ["", f"Templates: {t['found']} found in {t['lines']} messages of {t['families']} families; families "
              f"over several templates: {split}; templates shared by families: {shared}.", ""]
    lines += [f"- {_code(x)}" for x in t["examples"]]
    lines += ["", f"Method: {g['method']}.", "", f"Templates method: {t['method']}."]
    if g["problems"]:
        lines += ["", "Problems: " + "; ".join(g["problems"])]
    return lines


def analytics_markdown(section: Mapping[str, Any]) -> str:
    """The report.md section for ``results.analytics``."""
    if "skipped" in section and "classifier" not in section:
        return f"## Analytics: classification and grouping\n\n{section['skipped']}\n"
    c = section["classifier"]
    ev = c["evaluation_set"]
    out = ["## Analytics: classification and grouping", "",
           f"Measured in this run in {section['wall_seconds']:.1f} s. Classifiers: {', '.join(c['classifiers'])}."]
    if c.get("missing"):
        out += ["", f"Not measured: {c['missing']}."]
    out += ["", "### Classifier on texts the shipped model was not trained on", ""]
    if ev.get("skipped"):
        out.append(f"Not measured: {ev['skipped']}.")
    if ev.get("stale"):
        out.append(f"Model and combined left out: {ev['stale']}.")
    out += _results_tables(ev.get("results", {}))
    if "method" in ev and ev.get("results"):
        out += ["", f"Method: {ev['method']}; evaluation set {ev['file']} ({ev['records_in_file']} records; training "
                f"set known from {ev['training_set_from']})."]
    f = c["fresh_failures"]
    out += ["", "### Classifier on failures provoked in this run", ""]
    out += _results_tables(f["results"])
    out += ["", f"Method: {f['method']}."]
    if f["problems"]:
        out += ["", "Problems: " + "; ".join(f["problems"])]
    out += ["", "### Grouping and templates", ""]
    out += _grouping_lines(section["grouping"])
    return "\n".join(out) + "\n"


__all__ = ["STEPS", "analytics_markdown", "run_analytics_phase"]

"""A run's files: result.json (with the serialised histogram), summary.md, and report.html with charts.

The HTML is one self-contained file (inline SVG from `recoup.report.svg`, no scripts) so a CI job can keep
it as an artefact and anyone can open it offline.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path

from recoup.load.format import format_duration, format_rate, format_ratio
from recoup.load.result import SUMMARY_PERCENTILES, LoadResult
from recoup.load.thresholds import ThresholdOutcome

__all__ = ["latency_bins", "percentile_curve", "summary_markdown", "write_outputs"]

_CURVE_PERCENTILES = (0.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999)


def write_outputs(result: LoadResult, outcomes: Sequence[ThresholdOutcome], out: Path) -> dict[str, Path]:
    """Write the three files into ``out`` (created if missing); returns their paths by kind."""
    out.mkdir(parents=True, exist_ok=True)
    data = result.to_dict()
    data["thresholds"] = [o.to_dict() for o in outcomes]
    data["passed"] = all(o.passed for o in outcomes)
    paths = {"json": out / "result.json", "markdown": out / "summary.md", "html": out / "report.html",
             "histogram": out / "histogram.txt"}
    paths["json"].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(summary_markdown(result, outcomes), encoding="utf-8")
    paths["html"].write_text(report_html(result, outcomes), encoding="utf-8")
    paths["histogram"].write_text(result.histogram.to_string() + "\n", encoding="ascii")
    return paths


def summary_rows(result: LoadResult) -> list[tuple[str, str]]:
    """(label, value) pairs every summary shows, latencies to 3 significant digits."""
    latency = result.latency_summary()
    rows = [(f"p{p:g}", format_duration(latency[f"p{p:g}"])) for p in SUMMARY_PERCENTILES]
    rows += [("max", format_duration(latency["max"])), ("mean", format_duration(latency["mean"])),
             ("throughput", format_rate(result.throughput)),
             ("completed", f"{result.completed} ({result.ok} ok, {result.errors} errors)"),
             ("error rate", format_ratio(result.error_rate))]
    if result.faulted:
        rows.append(("recovery", f"{format_ratio(result.recovery)} of {result.faulted} faulted operations"))
    if result.mode != "closed":
        rows += [("dropped starts", str(result.dropped)), ("late starts", str(result.late)),
                 ("max start lag", format_duration(result.max_start_lag))]
    if result.unfinished:
        rows.append(("unfinished", str(result.unfinished)))
    return rows


def summary_markdown(result: LoadResult, outcomes: Sequence[ThresholdOutcome]) -> str:
    lines = [f"# Load run: {result.target}", "",
             f"{result.profile}; ran {result.elapsed:.1f} s, latency measured from each operation's "
             f"{'start' if result.mode == 'closed' else 'intended start (coordinated-omission aware)'}.", "",
             "| metric | value |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in summary_rows(result)]
    if result.error_categories:
        lines += ["", "| error category | count |", "|---|---|"]
        lines += [f"| {cat} | {n} |" for cat, n in sorted(result.error_categories.items(), key=lambda kv: -kv[1])]
    if result.status_codes:
        lines += ["", "| HTTP status | count |", "|---|---|"]
        lines += [f"| {code} | {n} |" for code, n in sorted(result.status_codes.items())]
    if outcomes:
        lines += ["", "| threshold | measured | result |", "|---|---|---|"]
        lines += [f"| `{o.threshold.text}` | {o.measured_text} | {'pass' if o.passed else '**FAIL**'} |"
                  for o in outcomes]
        verdict = "all thresholds passed" if all(o.passed for o in outcomes) else "some thresholds FAILED"
        lines += ["", f"Verdict: {verdict}."]
    return "\n".join(lines) + "\n"


def latency_bins(result: LoadResult, per_decade: int = 10) -> list[tuple[float, int]]:
    """The histogram regrouped into log-spaced bins (upper bound in ms, count) for a readable chart."""
    buckets = list(result.histogram.buckets())
    if not buckets:
        return []
    step = 1 / per_decade
    bins: dict[int, int] = {}
    for low, _high, count in buckets:
        key = math.floor(math.log10(max(low, 1)) / step + 1e-9)
        bins[key] = bins.get(key, 0) + count
    first, last = min(bins), max(bins)
    return [(10 ** ((k + 1) * step) / 1000, bins.get(k, 0)) for k in range(first, last + 1)]


def percentile_curve(result: LoadResult) -> list[tuple[float, float]]:
    """(nines, latency ms): x = -log10(1 - p), so p90, p99, p99.9 are evenly spaced and the tail is visible."""
    values = result.histogram.percentiles(_CURVE_PERCENTILES)
    return [(-math.log10(1 - p / 100), values[p] / 1000) for p in _CURVE_PERCENTILES]


def report_html(result: LoadResult, outcomes: Sequence[ThresholdOutcome]) -> str:
    esc = html.escape
    rows = "".join(f"<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>" for label, value in summary_rows(result))
    verdict = ""
    if outcomes:
        items = "".join(
            f"<tr class=\"{'pass' if o.passed else 'fail'}\"><td><code>{esc(o.threshold.text)}</code></td>"
            f"<td>{esc(o.measured_text)}</td><td>{'pass' if o.passed else 'FAIL'}</td></tr>" for o in outcomes)
        head = "<tr><th>threshold</th><th>measured</th><th>result</th></tr>"
        verdict = f"<h2>Thresholds</h2><table>{head}{items}</table>"
    charts = "".join(f"<figure>{svg}</figure>" for svg in _charts(result))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Load run: {esc(result.target)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#111}}
table{{border-collapse:collapse;margin:1em 0}}th,td{{border:1px solid #ccc;padding:.3em .7em;text-align:left}}
tr.fail td{{background:#fde2e1}}tr.pass td{{background:#e3f6e8}}figure{{margin:1em 0}}</style></head>
<body><h1>Load run: {esc(result.target)}</h1>
<p>{esc(result.profile)}; ran {result.elapsed:.1f} s. Latency counts from each operation's
{'start' if result.mode == 'closed' else 'intended start, so queueing behind a stall is not hidden'};
percentiles are exact to 3 significant digits.</p>
<table>{rows}</table>{verdict}{charts}</body></html>
"""


def _charts(result: LoadResult) -> list[str]:
    try:
        from recoup.report import svg
    except ImportError:  # the report package is optional for the load runner; the tables still tell all
        return []
    charts = [svg.histogram(latency_bins(result), title="Latency distribution", x_label="latency (ms)",
                            log_x=True)]
    curve = percentile_curve(result)
    if len(curve) > 1 and result.completed:
        charts.append(svg.line_chart([x for x, _ in curve], [("latency (ms)", [v for _, v in curve])],
                                     title="Latency by percentile",
                                     x_label="percentile as nines (1 = p90, 2 = p99, 3 = p99.9)",
                                     y_label="latency (ms)"))
    if result.intervals:
        xs = [i.start for i in result.intervals]
        span = result.interval
        charts.append(svg.line_chart(xs, [("completed/s", [i.completed / span for i in result.intervals]),
                                          ("errors/s", [i.errors / span for i in result.intervals])],
                                     title="Throughput and errors over time", x_label="time (s)",
                                     y_label="operations per second"))
        charts.append(svg.line_chart(xs, [("p50 (ms)", [i.p50 * 1000 for i in result.intervals]),
                                          ("p99 (ms)", [i.p99 * 1000 for i in result.intervals])],
                                     title="Latency over time", x_label="time (s)", y_label="latency (ms)"))
    return charts


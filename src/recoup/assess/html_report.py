"""The assessment as one self-contained HTML file: readiness headline, charts, every figure with its method.

Why one file with inline CSS and SVG and no JavaScript: the report is evidence that gets attached to tickets,
archived by CI and opened offline; nothing in it may depend on a network or a script runner. All text from
the report goes through Jinja2's autoescaping (a hostile string in the configuration stays text), the phase
tables are the same Markdown `recoup.assess.report.render_markdown` writes (one source for every method
sentence), rendered by markdown-it with raw HTML switched off.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from recoup.report import svg

_TEMPLATE = "report.html.j2"

#: Event names on the detection timeline, in the order they normally happen.
TIMELINE_EVENTS = ("fault on", "alert firing", "incident declared", "first notification", "escalation",
                   "RTO breached", "fault cleared", "service restored", "incident resolved")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# -- commands, configuration --------------------------------------------------------------------------------

_OPTIONS = (  # config key -> `recoup assess` option
    ("ops", "--ops"), ("concurrency", "--concurrency"), ("transient_rate", "--transient-rate"),
    ("permanent_rate", "--permanent-rate"), ("max_clears_after", "--max-clears-after"), ("attempts", "--attempts"),
    ("seed", "--seed"), ("outage_seconds", "--outage-seconds"), ("outage_at", "--outage-at"),
    ("engine_ops", "--engine-ops"), ("workflows", "--workflows"),
)


def _secret(value: Any, placeholder: str) -> str:
    """Reports record "given" for URLs that may hold credentials; the command shows a placeholder then."""
    return placeholder if value == "given" else str(value)


def reproduce_commands(config: Mapping[str, Any]) -> list[str]:
    """Shell commands that rerun this assessment with the same settings (the report's ``config``)."""
    if isinstance(config.get("command"), str):  # a runner that recorded its own command line wins
        return [config["command"]]
    args = ["recoup", "assess", "--out", "report"]
    for key, option in _OPTIONS:
        if key in config and config[key] is not None:
            args += [option, str(config[key])]
    server = config.get("server")
    if server is None and "server" in config:
        args.append("--no-server")
    elif isinstance(server, dict):
        if server.get("url") not in (None, "embedded"):
            args += ["--server", str(server["url"])]
        if server.get("sink_flush_interval") is not None:
            args += ["--sink-flush-interval", str(server["sink_flush_interval"])]
    incidents = config.get("incidents")
    if incidents is None and "incidents" in config:
        args.append("--no-incidents")
    elif isinstance(incidents, dict):
        if incidents.get("time_scale") is not None:
            args += ["--incident-time-scale", repr(float(incidents["time_scale"]))]
        if incidents.get("db"):
            args += ["--db", _secret(incidents["db"], "<database URL>")]
    if config.get("redis"):
        args += ["--redis", _secret(config["redis"], "<redis URL>")]
    commands = ["python -m pip install 'recoup[all]'   # or, in a checkout: pip install -e '.[dev]'",
                shlex.join(args)]
    if any(arg.startswith("<") for arg in args):
        commands.append("# <...>: the run used one but the report keeps no credentials; put yours in")
    if isinstance(server, dict) and server.get("url") not in (None, "embedded"):
        commands.append("# --server needs --server-key or --server-token (RECOUP_ADMIN_TOKEN) for that server")
    return commands


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested config as ``(dotted.key, JSON value)`` rows."""
    if isinstance(value, dict) and value:
        rows: list[tuple[str, str]] = []
        for key in sorted(value, key=str):
            rows += flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
        return rows
    return [(prefix or "(root)", json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))]


# -- charts -------------------------------------------------------------------------------------------------


def _chart(title: str, method: str, draw: Callable[[], str], *, wide: bool = False) -> dict[str, Any]:
    """One chart with its method caption; a chart the data cannot draw says why in the report."""
    try:
        return {"title": title, "method": method, "svg": draw(), "error": "", "wide": wide}
    except (ValueError, TypeError, KeyError) as exc:
        return {"title": title, "method": method, "svg": "", "error": f"not drawn: {exc}", "wide": wide}


def _latency_chart(results: Mapping[str, Any]) -> dict[str, Any]:
    buckets = results.get("latency_histogram_ms")
    if isinstance(buckets, list) and buckets:
        pairs = [(float(b[0]), float(b[1])) for b in buckets]
        log_x = all(bound > 0 for bound, _ in pairs)
        return _chart(
            "Operation latency distribution", "results.latency_histogram_ms: start → end of every operation, "
            "counted per latency bucket (upper bound in ms)",
            lambda: svg.histogram(pairs, title="Operation latency", x_label="latency (ms, upper bucket bound)",
                                  y_label="operations", log_x=log_x))
    series: list[tuple[str, list[tuple[float, float]]]] = []
    sources = (("operation latency", results.get("operation_latency_ms")),
               ("recovery time", results.get("recovery_time_ms")),
               ("event received", _dict(results.get("server")).get("received_latency_ms")),
               ("event visible", _dict(results.get("server")).get("visible_latency_ms")))
    for label, dist in sources:
        d = _dict(dist)
        kept: list[tuple[float, float]] = []
        for p, k in ((50.0, "p50"), (95.0, "p95"), (99.0, "p99"), (100.0, "max")):
            v = _number(d.get(k))
            if v is not None and v > 0:
                kept.append((p, v))
        if kept:
            series.append((label, kept))
    return _chart(
        "Latency percentiles", "nearest-rank p50 / p95 / p99 and max (plotted at 100) of results.operation_latency_ms,"
        " results.recovery_time_ms and the server's event latencies; this report has no latency_histogram_ms",
        lambda: svg.percentile_plot(series, title="Latency percentiles", y_label="milliseconds (log)", log_y=True))


def _recovery_chart(results: Mapping[str, Any]) -> dict[str, Any]:
    raw = results.get("recovery_timeline") or []
    bins = [b for b in raw if isinstance(b, dict) and _number(b.get("t")) is not None]
    method = ("results.recovery_timeline: per time bin of the load, operations that ended succeeded (no fault), "
              "recovered (after failures) and failed, stacked; shaded while the circuit breaker was open/half-open")

    def draw() -> str:
        if not bins:
            raise ValueError("this report has no results.recovery_timeline")
        ordered = sorted(bins, key=lambda b: float(b["t"]))
        xs = [float(b["t"]) for b in ordered]
        step = (xs[-1] - xs[0]) / (len(xs) - 1) if len(xs) > 1 else 1.0
        series = [(name, [float(b.get(name) or 0) for b in ordered]) for name in ("succeeded", "recovered", "failed")]
        bands: list[tuple[float, float, str]] = []
        for i, b in enumerate(ordered):
            state = str(b.get("breaker_state") or "closed")
            if state != "closed":
                end = xs[i + 1] if i + 1 < len(xs) else xs[i] + step
                if bands and bands[-1][2] == f"breaker {state}" and bands[-1][1] == xs[i]:
                    bands[-1] = (bands[-1][0], end, bands[-1][2])
                else:
                    bands.append((xs[i], end, f"breaker {state}"))
        return svg.line_chart(xs, series, title="Recovery over time", x_label="seconds since the load started",
                              y_label="operations ended per bin", stacked=True, bands=bands,
                              colours=("#009E73", "#0072B2", "#D55E00"))

    return _chart("Recovery over time", method, draw)


def detection_lanes(results: Mapping[str, Any]) -> tuple[list[tuple[str, list[tuple[float, str]]]],
                                                           list[tuple[str, float, float, str]]]:
    """Per incident scenario, its measured moments on one axis (t0 = fault switched on), and the fault span."""
    lanes: list[tuple[str, list[tuple[float, str]]]] = []
    spans: list[tuple[str, float, float, str]] = []
    for s in _dict(results.get("incidents")).get("scenarios") or []:
        if not isinstance(s, dict):
            continue
        name = str(s.get("title") or s.get("name"))
        events: list[tuple[float, str]] = [(0.0, "fault on")]
        marks = (("alert firing", s.get("detection_seconds")),
                 ("incident declared", _dict(s.get("incident")).get("declared_after_seconds")),
                 ("first notification", _dict(s.get("notifications")).get("first_after_seconds")),
                 ("fault cleared", s.get("fault_seconds")))
        events += [(t, label) for label, raw in marks if (t := _number(raw)) is not None]
        for e in s.get("escalations") or []:
            if isinstance(e, dict) and _number(e.get("after_seconds")) is not None:
                kind = "RTO breached" if e.get("kind") == "rto_breached" else "escalation"
                events.append((float(e["after_seconds"]), kind))
        healed, took = _number(s.get("fault_seconds")), _number(s.get("recovered_seconds"))
        if healed is not None and took is not None and s.get("recovered"):
            events.append((healed + took, "incident resolved"))
        restored = _number(s.get("restored_seconds"))
        if healed is not None and restored is not None and s.get("restored"):
            events.append((healed + restored, "service restored"))
        if healed is not None:
            spans.append((name, 0.0, healed, "fault active"))
        lanes.append((name, sorted(events, key=lambda e: (e[0], TIMELINE_EVENTS.index(e[1])))))
    return lanes, spans


def _detection_chart(results: Mapping[str, Any]) -> dict[str, Any]:
    lanes, spans = detection_lanes(results)
    scale = _number(_dict(results.get("incidents")).get("time_scale"))
    note = f" Rule durations ran scaled by {scale:.6g}: divide by it for shipped-rule time." if scale else ""
    return _chart(
        "Detection timeline per scenario",
        "results.incidents.scenarios[*]: t0 = fault switched on; alert fired_at, incident declared_at, first "
        "verified webhook delivery, escalation steps and RTO breaches from the incident timeline, fault cleared, "
        "and the incident's resolved_at (fault cleared + recovered_seconds)." + note,
        lambda: svg.timeline(lanes, spans=spans, title="Detection timeline per scenario",
                             x_label="seconds since the fault was switched on", kinds=TIMELINE_EVENTS,
                             width=1120), wide=True)


def _charts(report: Mapping[str, Any], readiness: Mapping[str, Any]) -> list[dict[str, Any]]:
    results = _dict(report.get("results"))
    measured = [(c["name"], float(c["score"]) * 100) for c in readiness.get("checks", []) if c.get("score") is not None]
    charts = [_chart("Readiness by check", "each check's score × 100 (rules in the table above); unmeasured checks "
                     "are not drawn", lambda: svg.bar_chart(measured, title="Readiness by check", max_value=100,
                                                            x_label="score"))]
    charts += [_latency_chart(results), _recovery_chart(results), _detection_chart(results)]
    categories = _dict(results.get("per_category"))
    if categories:
        rows = [(f"{name} ({'transient' if _dict(c).get('transient') else 'permanent'})",
                 100 * float(_dict(c).get("succeeded") or 0) / float(_dict(c).get("operations") or 1))
                for name, c in sorted(categories.items())]
        charts.append(_chart(
            "Load pipeline: succeeded per injected category",
            "results.per_category[*].succeeded / operations (permanent faults are expected to fail fast)",
            lambda: svg.bar_chart(rows, title="Succeeded per injected category", max_value=100, value_suffix=" %",
                                  x_label="% of the category's operations")))
    strategies = _dict(_dict(results.get("engine")).get("strategies"))
    ttr = [(name, float(v)) for name, s in sorted(strategies.items())
           if (v := _number(_dict(_dict(s).get("time_to_recover_ms")).get("p95"))) is not None]
    if ttr:
        charts.append(_chart(
            "Engine: time to recover p95 per strategy",
            "results.engine.strategies[*].time_to_recover_ms.p95: first failure → success, from the engine's own "
            "RecoveryOutcomeEvents, nearest rank",
            lambda: svg.bar_chart(ttr, title="Time to recover, p95 per strategy", value_suffix=" ms",
                                  x_label="milliseconds")))
    return charts


# -- phase figures ------------------------------------------------------------------------------------------


def _without_readiness(markdown: str) -> str:
    """Drop the first H1 (the page has its own) and any Readiness section (shown in the headline)."""
    out: list[str] = []
    skipping = False
    for line in markdown.splitlines():
        if line.startswith("# ") and not out:
            continue
        if line.startswith("## "):
            skipping = line.strip() == "## Readiness"
        if not skipping:
            out.append(line)
    return "\n".join(out)


def phase_figures_html(report: Mapping[str, Any]) -> str:
    """The phases' figure tables (with their method column) as HTML, from report.py's own Markdown."""
    from markdown_it import MarkdownIt

    from recoup.assess.report import render_markdown

    markdown = render_markdown(_dict(report.get("config")), _dict(report.get("results")),
                               _dict(report.get("environment")))
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    return str(parser.render(_without_readiness(markdown)))


# -- the page -----------------------------------------------------------------------------------------------


def render_html(report: Mapping[str, Any], readiness: Mapping[str, Any]) -> str:
    """The whole page as a string (`write_html` writes it)."""
    try:
        import jinja2
        from markupsafe import Markup
    except ImportError as exc:  # Jinja2 comes with the server extra
        raise RuntimeError("the HTML report needs Jinja2: pip install 'recoup[server]'") from exc
    if not isinstance(report, Mapping) or not isinstance(readiness, Mapping):
        raise TypeError("report and readiness must be the report.json dict and score_readiness()'s dict")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("recoup.assess", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        phases = phase_figures_html(report)
        phases_error = ""
    except (ImportError, KeyError, TypeError, ValueError) as exc:  # shown in the page, not swallowed
        phases, phases_error = "", f"the phase tables could not be rendered from this report: {exc!r}"
    config = _dict(report.get("config"))
    return env.get_template(_TEMPLATE).render(
        environment=flatten(_dict(report.get("environment"))),
        config=flatten(config),
        commands=reproduce_commands(config),
        readiness=readiness,
        overall=readiness["overall"],
        checks=readiness["checks"],
        gaps=readiness["gaps"],
        charts=_charts(report, readiness),
        phases=Markup(phases),
        phases_error=phases_error,
        finished_at=_dict(report.get("environment")).get("finished_at", "unknown"),
    )


def write_html(report: Mapping[str, Any], readiness: Mapping[str, Any], path: Path) -> None:
    """Write the self-contained HTML report to ``path`` (UTF-8), atomically: a crash leaves no half page."""
    import os

    target = Path(path)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(render_html(report, readiness), encoding="utf-8")
    os.replace(tmp, target)

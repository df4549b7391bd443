"""The HTML report: one well-formed, self-contained file (no scripts, no external assets), every readiness check
in it, every chart drawn from the report's own numbers, and hostile strings from the report kept as text."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from recoup.assess.html_report import detection_lanes, flatten, render_html, reproduce_commands, write_html
from recoup.assess.readiness import score_readiness

NS = "{http://www.w3.org/2000/svg}"
VOID = {"meta", "br", "col", "img", "hr", "input", "link", "source", "wbr", "area", "base", "embed", "track"}
HOSTILE = '<script>alert("x")</script><img src=http://evil.example/x.png>'


class TagBalance(HTMLParser):
    """Every element closed in order (SVG's self-closing tags included): a well-formed page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def scenario(name: str, title: str, detection: float, rto_met: bool) -> dict[str, Any]:
    return {
        "name": name, "title": title, "rule": "HighErrorRate", "expected": "detected, notified, recovers",
        "detected": True, "detection_seconds": detection, "fault_seconds": 1.2, "recovered": True,
        "recovered_seconds": 0.7,
        "incident": {"declared": True, "declared_after_seconds": detection + 0.1},
        "notifications": {"delivered": 4, "first_after_seconds": detection + 0.3, "signatures_verified": True},
        "escalations": [{"after_seconds": 1.6, "kind": "rto_breached", "text": "not recovered"}],
        "escalation_notices_delivered": 1,
        "rto": {"target_seconds": 1.0, "incident_open_seconds": 0.9 if rto_met else 1.9, "met": rto_met},
    }


def report() -> dict[str, Any]:
    timeline = [{"t": i * 0.25, "started": 10, "succeeded": 6, "recovered": i % 4, "failed": 1,
                 "breaker_state": "open" if i in (4, 5) else "closed"} for i in range(12)]
    return {
        "config": {"ops": 300, "seed": 7, "concurrency": 50, "server": {"url": "embedded",
                                                                      "sink_flush_interval": 1.0},
                   "incidents": {"db": None, "time_scale": 0.25}, "label": HOSTILE},
        "environment": {"python": "3.11.7", "platform": HOSTILE, "cpus": 2, "finished_at": "2026-01-01T00:00:00"},
        "results": {
            "recovered": 990, "recoverable_faults": 1000,
            "latency_histogram_ms": [[1, 5], [5, 40], [25, 120], [100, 60], [500, 9], [2500, 2]],
            "recovery_timeline": timeline,
            "operation_latency_ms": {"p50": 20.0, "p95": 80.0, "p99": 300.0, "max": 900.0},
            "per_category": {"network": {"operations": 40, "succeeded": 38, "transient": True},
                             "auth": {"operations": 10, "succeeded": 0, "transient": False}},
            "engine": {"recovered_and_verified": 20, "recoverable": 20,
                       "strategies": {"network/breaker": {"time_to_recover_ms": {"p95": 412.0}}}},
            "server": {"events_acknowledged": 100, "events_lost": 0},
            "incidents": {"time_scale": 0.25, "scenarios": [scenario("spike", "Error-rate spike", 0.4, True),
                                                            scenario("pool", "Pool exhaustion", 0.2, False)]},
        },
    }


@pytest.fixture
def page(tmp_path: Path) -> str:
    data = report()
    path = tmp_path / "report.html"
    write_html(data, score_readiness(data), path)
    return path.read_text(encoding="utf-8")


def svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", page, flags=re.S)]


def test_page_is_well_formed_and_self_contained(page: str) -> None:
    checker = TagBalance()
    checker.feed(page)
    checker.close()
    assert checker.problems == [] and checker.stack == []
    assert page.startswith("<!DOCTYPE html>")
    assert not any(tag == "script" for tag, _ in checker.tags)
    for tag, attrs in checker.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"^(https?:)?//", value), f"<{tag} {name}={value!r}> loads from the network"
    assert not any(tag == "link" for tag, _ in checker.tags)
    assert "<style>" in page  # the CSS is inline


def test_every_check_is_in_the_headline(page: str) -> None:
    readiness = score_readiness(report())
    for check in readiness["checks"]:
        assert f'id="check-{check["name"]}"' in page
        assert check["method"] in html.unescape(page)
    assert f"{readiness['overall']['score'] * 100:.1f}" in page
    assert "Gaps and recommendations" in page and "Recommendation:" in page  # rto_compliance is partial


def test_every_chart_is_valid_svg_with_the_reports_numbers(page: str) -> None:
    charts = {c.findtext(f"{NS}title"): c for c in svgs(page)}
    assert set(charts) >= {"Readiness by check", "Operation latency", "Recovery over time",
                           "Detection timeline per scenario", "Succeeded per injected category",
                           "Time to recover, p95 per strategy"}
    bars = charts["Operation latency"].find(f".//{NS}g[@class='bars']")
    assert bars is not None
    assert [r.findtext(f"{NS}title") for r in bars.findall(f"{NS}rect")] == [
        "0.2 – 1: 5", "1 – 5: 40", "5 – 25: 120", "25 – 100: 60", "100 – 500: 9", "500 – 2500: 2"]
    recovery = charts["Recovery over time"]
    assert len(list(recovery.iter(f"{NS}circle"))) == 3 * 12  # succeeded, recovered, failed per bin
    tips = {t.text for t in recovery.iter(f"{NS}title")}
    assert "recovered at 0.75: 3" in tips and "breaker open: 1 – 1.5" in tips
    timeline = charts["Detection timeline per scenario"]
    tips = {t.text for t in timeline.iter(f"{NS}title")}
    assert {"Error-rate spike: alert firing at 0.4", "Pool exhaustion: first notification at 0.5",
            "Pool exhaustion: RTO breached at 1.6", "Error-rate spike: incident resolved at 1.9"} <= tips
    assert "412 ms" in {"".join(t.itertext()) for t in charts["Time to recover, p95 per strategy"].iter(f"{NS}text")}


def test_hostile_strings_from_the_report_stay_text(page: str) -> None:
    assert HOSTILE not in page
    assert "evil.example" in page  # shown, escaped
    assert "&lt;script&gt;" in page
    assert "<script" not in page and "<img" not in page


def test_missing_optional_data_is_said_not_hidden(tmp_path: Path) -> None:
    data = report()
    del data["results"]["recovery_timeline"], data["results"]["latency_histogram_ms"]
    page = render_html(data, score_readiness(data))
    assert "Recovery over time: not drawn: this report has no results.recovery_timeline" in page
    titles = {c.findtext(f"{NS}title") for c in svgs(page)}
    assert "Latency percentiles" in titles  # the fallback chart from the percentiles
    assert "Operation latency" not in titles


def test_reproduce_commands_rebuild_the_options() -> None:
    commands = reproduce_commands(report()["config"])
    assert commands[-1] == ("recoup assess --out report --ops 300 --concurrency 50 --seed 7 "
                            "--sink-flush-interval 1.0 --incident-time-scale 0.25")
    remote = reproduce_commands({"server": {"url": "http://10.0.0.5:8000"}, "incidents": None, "ops": 5})
    assert "--server http://10.0.0.5:8000" in remote[1] and "--no-incidents" in remote[1]
    assert reproduce_commands({"command": "recoup assess --quick"}) == ["recoup assess --quick"]
    hidden = reproduce_commands({"redis": "given", "incidents": {"db": "given", "time_scale": 0.5}})
    assert "--db '<database URL>'" in hidden[1] and "--redis '<redis URL>'" in hidden[1]
    assert hidden[2].startswith("# <...>")


def test_flatten_and_lanes() -> None:
    assert flatten({"b": {"c": None}, "a": 1}) == [("a", "1"), ("b.c", "null")]
    lanes, spans = detection_lanes(report()["results"])
    assert [name for name, _ in lanes] == ["Error-rate spike", "Pool exhaustion"]
    assert spans[0] == ("Error-rate spike", 0.0, 1.2, "fault active")
    assert [label for _, label in lanes[1][1]] == ["fault on", "alert firing", "incident declared",
                                                   "first notification", "fault cleared", "RTO breached",
                                                   "incident resolved"]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="report and readiness must be"):
        render_html([], {})  # type: ignore[arg-type]

"""The dependency-free SVG charts: well-formed, accessible, deterministic, every data point drawn, hostile text
kept as text, and bad input refused with an error naming the argument."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from recoup.report import svg

NS = "{http://www.w3.org/2000/svg}"


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title = root.find(f"{NS}title")
    desc = root.find(f"{NS}desc")
    assert title is not None and title.text, "every chart has a <title>"
    assert desc is not None and desc.text, "every chart has a <desc>"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return root


def tooltips(root: ET.Element) -> list[str]:
    """The <title> texts of the marks (not the chart's own title)."""
    return [t.text or "" for mark in root.iter() if mark.tag != f"{NS}svg"
            for t in mark.findall(f"{NS}title")]


def texts(root: ET.Element) -> list[str]:
    """What each <text> shows (its own text, not the tooltip <title> inside it)."""
    return [t.text or "" for t in root.iter(f"{NS}text")]


BUCKETS = [(1.0, 3), (2.0, 0), (5.0, 7), (10.0, 12), (25.0, 4), (50.0, 1)]


def test_histogram_draws_one_bar_per_bucket_with_its_count() -> None:
    root = parse(svg.histogram(BUCKETS, title="Latency", x_label="ms", log_x=True))
    bars = root.find(f".//{NS}g[@class='bars']")
    assert bars is not None
    rects = bars.findall(f"{NS}rect")
    assert len(rects) == len(BUCKETS)
    tips = [r.find(f"{NS}title").text for r in rects]  # type: ignore[union-attr]
    assert tips[2] == "2 – 5: 7" and tips[3] == "5 – 10: 12"
    heights = [float(r.get("height", "0")) for r in rects]
    assert heights[1] == 0.0 and heights[3] == max(heights)  # the fullest bucket is the tallest bar
    assert "ms" in texts(root) and "count" in texts(root)
    assert "27 observations" in (root.findtext(f"{NS}desc") or "")


def test_histogram_overflow_bucket_and_linear_axis() -> None:
    root = parse(svg.histogram([(10.0, 1), (20.0, 2), (math.inf, 5)], title="h"))
    tips = [t for t in tooltips(root) if ":" in t]
    assert tips == ["0 – 10: 1", "10 – 20: 2", "> 20: 5"]


def test_percentile_plot_has_a_point_per_value_and_a_legend() -> None:
    series = [("operation", [(50.0, 10.0), (95.0, 40.0), (99.0, 90.0)]), ("recovery", [(50.0, 5.0), (99.0, 300.0)])]
    root = parse(svg.percentile_plot(series, title="p", y_label="ms", log_y=True))
    assert len(list(root.iter(f"{NS}circle"))) == 5
    assert "recovery p99: 300" in tooltips(root)
    assert {"operation", "recovery"} <= set(texts(root))  # the legend names both series


def test_stacked_line_chart_stacks_and_shades_bands() -> None:
    x = [0.0, 1.0, 2.0]
    series = [("ok", [1.0, 2.0, 3.0]), ("failed", [1.0, 0.0, 2.0])]
    root = parse(svg.line_chart(x, series, title="t", x_label="s", y_label="n", stacked=True,
                                bands=[(1.0, 2.0, "breaker open")], colours=("#009E73", "#D55E00")))
    assert len(root.findall(f".//{NS}polygon")) == 2  # one area per series
    assert len(list(root.iter(f"{NS}circle"))) == 6
    assert "failed at 2: 2" in tooltips(root)  # the raw value, not the stacked height
    assert "breaker open: 1 – 2" in tooltips(root)
    assert "breaker open" in texts(root)


def test_timeline_puts_every_event_on_its_lane() -> None:
    lanes = [("spike", [(0.0, "fault on"), (0.8, "alert firing"), (2.0, "first notification")]),
             ("pool", [(0.0, "fault on"), (0.2, "alert firing")])]
    root = parse(svg.timeline(lanes, title="detection", spans=[("spike", 0.0, 1.0, "fault active")],
                              kinds=("fault active", "fault on", "alert firing", "first notification")))
    lane_groups = root.findall(f".//{NS}g[@class='lane']")
    assert len(lane_groups) == 2
    assert "spike: alert firing at 0.8" in tooltips(root)
    assert "pool: alert firing at 0.2" in tooltips(root)
    assert "fault active: 0 – 1" in tooltips(root)
    legend = root.find(f".//{NS}g[@class='legend']")
    assert legend is not None
    assert [t.text for t in legend.iter(f"{NS}text")] == ["fault active", "fault on", "alert firing",
                                                          "first notification"]


def test_long_labels_are_cut_with_the_full_name_in_a_tooltip() -> None:
    name = "Resource exhaustion (file descriptors) in a very long scenario title"
    root = parse(svg.timeline([(name, [(0.0, "fault on")])], title="t"))
    shown = [t for t in texts(root) if t.startswith("Resource")]
    assert len(shown) == 1 and shown[0].endswith("…") and len(shown[0]) < len(name)
    assert name in tooltips(root)
    short = "Resource exhaustion (file descriptors)"
    assert short in texts(parse(svg.timeline([(short, [(0.0, "fault on")])], title="t")))  # fits: not cut


def test_bar_chart_prints_each_value() -> None:
    root = parse(svg.bar_chart([("a", 12.5), ("b", 100.0)], title="bars", max_value=100, value_suffix=" %"))
    assert "12.5 %" in texts(root) and "100 %" in texts(root)
    assert len(root.findall(f".//{NS}g[@class='bar']")) == 2


def test_output_is_deterministic() -> None:
    def draw() -> list[str]:
        return [svg.histogram(BUCKETS, title="h"),
                svg.timeline([("a", [(0.0, "x"), (1.0, "y")])], title="t"),
                svg.line_chart([0.0, 1.0], [("s", [1.0, 2.0])], title="l", x_label="x", y_label="y")]
    assert draw() == draw()


def test_hostile_labels_stay_text() -> None:
    evil = '</text><script>alert(1)</script>&"'
    out = svg.bar_chart([(evil, 1.0)], title=evil)
    assert "<script>" not in out
    root = parse(out)
    assert root.find(f"{NS}title").text == evil  # type: ignore[union-attr]
    assert evil in texts(root)


def test_empty_input_draws_a_no_data_chart() -> None:
    for out in (svg.histogram([], title="h"), svg.timeline([], title="t"), svg.bar_chart([], title="b"),
                svg.percentile_plot([], title="p", y_label="ms"),
                svg.line_chart([], [], title="l", x_label="x", y_label="y")):
        root = parse(out)
        assert any(t.startswith("no data") for t in texts(root))


@pytest.mark.parametrize(
    ("draw", "message"),
    [
        (lambda: svg.histogram([(1.0, 2), (1.0, 3)], title="h"), r"buckets\[1\] upper_bound: 1.0 is not above"),
        (lambda: svg.histogram([(1.0, -2)], title="h"), r"buckets\[0\] count: -2.0 is negative"),
        (lambda: svg.histogram([(0.0, 1), (1.0, 1)], title="h", log_x=True), r"buckets\[0\] upper_bound: 0.0 cannot"),
        (lambda: svg.histogram([(1.0, math.nan)], title="h"), r"buckets\[0\] count: nan is not a number"),
        (lambda: svg.line_chart([0.0, 1.0], [("s", [1.0])], title="l", x_label="x", y_label="y"),
         r"series\[0\] 's': 1 values for 2 x positions"),
        (lambda: svg.line_chart([1.0, 0.0], [("s", [1.0, 1.0])], title="l", x_label="x", y_label="y"),
         "x: positions must increase"),
        (lambda: svg.line_chart([0.0], [("s", [1.0])], title="l", x_label="x", y_label="y", colours=("red", "b")),
         "colours: 2 colours for 1 series"),
        (lambda: svg.percentile_plot([("s", [(120.0, 1.0)])], title="p", y_label="ms"),
         r"percentile: 120.0 is outside 0..100"),
        (lambda: svg.timeline([("a", [(0.0, "x")])], title="t", spans=[("b", 0.0, 1.0, "f")]),
         r"spans\[0\]: lane 'b' is not one of"),
        (lambda: svg.bar_chart([("a", -1.0)], title="b"), r"bars\[0\] 'a' value: -1.0 is negative"),
    ],
)
def test_bad_input_names_the_argument(draw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        draw()  # type: ignore[operator]

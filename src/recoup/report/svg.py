"""Charts as inline SVG strings, with no dependencies and no JavaScript.

Why hand-written: a readiness report must be one file that opens anywhere (air-gapped, in a CI artefact
viewer, in a mail attachment) and renders identically on every run, so the charts are plain SVG built from
plain numbers. Every chart has a ``<title>`` and ``<desc>`` (screen readers announce them), labelled axes, a
legend when it has several series, and a ``<title>`` tooltip on every mark carrying the exact value.

Inputs are plain lists of numbers and tuples; the output is a ``str``. The same input always gives the same
bytes (ids are derived from the content, numbers are formatted with fixed precision). Bad input raises
``ValueError`` naming the argument and the offending value.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["PALETTE", "bar_chart", "histogram", "line_chart", "percentile_plot", "timeline"]

#: Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

_FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\" font-size=\"12\""


# -- small helpers ------------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate with one decimal: stable bytes, small files."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _label(value: float) -> str:
    """A tick or tooltip number: short, no float noise."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.3g}"
    if magnitude >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _finite(name: str, value: float) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        raise ValueError(f"{name}: {value!r} is not a number")
    return float(value)


def _chart_id(kind: str, *parts: object) -> str:
    digest = hashlib.sha1(repr((kind, *parts)).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"{kind}-{digest}"


def _nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return 10.0 * power


def _linear_ticks(lo: float, hi: float, count: int = 5) -> tuple[float, float, list[float]]:
    """Axis bounds widened to round numbers, and the ticks between them."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    step = _nice_step(hi - lo, count)
    start = math.floor(lo / step) * step
    stop = math.ceil(hi / step) * step
    ticks = [round(start + i * step, 10) for i in range(round((stop - start) / step) + 1)]
    return start, stop, ticks


def _log_ticks(lo: float, hi: float) -> tuple[float, float, list[float]]:
    low = math.floor(math.log10(lo))
    high = math.ceil(math.log10(hi))
    if high == low:
        high += 1
    decades = [10.0**p for p in range(low, high + 1)]
    # few decades: 1-2-5 ticks read better
    ticks = [m * d for d in decades for m in (1, 2, 5) if m * d <= 10.0**high] if len(decades) <= 3 else decades
    return 10.0**low, 10.0**high, ticks


@dataclass(frozen=True)
class _Axis:
    lo: float
    hi: float
    start: float  # pixel position of lo
    end: float  # pixel position of hi
    log: bool = False

    def __call__(self, value: float) -> float:
        if self.log:
            value = max(value, self.lo)
            fraction = (math.log10(value) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            fraction = (value - self.lo) / (self.hi - self.lo)
        return self.start + fraction * (self.end - self.start)


@dataclass(frozen=True)
class _Box:
    width: int
    height: int
    left: int = 64
    right: int = 20
    top: int = 40
    bottom: int = 48

    @property
    def x0(self) -> float:
        return float(self.left)

    @property
    def x1(self) -> float:
        return float(self.width - self.right)

    @property
    def y0(self) -> float:  # bottom of the plot area (pixel y grows downwards)
        return float(self.height - self.bottom)

    @property
    def y1(self) -> float:
        return float(self.top)


def _open(chart_id: str, box: _Box, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{box.width}" height="{box.height}" '
        f'viewBox="0 0 {box.width} {box.height}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'{_FONT} class="chart">',
        f'<title id="{chart_id}-t">{_e(title)}</title>',
        f'<desc id="{chart_id}-d">{_e(desc)}</desc>',
        f'<rect x="0" y="0" width="{box.width}" height="{box.height}" fill="#ffffff"/>',
        f'<text x="{_n(box.x0)}" y="18" font-size="14" font-weight="600" fill="#111">{_e(title)}</text>',
    ]


def _no_data(kind: str, title: str, width: int, height: int, why: str) -> str:
    box = _Box(width, height)
    parts = _open(_chart_id(kind, title, "empty"), box, title, f"No data: {why}")
    parts.append(f'<text x="{_n(box.width / 2)}" y="{_n(box.height / 2)}" text-anchor="middle" fill="#666">'
                 f"no data: {_e(why)}</text>")
    parts.append("</svg>")
    return "\n".join(parts)


def _x_axis(box: _Box, axis: _Axis, ticks: Sequence[float], label: str, fmt: str = "") -> list[str]:
    out = [f'<line x1="{_n(box.x0)}" y1="{_n(box.y0)}" x2="{_n(box.x1)}" y2="{_n(box.y0)}" stroke="#333"/>']
    for tick in ticks:
        x = axis(tick)
        text = f"{_label(tick)}{fmt}"
        out.append(f'<line x1="{_n(x)}" y1="{_n(box.y0)}" x2="{_n(x)}" y2="{_n(box.y0 + 5)}" stroke="#333"/>')
        out.append(f'<text x="{_n(x)}" y="{_n(box.y0 + 18)}" text-anchor="middle" fill="#333">{_e(text)}</text>')
    if label:
        out.append(f'<text x="{_n((box.x0 + box.x1) / 2)}" y="{_n(box.height - 8)}" text-anchor="middle" '
                   f'fill="#111">{_e(label)}</text>')
    return out


def _y_axis(box: _Box, axis: _Axis, ticks: Sequence[float], label: str) -> list[str]:
    out = [f'<line x1="{_n(box.x0)}" y1="{_n(box.y0)}" x2="{_n(box.x0)}" y2="{_n(box.y1)}" stroke="#333"/>']
    for tick in ticks:
        y = axis(tick)
        out.append(f'<line x1="{_n(box.x0)}" y1="{_n(y)}" x2="{_n(box.x1)}" y2="{_n(y)}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{_n(box.x0 - 6)}" y="{_n(y + 4)}" text-anchor="end" fill="#333">'
                   f"{_e(_label(tick))}</text>")
    if label:
        mid = (box.y0 + box.y1) / 2
        out.append(f'<text x="14" y="{_n(mid)}" text-anchor="middle" transform="rotate(-90 14 {_n(mid)})" '
                   f'fill="#111">{_e(label)}</text>')
    return out


_CHAR = 6.8  # average glyph width of the 12 px font, for layout


def _legend_layout(items: Sequence[tuple[str, str]], x0: float, x1: float) -> list[tuple[float, int, str, str]]:
    """Colour keys left to right under the title, wrapping to new rows: ``(x, row, name, colour)``."""
    placed: list[tuple[float, int, str, str]] = []
    x, row = x0, 0
    for name, colour in items:
        width = 16 + _CHAR * len(name) + 14
        if x > x0 and x + width > x1:
            x, row = x0, row + 1
        placed.append((x, row, name, colour))
        x += width
    return placed


def _legend_top(items: Sequence[tuple[str, str]], x0: float, x1: float) -> int:
    """The plot's top margin: room for the title and, when there is one, the legend's rows."""
    if not items:
        return 40
    rows = 1 + max(row for _, row, _, _ in _legend_layout(items, x0, x1))
    return 34 + 15 * rows + 8


def _legend(box: _Box, items: Sequence[tuple[str, str]]) -> list[str]:
    out = ['<g class="legend">']
    for x, row, name, colour in _legend_layout(items, box.x0, box.x1):
        y = 38 + 15 * row
        out.append(f'<rect x="{_n(x)}" y="{_n(y - 9)}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{_n(x + 14)}" y="{_n(y)}" fill="#333">{_e(name)}</text>')
    out.append("</g>")
    return out


_LABEL_CAP = 300  # widest left-hand label column in px; longer names are cut with "…" (full name in a tooltip)


def _short(text: str, limit: int = int((_LABEL_CAP - 16) / _CHAR)) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label_column(names: Sequence[str]) -> int:
    return int(min(_LABEL_CAP, 16 + _CHAR * max(len(n) for n in names)))


# -- charts ---------------------------------------------------------------------------------------------------


def histogram(
    buckets: Sequence[tuple[float, float]],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "count",
    log_x: bool = False,
    width: int = 640,
    height: int = 300,
) -> str:
    """Bars of ``(upper_bound, count)`` buckets, each spanning from the previous bound to its own.

    The first bucket starts at 0 (linear axis) or one bucket-ratio below its bound (log axis). A last
    bound of ``inf`` becomes an overflow bar as wide as the one before it, labelled "> previous bound".
    """
    if not buckets:
        return _no_data("histogram", title, width, height, "no buckets")
    bounds: list[float] = []
    counts: list[float] = []
    for i, pair in enumerate(buckets):
        if len(pair) != 2:
            raise ValueError(f"buckets[{i}]: expected (upper_bound, count), got {pair!r}")
        bound = float(pair[0]) if pair[0] == math.inf else _finite(f"buckets[{i}] upper_bound", pair[0])
        count = _finite(f"buckets[{i}] count", pair[1])
        if count < 0:
            raise ValueError(f"buckets[{i}] count: {count!r} is negative")
        if bounds and bound <= bounds[-1]:
            raise ValueError(f"buckets[{i}] upper_bound: {bound!r} is not above the previous {bounds[-1]!r}")
        if log_x and bound <= 0:
            raise ValueError(f"buckets[{i}] upper_bound: {bound!r} cannot be on a log axis")
        bounds.append(bound)
        counts.append(count)
    overflow = math.isinf(bounds[-1])
    if overflow and len(bounds) == 1:
        return _no_data("histogram", title, width, height, "only an overflow bucket")
    finite = bounds[:-1] if overflow else bounds
    if log_x:
        ratio = finite[1] / finite[0] if len(finite) > 1 else 10.0
        lows = [finite[0] / ratio, *finite[:-1]]
    else:
        lows = [0.0 if finite[0] > 0 else finite[0] - 1.0, *finite[:-1]]
    highs = list(finite)
    if overflow:
        last_low = finite[-1]
        width_factor = (highs[-1] / lows[-1]) if log_x else (highs[-1] - lows[-1])
        lows.append(last_low)
        highs.append(last_low * width_factor if log_x else last_low + width_factor)

    box = _Box(width, height)
    x_lo, x_hi, x_ticks = _log_ticks(lows[0], highs[-1]) if log_x else _linear_ticks(lows[0], highs[-1])
    y_lo, y_hi, y_ticks = _linear_ticks(0.0, max(counts) or 1.0)
    x_axis = _Axis(x_lo, x_hi, box.x0, box.x1, log=log_x)
    y_axis = _Axis(y_lo, y_hi, box.y0, box.y1)
    total = float(sum(counts))
    chart_id = _chart_id("histogram", title, bounds, counts, log_x)
    desc = (f"Histogram of {int(total) if total.is_integer() else total} observations in {len(counts)} buckets "
            f"from {_label(lows[0])} to {_label(bounds[-2] if overflow else bounds[-1])}"
            f"{' (log scale)' if log_x else ''}; the fullest bucket holds {_label(max(counts))}.")
    parts = _open(chart_id, box, title, desc)
    parts += _y_axis(box, y_axis, y_ticks, y_label)
    parts.append('<g class="bars">')
    for i, (low, high, count) in enumerate(zip(lows, highs, counts, strict=True)):
        left, right = x_axis(low), x_axis(high)
        top = y_axis(count)
        what = (f"> {_label(low)}" if overflow and i == len(counts) - 1
                else f"{_label(low)} – {_label(high)}")
        parts.append(
            f'<rect x="{_n(left + 0.5)}" y="{_n(top)}" width="{_n(max(right - left - 1, 0.5))}" '
            f'height="{_n(box.y0 - top)}" fill="{PALETTE[0]}"><title>{_e(what)}: {_e(_label(count))}</title></rect>'
        )
    parts.append("</g>")
    parts += _x_axis(box, x_axis, [t for t in x_ticks if x_lo <= t <= x_hi], x_label)
    parts.append("</svg>")
    return "\n".join(parts)


def _check_series(name: str, series: Sequence[tuple[str, Sequence[object]]], length: int | None) -> None:
    for i, item in enumerate(series):
        if len(item) != 2 or not isinstance(item[0], str):
            raise ValueError(f"{name}[{i}]: expected (label, values), got {item!r}")
        if length is not None and len(item[1]) != length:
            raise ValueError(f"{name}[{i}] {item[0]!r}: {len(item[1])} values for {length} x positions")


def percentile_plot(
    series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    *,
    title: str,
    y_label: str,
    x_label: str = "percentile",
    log_y: bool = False,
    width: int = 640,
    height: int = 300,
) -> str:
    """Lines through ``(percentile 0..100, value)`` points, one per named series (e.g. p50/p95/p99/max)."""
    _check_series("series", series, None)
    points = [(p, v) for _, pts in series for p, v in pts]
    if not points:
        return _no_data("percentiles", title, width, height, "no points")
    for i, (label, pts) in enumerate(series):
        for j, (p, v) in enumerate(pts):
            _finite(f"series[{i}] {label!r} point {j} percentile", p)
            _finite(f"series[{i}] {label!r} point {j} value", v)
            if not 0 <= p <= 100:
                raise ValueError(f"series[{i}] {label!r} point {j} percentile: {p!r} is outside 0..100")
            if log_y and v <= 0:
                raise ValueError(f"series[{i}] {label!r} point {j} value: {v!r} cannot be on a log axis")
    keys = [(label, PALETTE[i % len(PALETTE)]) for i, (label, _) in enumerate(series)] if len(series) > 1 else []
    box = _Box(width, height, top=_legend_top(keys, 64, width - 20))
    p_lo = min(p for p, _ in points)
    x_lo, x_hi, x_ticks = _linear_ticks(max(0.0, math.floor(p_lo / 10) * 10), 100.0)
    values = [v for _, v in points]
    if log_y:
        y_lo, y_hi, y_ticks = _log_ticks(min(values), max(values))
    else:
        y_lo, y_hi, y_ticks = _linear_ticks(0.0, max(values) or 1.0)
    x_axis = _Axis(x_lo, x_hi, box.x0, box.x1)
    y_axis = _Axis(y_lo, y_hi, box.y0, box.y1, log=log_y)
    chart_id = _chart_id("percentiles", title, series, log_y)
    desc = "; ".join(
        f"{label}: " + ", ".join(f"p{_label(p)} {_label(v)}" for p, v in pts) for label, pts in series
    )
    parts = _open(chart_id, box, title, desc)
    parts += _y_axis(box, y_axis, y_ticks, y_label)
    parts += _x_axis(box, x_axis, x_ticks, x_label)
    parts += _legend(box, keys)
    for i, (label, pts) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        ordered = sorted(pts)
        path = " ".join(f"{_n(x_axis(p))},{_n(y_axis(v))}" for p, v in ordered)
        parts.append(f'<g class="series"><polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for p, v in ordered:
            parts.append(f'<circle cx="{_n(x_axis(p))}" cy="{_n(y_axis(v))}" r="3.5" fill="{colour}">'
                         f"<title>{_e(label)} p{_e(_label(p))}: {_e(_label(v))}</title></circle>")
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def line_chart(
    x: Sequence[float],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    stacked: bool = False,
    bands: Sequence[tuple[float, float, str]] = (),
    colours: Sequence[str] = (),
    width: int = 640,
    height: int = 300,
) -> str:
    """Several series over the same ``x`` positions: lines, or stacked areas when ``stacked``.

    ``colours`` gives each series its colour (CSS colour strings, in series order); `PALETTE` otherwise.

    ``bands`` shades x ranges ``(start, end, label)`` behind the data (e.g. while a circuit breaker was
    open); each distinct band label gets a legend entry.
    """
    _check_series("series", series, len(x))
    if not x or not series:
        return _no_data("line", title, width, height, "no points")
    xs = [_finite(f"x[{i}]", v) for i, v in enumerate(x)]
    if any(b <= a for a, b in itertools.pairwise(xs)):
        raise ValueError("x: positions must increase strictly")
    rows = [[_finite(f"series[{i}] {label!r} value {j}", v) for j, v in enumerate(vals)]
            for i, (label, vals) in enumerate(series)]
    if stacked and any(v < 0 for row in rows for v in row):
        raise ValueError("series: a stacked chart needs values >= 0")
    for i, (start, end, label) in enumerate(bands):
        if _finite(f"bands[{i}] end", end) < _finite(f"bands[{i}] start", start):
            raise ValueError(f"bands[{i}] {label!r}: end {end!r} is before start {start!r}")
    tops = [[sum(row[j] for row in rows[: k + 1]) for j in range(len(xs))] for k in range(len(rows))] \
        if stacked else rows
    if colours and len(colours) != len(series):
        raise ValueError(f"colours: {len(colours)} colours for {len(series)} series")
    for i, colour in enumerate(colours):
        if not isinstance(colour, str) or not colour or any(c in colour for c in "<>\"'&"):
            raise ValueError(f"colours[{i}]: {colour!r} is not a CSS colour")
    palette = list(colours) or [PALETTE[i % len(PALETTE)] for i in range(len(series))]
    band_labels = list(dict.fromkeys(label for _, _, label in bands))  # first appearance order
    band_colours = {label: ["#f4cccc", "#fff2cc", "#d9d2e9"][i % 3] for i, label in enumerate(band_labels)}
    keys = [(label, palette[i]) for i, (label, _) in enumerate(series)]
    keys += [(label, band_colours[label]) for label in band_labels]
    if len(keys) < 2:
        keys = []
    box = _Box(width, height, top=_legend_top(keys, 64, width - 20))
    x_lo, x_hi = (xs[0], xs[-1]) if len(xs) > 1 else (xs[0] - 1, xs[0] + 1)
    x_axis = _Axis(x_lo, x_hi, box.x0, box.x1)
    flat = [v for row in tops for v in row]
    y_lo, y_hi, y_ticks = _linear_ticks(min(0.0, min(flat)), max(flat) or 1.0)
    y_axis = _Axis(y_lo, y_hi, box.y0, box.y1)
    _, _, x_ticks = _linear_ticks(x_lo, x_hi, 6)
    chart_id = _chart_id("line", title, xs, rows, stacked, bands)
    desc = (f"{'Stacked areas' if stacked else 'Lines'} over {len(xs)} points from {_label(xs[0])} to "
            f"{_label(xs[-1])}: " + "; ".join(
                f"{label} total {_label(sum(row))}, peak {_label(max(row))}"
                for (label, _), row in zip(series, rows, strict=True)))
    parts = _open(chart_id, box, title, desc)
    for start, end, label in bands:
        left, right = x_axis(max(start, x_lo)), x_axis(min(end, x_hi))
        parts.append(f'<rect x="{_n(left)}" y="{_n(box.y1)}" width="{_n(max(right - left, 1.0))}" '
                     f'height="{_n(box.y0 - box.y1)}" fill="{band_colours[label]}">'
                     f"<title>{_e(label)}: {_e(_label(start))} – {_e(_label(end))}</title></rect>")
    parts += _y_axis(box, y_axis, y_ticks, y_label)
    parts += _x_axis(box, x_axis, [t for t in x_ticks if x_lo <= t <= x_hi], x_label)
    parts += _legend(box, keys)
    for k, ((label, _), top) in enumerate(zip(series, tops, strict=True)):
        colour = palette[k]
        line = " ".join(f"{_n(x_axis(a))},{_n(y_axis(b))}" for a, b in zip(xs, top, strict=True))
        parts.append(f'<g class="series"><title>{_e(label)}</title>')
        if stacked:
            base = tops[k - 1] if k else [0.0] * len(xs)
            back = " ".join(f"{_n(x_axis(a))},{_n(y_axis(b))}" for a, b in reversed(list(zip(xs, base, strict=True))))
            parts.append(f'<polygon points="{line} {back}" fill="{colour}" fill-opacity="0.75" stroke="none"/>')
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="{1 if stacked else 2}"/>')
        for a, b, raw in zip(xs, top, rows[k], strict=True):
            parts.append(f'<circle cx="{_n(x_axis(a))}" cy="{_n(y_axis(b))}" r="{1.5 if stacked else 2.5}" '
                         f'fill="{colour}"><title>{_e(label)} at {_e(_label(a))}: {_e(_label(raw))}</title></circle>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def timeline(
    lanes: Sequence[tuple[str, Sequence[tuple[float, str]]]],
    *,
    title: str,
    x_label: str = "seconds since the fault started",
    spans: Sequence[tuple[str, float, float, str]] = (),
    kinds: Sequence[str] = (),
    width: int = 900,
    lane_height: int = 34,
) -> str:
    """One horizontal lane per name with events ``(t, label)`` as markers on a shared time axis.

    ``spans`` draws ``(lane, start, end, label)`` as a bar behind the lane's markers (e.g. while the fault
    was on). Every distinct event label gets one colour and marker shape, explained in the legend; ``kinds``
    fixes their order (and so their colours), else they come in order of first appearance.
    """
    for i, lane in enumerate(lanes):
        if len(lane) != 2 or not isinstance(lane[0], str):
            raise ValueError(f"lanes[{i}]: expected (name, [(t, label), ...]), got {lane!r}")
        for j, event in enumerate(lane[1]):
            if len(event) != 2:
                raise ValueError(f"lanes[{i}] {lane[0]!r} event {j}: expected (t, label), got {event!r}")
            _finite(f"lanes[{i}] {lane[0]!r} event {j} t", event[0])
    names = [name for name, _ in lanes]
    for i, (span_lane, start, end, label) in enumerate(spans):
        if span_lane not in names:
            raise ValueError(f"spans[{i}]: lane {span_lane!r} is not one of {names!r}")
        if _finite(f"spans[{i}] end", end) < _finite(f"spans[{i}] start", start):
            raise ValueError(f"spans[{i}] {label!r}: end {end!r} is before start {start!r}")
    times = [t for _, events in lanes for t, _ in events] + [v for _, a, b, _ in spans for v in (a, b)]
    if not lanes or not times:
        return _no_data("timeline", title, width, 120, "no events")
    seen = {label for _, events in lanes for _, label in events}
    order = [k for k in kinds if k in seen]
    for _, events in lanes:
        for _, label in events:
            if label not in order:
                order.append(label)
    span_kinds = sorted({label for _, _, _, label in spans})
    colours = {kind: PALETTE[i % len(PALETTE)] for i, kind in enumerate(order)}
    span_colour = {kind: ["#dddddd", "#f4cccc", "#d9ead3"][i % 3] for i, kind in enumerate(span_kinds)}
    keys = [(k, span_colour[k]) for k in span_kinds] + [(k, colours[k]) for k in order]
    label_width = _label_column(names)
    top = _legend_top(keys, label_width, width - 20)
    box = _Box(width, top + lane_height * len(lanes) + 48, left=label_width, top=top)
    x_lo, x_hi, x_ticks = _linear_ticks(min(0.0, min(times)), max(times))
    x_axis = _Axis(x_lo, x_hi, box.x0, box.x1)
    chart_id = _chart_id("timeline", title, lanes, spans)
    desc = "; ".join(f"{name}: " + (", ".join(f"{label} at {_label(t)}" for t, label in sorted(events))
                                    or "no events") for name, events in lanes)
    parts = _open(chart_id, box, title, desc)
    for tick in x_ticks:
        x = x_axis(tick)
        parts.append(f'<line x1="{_n(x)}" y1="{_n(box.y1)}" x2="{_n(x)}" y2="{_n(box.y0)}" stroke="#eeeeee"/>')
    parts += _x_axis(box, x_axis, x_ticks, x_label)
    parts += _legend(box, keys)
    shapes = ("circle", "diamond", "square", "triangle")
    for row, (name, events) in enumerate(lanes):
        mid = box.y1 + lane_height * row + lane_height / 2
        parts.append(f'<g class="lane"><text x="{_n(box.x0 - 8)}" y="{_n(mid + 4)}" text-anchor="end" '
                     f'fill="#111">{_e(_short(name))}<title>{_e(name)}</title></text>')
        parts.append(f'<line x1="{_n(box.x0)}" y1="{_n(mid)}" x2="{_n(box.x1)}" y2="{_n(mid)}" stroke="#cccccc"/>')
        for span_lane, start, end, label in spans:
            if span_lane == name:
                left, right = x_axis(start), x_axis(end)
                parts.append(f'<rect x="{_n(left)}" y="{_n(mid - 7)}" width="{_n(max(right - left, 1.0))}" '
                             f'height="14" fill="{span_colour[label]}"><title>{_e(label)}: {_e(_label(start))} – '
                             f"{_e(_label(end))}</title></rect>")
        for t, label in sorted(events, key=lambda e: (e[0], e[1])):
            x, colour = x_axis(t), colours[label]
            shape = shapes[order.index(label) % len(shapes)]
            tip = f"<title>{_e(name)}: {_e(label)} at {_e(_label(t))}</title>"
            if shape == "circle":
                parts.append(f'<circle cx="{_n(x)}" cy="{_n(mid)}" r="5.5" fill="{colour}" stroke="#fff">'
                             f"{tip}</circle>")
            elif shape == "square":
                parts.append(f'<rect x="{_n(x - 5)}" y="{_n(mid - 5)}" width="10" height="10" fill="{colour}" '
                             f'stroke="#fff">{tip}</rect>')
            elif shape == "diamond":
                parts.append(f'<polygon points="{_n(x)},{_n(mid - 7)} {_n(x + 7)},{_n(mid)} {_n(x)},{_n(mid + 7)} '
                             f'{_n(x - 7)},{_n(mid)}" fill="{colour}" stroke="#fff">{tip}</polygon>')
            else:
                parts.append(f'<polygon points="{_n(x)},{_n(mid - 7)} {_n(x + 7)},{_n(mid + 6)} '
                             f'{_n(x - 7)},{_n(mid + 6)}" fill="{colour}" stroke="#fff">{tip}</polygon>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    x_label: str = "",
    max_value: float | None = None,
    value_suffix: str = "",
    width: int = 640,
    bar_height: int = 24,
) -> str:
    """Horizontal bars, one per ``(label, value)``, with the value printed at the end of each bar."""
    if not bars:
        return _no_data("bars", title, width, 120, "no bars")
    values = []
    for i, pair in enumerate(bars):
        if len(pair) != 2 or not isinstance(pair[0], str):
            raise ValueError(f"bars[{i}]: expected (label, value), got {pair!r}")
        value = _finite(f"bars[{i}] {pair[0]!r} value", pair[1])
        if value < 0:
            raise ValueError(f"bars[{i}] {pair[0]!r} value: {value!r} is negative")
        values.append(value)
    if max_value is not None and _finite("max_value", max_value) <= 0:
        raise ValueError(f"max_value: {max_value!r} must be above 0")
    label_width = _label_column([label for label, _ in bars])
    box = _Box(width, 40 + bar_height * len(bars) + 44, left=label_width, right=70)
    hi = max_value if max_value is not None else (max(values) or 1.0)
    x_lo, x_hi, x_ticks = _linear_ticks(0.0, hi)
    if max_value is not None:
        x_hi = max_value
        x_ticks = [t for t in x_ticks if t <= max_value]
    x_axis = _Axis(x_lo, x_hi, box.x0, box.x1)
    chart_id = _chart_id("bars", title, bars, max_value)
    desc = "; ".join(f"{label}: {_label(v)}{value_suffix}" for (label, _), v in zip(bars, values, strict=True))
    parts = _open(chart_id, box, title, desc)
    for tick in x_ticks:
        x = x_axis(tick)
        parts.append(f'<line x1="{_n(x)}" y1="{_n(box.y1)}" x2="{_n(x)}" y2="{_n(box.y0)}" stroke="#eeeeee"/>')
    parts += _x_axis(box, x_axis, x_ticks, x_label)
    for row, ((label, _), value) in enumerate(zip(bars, values, strict=True)):
        y = box.y1 + bar_height * row
        end = x_axis(min(value, x_hi))
        parts.append(f'<g class="bar"><text x="{_n(box.x0 - 8)}" y="{_n(y + bar_height / 2 + 4)}" '
                     f'text-anchor="end" fill="#111">{_e(_short(label))}<title>{_e(label)}</title></text>')
        parts.append(f'<rect x="{_n(box.x0)}" y="{_n(y + 4)}" width="{_n(max(end - box.x0, 0.0))}" '
                     f'height="{_n(bar_height - 8)}" fill="{PALETTE[0]}"><title>{_e(label)}: '
                     f"{_e(_label(value))}{_e(value_suffix)}</title></rect>")
        parts.append(f'<text x="{_n(end + 6)}" y="{_n(y + bar_height / 2 + 4)}" fill="#333">'
                     f"{_e(_label(value))}{_e(value_suffix)}</text></g>")
    parts.append("</svg>")
    return "\n".join(parts)

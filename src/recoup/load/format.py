"""Numbers for people: durations and rates to 3 significant digits, the resolution the histogram keeps."""

from __future__ import annotations

import math

__all__ = ["format_duration", "format_rate", "format_ratio", "significant"]


def significant(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits and no exponent: 1234.5 -> '1230', 0.012345 -> '0.0123'."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(digits - 1 - magnitude, 0)
    rounded = round(value, digits - 1 - magnitude)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > magnitude:  # 999.6 -> 1000 gains a digit
        decimals = max(decimals - 1, 0)
    return f"{rounded:.{decimals}f}"


def format_duration(seconds: float, digits: int = 3) -> str:
    """A latency in the unit that reads best: '812 µs', '1.23 ms', '45.6 ms', '2.00 s'."""
    if seconds < 0:
        return "-" + format_duration(-seconds, digits)
    if seconds == 0:
        return "0 ms"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale * 0.9995 or unit == "µs":
            return f"{significant(seconds / scale, digits)} {unit}"
    raise AssertionError("unreachable")


def format_rate(per_second: float) -> str:
    """Operations per second to 3 significant digits."""
    return f"{significant(per_second)}/s"


def format_ratio(ratio: float) -> str:
    """A ratio as a percentage, keeping the digits that matter near 100 %: 0.999 -> '99.9%', 0.0123 -> '1.23%'."""
    percent = ratio * 100
    if percent == 0 or percent == 100:
        return f"{percent:.0f}%"
    if percent < 99:
        return f"{significant(percent, 3)}%"
    text = f"{percent:.4f}".rstrip("0")
    return f"{text}0%" if text.endswith(".") else f"{text}%"

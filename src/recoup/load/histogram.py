"""An HDR-style latency histogram: every value kept to N significant decimal digits in fixed memory.

Why our own: the assessment must stay stdlib-only, and percentiles of a load run must be exact to the
3 significant digits people read (locust rounds stored times to about 2). Values are non-negative
integers (the runner records microseconds). Buckets double in width; each is split into linear
sub-buckets fine enough that any value in ``[lowest, highest]`` is told apart from its neighbours at
``digits`` significant digits; the memory is fixed by the range, not by how many values are recorded.
"""

from __future__ import annotations

import base64
import math
import zlib
from collections.abc import Iterator

TYPE_CHECKING = False  # like typing.TYPE_CHECKING, without importing `typing` (the core assessment uses this)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FORMAT_VERSION", "Histogram", "HistogramError"]

#: Version of `Histogram.to_dict` / `to_string`; bumped when the encoding changes.
FORMAT_VERSION = 1
_STRING_PREFIX = "HISTv1:"


class HistogramError(ValueError):
    """A bad histogram setting, a value outside the trackable range, or an unreadable serialisation."""


class Histogram:
    """Counts of integer values in log-linear buckets; percentiles exact to ``digits`` significant digits."""

    __slots__ = (
        "_counts",
        "_half_count",
        "_half_magnitude",
        "_max",
        "_min",
        "_shift",
        "_sub_bucket_count",
        "_sub_mask",
        "_sum",
        "_sum_sq",
        "_total",
        "_unit_magnitude",
        "digits",
        "highest",
        "lowest",
    )

    def __init__(self, lowest: int = 1, highest: int = 3_600_000_000, digits: int = 3) -> None:
        if isinstance(lowest, bool) or not isinstance(lowest, int) or lowest < 1:
            raise HistogramError(f"lowest must be an integer >= 1, got {lowest!r}")
        if isinstance(highest, bool) or not isinstance(highest, int) or highest < 2 * lowest:
            raise HistogramError(f"highest must be an integer >= 2 * lowest ({2 * lowest}), got {highest!r}")
        if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 5:
            raise HistogramError(f"digits must be an integer from 1 to 5, got {digits!r}")
        self.lowest, self.highest, self.digits = lowest, highest, digits
        # enough linear sub-buckets that the bucket holding 2*10^digits still has a width of one unit
        sub_magnitude = max(1, math.ceil(math.log2(2 * 10**digits)))
        self._half_magnitude = sub_magnitude - 1
        self._sub_bucket_count = 1 << sub_magnitude
        self._half_count = self._sub_bucket_count >> 1
        self._unit_magnitude = lowest.bit_length() - 1
        self._sub_mask = (self._sub_bucket_count - 1) << self._unit_magnitude
        self._shift = self._unit_magnitude + sub_magnitude
        buckets = 1
        smallest_untrackable = self._sub_bucket_count << self._unit_magnitude
        while smallest_untrackable <= highest:
            smallest_untrackable <<= 1
            buckets += 1
        self._counts: list[int] = [0] * ((buckets + 1) * self._half_count)
        self._total = 0
        self._sum = 0
        self._sum_sq = 0
        self._min = 0
        self._max = 0

    # -- recording -------------------------------------------------------------------------------------

    def _index(self, value: int) -> int:
        bucket = (value | self._sub_mask).bit_length() - self._shift
        sub = value >> (bucket + self._unit_magnitude)
        return ((bucket + 1) << self._half_magnitude) + sub - self._half_count

    def record(self, value: int | float, count: int = 1) -> None:
        """Add ``count`` occurrences of ``value`` (a float is rounded to the nearest integer)."""
        if not isinstance(value, int):
            value = round(value)
        if value < 0 or value > self.highest:
            raise HistogramError(f"value {value} is outside the trackable range 0..{self.highest}")
        if count < 1:
            if count == 0:
                return
            raise HistogramError(f"count must be >= 0, got {count}")
        self._counts[self._index(value)] += count
        if self._total == 0 or value < self._min:
            self._min = value
        if value > self._max:
            self._max = value
        self._total += count
        self._sum += value * count
        self._sum_sq += value * value * count

    def record_corrected(self, value: int | float, expected_interval: int | float, count: int = 1) -> None:
        """Record ``value`` plus the samples a stalled closed-loop tester never took (coordinated omission).

        When a value exceeds the interval at which samples were expected, the requests that would have
        been sent meanwhile are recorded too, at ``value - k*interval`` for every such value still >= the
        interval (HdrHistogram's original Java definition).
        """
        self.record(value, count)
        if expected_interval <= 0:
            return
        interval = expected_interval if isinstance(expected_interval, int) else round(expected_interval)
        if interval <= 0:
            return
        missing = (value if isinstance(value, int) else round(value)) - interval
        while missing >= interval:
            self.record(missing, count)
            missing -= interval

    def merge(self, other: Histogram) -> None:
        """Add all of ``other``'s counts; it must have the same lowest value and digits and fit our range."""
        if other.lowest != self.lowest or other.digits != self.digits:
            raise HistogramError(
                f"cannot merge a histogram with lowest={other.lowest}, digits={other.digits} into one with "
                f"lowest={self.lowest}, digits={self.digits}"
            )
        if other._total == 0:
            return
        if other._max > self.highest:
            raise HistogramError(f"cannot merge: its max {other._max} exceeds highest={self.highest}")
        counts = self._counts
        for index, count in enumerate(other._counts):
            if count:
                counts[index] += count
        if self._total == 0 or other._min < self._min:
            self._min = other._min
        self._max = max(self._max, other._max)
        self._total += other._total
        self._sum += other._sum
        self._sum_sq += other._sum_sq

    def reset(self) -> None:
        """Forget every recorded value, keeping the settings."""
        self._counts = [0] * len(self._counts)
        self._total = self._sum = self._sum_sq = self._min = self._max = 0

    # -- bucket geometry -------------------------------------------------------------------------------

    def _value_at_index(self, index: int) -> int:
        bucket = (index >> self._half_magnitude) - 1
        sub = (index & (self._half_count - 1)) + self._half_count
        if bucket < 0:
            sub -= self._half_count
            bucket = 0
        return sub << (bucket + self._unit_magnitude)

    def _width_at(self, value: int) -> int:
        bucket = (value | self._sub_mask).bit_length() - self._shift
        return 1 << (self._unit_magnitude + bucket)

    def lowest_equivalent(self, value: int) -> int:
        """The smallest value counted in the same bucket as ``value``."""
        return self._value_at_index(self._index(value))

    def highest_equivalent(self, value: int) -> int:
        """The largest value counted in the same bucket as ``value``."""
        low = self.lowest_equivalent(value)
        return low + self._width_at(low) - 1

    def median_equivalent(self, value: int) -> int:
        """The middle of ``value``'s bucket: the best single stand-in for the values counted there."""
        low = self.lowest_equivalent(value)
        return low + (self._width_at(low) >> 1)

    # -- statistics ------------------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self._total

    @property
    def min(self) -> int:
        """The smallest value recorded, exactly (0 when empty)."""
        return self._min

    @property
    def max(self) -> int:
        """The largest value recorded, exactly (0 when empty)."""
        return self._max

    @property
    def mean(self) -> float:
        """Exact mean of the recorded values (their sum is kept), 0.0 when empty."""
        return self._sum / self._total if self._total else 0.0

    @property
    def stdev(self) -> float:
        """Exact population standard deviation of the recorded values, 0.0 when empty."""
        if not self._total:
            return 0.0
        n = self._total
        variance = (self._sum_sq * n - self._sum * self._sum) / (n * n)
        return math.sqrt(max(variance, 0.0))

    def percentile(self, percent: float) -> int:
        """The value below or at which ``percent`` % of the values fall (the top of its bucket).

        Same rule as HdrHistogram: the target rank is ``round(percent/100 * count)`` (at least 1) and the
        answer is the highest value equivalent to the bucket reaching it, capped at the exact max.
        """
        if not 0.0 <= percent <= 100.0 or math.isnan(percent):
            raise HistogramError(f"percent must be within 0..100, got {percent!r}")
        if not self._total:
            return 0
        target = max(int(percent * self._total / 100 + 0.5), 1)
        running = 0
        for index, count in enumerate(self._counts):
            if count:
                running += count
                if running >= target:
                    value = self._value_at_index(index)
                    if percent == 0.0:
                        return value
                    return min(self.highest_equivalent(value), self._max)
        return self._max  # unreachable: the counts sum to the total

    def percentiles(self, percents: list[float] | tuple[float, ...]) -> dict[float, int]:
        """Several percentiles in one pass over the counts."""
        wanted = sorted(set(percents))
        for p in wanted:
            if not 0.0 <= p <= 100.0 or math.isnan(p):
                raise HistogramError(f"percent must be within 0..100, got {p!r}")
        result: dict[float, int] = {}
        if not self._total:
            return {p: 0 for p in wanted}
        targets = [(p, max(int(p * self._total / 100 + 0.5), 1)) for p in wanted]
        position = 0
        running = 0
        for index, count in enumerate(self._counts):
            if not count:
                continue
            running += count
            while position < len(targets) and running >= targets[position][1]:
                p = targets[position][0]
                value = self._value_at_index(index)
                result[p] = value if p == 0.0 else min(self.highest_equivalent(value), self._max)
                position += 1
            if position == len(targets):
                break
        return result

    def buckets(self) -> Iterator[tuple[int, int, int]]:
        """Every non-empty bucket as (lowest value, highest value, count), ascending: data for charts."""
        for index, count in enumerate(self._counts):
            if count:
                low = self._value_at_index(index)
                yield low, low + self._width_at(low) - 1, count

    # -- serialisation ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe, versioned form: settings, exact summary numbers and the zlib'd, base64'd counts."""
        return {
            "version": FORMAT_VERSION,
            "lowest": self.lowest,
            "highest": self.highest,
            "digits": self.digits,
            "count": self._total,
            "min": self._min,
            "max": self._max,
            "sum": self._sum,
            "sum_sq": str(self._sum_sq),  # may exceed what JSON readers keep exactly as a number
            "counts": base64.b64encode(zlib.compress(_encode_counts(self._counts), 9)).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Histogram:
        """Rebuild a histogram written by `to_dict`, checking that its parts agree."""
        if not isinstance(data, dict):
            raise HistogramError(f"a serialised histogram is a JSON object, got {type(data).__name__}")
        version = data.get("version")
        if version != FORMAT_VERSION:
            raise HistogramError(f"unsupported histogram format version {version!r} (expected {FORMAT_VERSION})")
        try:
            hist = cls(int(data["lowest"]), int(data["highest"]), int(data["digits"]))
            raw = zlib.decompress(base64.b64decode(str(data["counts"]), validate=True))
            counts = _decode_counts(raw, len(hist._counts))
            total, low, high = int(data["count"]), int(data["min"]), int(data["max"])
            total_sum, sum_sq = int(data["sum"]), int(data["sum_sq"])
        except KeyError as exc:
            raise HistogramError(f"serialised histogram lacks the field {exc.args[0]!r}") from None
        except (ValueError, TypeError, zlib.error) as exc:
            if isinstance(exc, HistogramError):
                raise
            raise HistogramError(f"serialised histogram is corrupt: {exc}") from None
        if sum(counts) != total:
            raise HistogramError(f"serialised histogram is corrupt: counts add up to {sum(counts)}, not {total}")
        hist._counts, hist._total, hist._min, hist._max = counts, total, low, high
        hist._sum, hist._sum_sq = total_sum, sum_sq
        return hist

    def to_string(self) -> str:
        """The `to_dict` form as one compact ASCII token (for logs, CLI arguments and CSV cells)."""
        import json

        payload = json.dumps(self.to_dict(), separators=(",", ":")).encode("ascii")
        return _STRING_PREFIX + base64.urlsafe_b64encode(zlib.compress(payload, 9)).decode("ascii")

    @classmethod
    def from_string(cls, text: str) -> Histogram:
        """Rebuild a histogram from `to_string`'s token."""
        import json

        if not text.startswith(_STRING_PREFIX):
            raise HistogramError(f"not a serialised histogram: expected the prefix {_STRING_PREFIX!r}")
        try:
            data = json.loads(zlib.decompress(base64.urlsafe_b64decode(text[len(_STRING_PREFIX) :])))
        except (ValueError, zlib.error) as exc:
            raise HistogramError(f"serialised histogram is corrupt: {exc}") from None
        return cls.from_dict(data)

    def copy(self) -> Histogram:
        clone = Histogram(self.lowest, self.highest, self.digits)
        clone.merge(self)
        return clone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return (
            (self.lowest, self.highest, self.digits, self._total, self._min, self._max, self._sum, self._sum_sq)
            == (other.lowest, other.highest, other.digits, other._total, other._min, other._max, other._sum,
                other._sum_sq)
            and self._counts == other._counts
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Histogram(count={self._total}, min={self._min}, max={self._max}, digits={self.digits})"


def _encode_counts(counts: list[int]) -> bytes:
    """Counts as unsigned LEB128 varints, a run of zeros written as a 0 followed by the run's length."""
    out = bytearray()
    zeros = 0
    for count in counts:
        if count == 0:
            zeros += 1
            continue
        if zeros:
            out.append(0)
            _put_varint(out, zeros)
            zeros = 0
        _put_varint(out, count)
    if zeros:
        out.append(0)
        _put_varint(out, zeros)
    return bytes(out)


def _put_varint(out: bytearray, number: int) -> None:
    while number >= 0x80:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)


def _decode_counts(raw: bytes, length: int) -> list[int]:
    counts: list[int] = []
    position = 0

    def varint() -> int:
        nonlocal position
        number, shift = 0, 0
        while True:
            if position >= len(raw):
                raise HistogramError("serialised histogram is corrupt: the counts end inside a number")
            byte = raw[position]
            position += 1
            number |= (byte & 0x7F) << shift
            if byte < 0x80:
                return number
            shift += 7

    while position < len(raw):
        value = varint()
        if value == 0:
            counts.extend([0] * varint())
        else:
            counts.append(value)
        if len(counts) > length:
            break
    if len(counts) != length:
        raise HistogramError(f"serialised histogram is corrupt: {len(counts)} counts for {length} buckets")
    return counts

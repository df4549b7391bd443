"""Pure schedules for the toxics that shape time: how long to wait and how to cut a chunk.

Kept apart from the socket code so each schedule can be checked exactly (with a seeded `random.Random`)
and the data path only executes the plan it is handed.
"""

from __future__ import annotations

import random

#: The bandwidth shaper releases data in slices of this many seconds' worth, so a big chunk trickles out
#: smoothly instead of arriving in one burst after a long pause.
BANDWIDTH_SLICE_S = 0.1


def latency_delay(latency_ms: float, jitter_ms: float, rng: random.Random) -> float:
    """Seconds to hold a chunk: ``latency ± jitter`` drawn uniformly, never negative."""
    jitter = rng.uniform(-jitter_ms, jitter_ms) if jitter_ms > 0 else 0.0
    return max(0.0, (latency_ms + jitter) / 1000.0)


def slice_sizes(length: int, average_size: int, size_variation: int, rng: random.Random) -> list[int]:
    """Cut ``length`` bytes into pieces of ``average_size ± size_variation`` (each at least 1 byte)."""
    sizes: list[int] = []
    remaining = length
    while remaining > 0:
        size = average_size + (rng.randint(-size_variation, size_variation) if size_variation else 0)
        size = max(1, min(size, remaining))
        sizes.append(size)
        remaining -= size
    return sizes


def bandwidth_schedule(length: int, rate_kb_s: float) -> list[tuple[int, float]]:
    """(piece size, seconds to wait after sending it) so ``length`` bytes take ``length / rate`` seconds."""
    bytes_per_s = rate_kb_s * 1000.0
    piece = max(1, int(bytes_per_s * BANDWIDTH_SLICE_S))
    plan: list[tuple[int, float]] = []
    remaining = length
    while remaining > 0:
        size = min(piece, remaining)
        plan.append((size, size / bytes_per_s))
        remaining -= size
    return plan

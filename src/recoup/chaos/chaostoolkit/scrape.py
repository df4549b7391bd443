"""Reading numbers out of a Prometheus text exposition (recoup's ``/metrics``).

prometheus_client's own parser reads the text (imported when a probe runs, so the extension imports
without it). A series is summed over every sample whose labels include the given ones, which is what a
probe means by "errors of service X" when the samples are also split by project and category."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from recoup.chaos.chaostoolkit.transport import ActivityError

#: Sample suffixes a family name may be asked for without (counters expose ``<name>_total``).
_SUFFIXES = ("", "_total")
#: Family types whose numbers are in suffixed samples (``_count``, ``_sum``, ``_bucket``), never the family's name.
_SPLIT = frozenset({"histogram", "gaugehistogram", "summary"})
_PARTS = ("_count", "_sum", "_bucket")


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class Exposition:
    samples: list[Sample]
    #: Every family declared (``# TYPE``) and its type, with or without samples: a labelled counter nothing
    #: has incremented yet has no sample, and still exists.
    families: Mapping[str, str]


def parse(text: str) -> Exposition:
    """The samples and families of the exposition; `ActivityError` when the text is not one."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        raise ActivityError("reading /metrics needs prometheus-client: pip install 'recoup[chaos]'") from None
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as exc:
        raise ActivityError(f"the /metrics answer is not Prometheus text: {exc}") from None
    samples = [Sample(s.name, dict(s.labels), float(s.value)) for family in families for s in family.samples]
    return Exposition(samples, {family.name: family.type for family in families})


def total(exposition: Exposition, name: str, labels: Mapping[str, str] | None = None) -> float | None:
    """The sum of ``name``'s samples carrying all of ``labels`` (a counter may be named with or without
    ``_total``); None when there is no such series at all (a typo), 0.0 when it exists but no sample
    matches (nothing counted for those labels yet)."""
    wanted = dict(labels or {})
    accepted = {name + suffix for suffix in _SUFFIXES}
    named = [s for s in exposition.samples if s.name in accepted]
    family = name.removesuffix("_total")
    if not named:
        split_part = any(name.endswith(part) and exposition.families.get(name.removesuffix(part)) in _SPLIT
                         for part in _PARTS)
        if not split_part and name not in exposition.families and family not in exposition.families:
            return None
        if exposition.families.get(name) in _SPLIT or exposition.families.get(family) in _SPLIT:
            return None  # only a histogram's or summary's _count, _sum and _bucket series hold numbers
    return float(sum(s.value for s in named if all(s.labels.get(k) == v for k, v in wanted.items())))


def names(exposition: Exposition, prefix: str = "") -> list[str]:
    """The sample and family names starting with ``prefix``, for a message that suggests the right one."""
    found = {s.name for s in exposition.samples} | set(exposition.families)
    return sorted(n for n in found if n.startswith(prefix) and not n.endswith(("_created", "_bucket")))

"""Group fingerprints for analytics: one place that says which errors are "the same error", and why.

The fingerprint itself is the library's (`recoup.errors.fingerprint`): type, message with its variable
parts masked, in-app frames as module + function with recursion collapsed. This module adds what analytics
needs on top: the fingerprint of a printed traceback (chained exceptions included: the frames of every
exception in the chain count, the reported one's type and message name the group), the parts a fingerprint
was made of (to show a user why two events share a group), custom rules (`fingerprint_rules`) and a
grouping report over a corpus. Stdlib only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from recoup.analytics.fingerprint_rules import FingerprintRules, facts_for
from recoup.errors.fingerprint import collapse_recursion, fingerprint, normalise
from recoup.errors.text import parse

#: Message lines an untyped text contributes (the library's text fingerprint uses the same number).
UNTYPED_LINES = 5


@dataclass(frozen=True, slots=True)
class FingerprintParts:
    """What a fingerprint hashes, readable: shown next to a group so users can see why events landed in it."""

    exception_type: str
    message: str  # normalised
    frames: tuple[tuple[str, str], ...]  # in-app, recursion collapsed
    chain: tuple[str, ...]  # exception types of the chain, outermost cause first

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.exception_type, self.message, self.frames)


def parts_of_text(text: str) -> FingerprintParts:
    """The fingerprint parts of a printed error (traceback, one-line exception or a tool's stderr); the
    same fingerprint `recoup.errors.classify(text).fingerprint` gives."""
    parsed = parse(text)
    frames = tuple(collapse_recursion(parsed.frames))
    if parsed.last_type:
        first = parsed.last_message.splitlines()[0] if parsed.last_message else ""
        return FingerprintParts(parsed.last_type, normalise(first), frames, tuple(parsed.types))
    return FingerprintParts("text", normalise("\n".join(parsed.messages[:UNTYPED_LINES])), frames, ())


def fingerprint_text(text: str, rules: FingerprintRules | None = None, tags: Mapping[str, str] | None = None) -> str:
    """The group fingerprint of a printed error, custom ``rules`` applied when given."""
    parts = parts_of_text(text)
    default = parts.fingerprint
    if rules is None or not len(rules):
        return default
    parsed = parse(text)
    message = parsed.last_message if parsed.last_type else "\n".join(parsed.messages[:UNTYPED_LINES])
    return rules.apply(facts_for(parts.exception_type, message, parts.frames, tags), default)


@dataclass(frozen=True, slots=True)
class GroupingReport:
    """How a set of labelled errors fell into groups: a family should be one group, families never share."""

    families: int
    groups: int
    split_families: dict[str, int]  # family -> number of groups it was spread over (only those > 1)
    mixed_groups: dict[str, list[str]]  # fingerprint -> families sharing it (only those with > 1)

    @property
    def purity(self) -> float:
        """Share of groups holding a single family."""
        return 1.0 - len(self.mixed_groups) / self.groups if self.groups else 1.0


def grouping_report(items: Iterable[tuple[str, str]]) -> GroupingReport:
    """``items`` are (family label, fingerprint) pairs."""
    by_family: dict[str, set[str]] = defaultdict(set)
    by_group: dict[str, set[str]] = defaultdict(set)
    for family, fp in items:
        by_family[family].add(fp)
        by_group[fp].add(family)
    return GroupingReport(
        families=len(by_family),
        groups=len(by_group),
        split_families={f: len(g) for f, g in sorted(by_family.items()) if len(g) > 1},
        mixed_groups={g: sorted(f) for g, f in sorted(by_group.items()) if len(f) > 1},
    )


def group_sizes(fingerprints: Sequence[str]) -> list[tuple[str, int]]:
    """(fingerprint, count), largest group first."""
    return Counter(fingerprints).most_common()

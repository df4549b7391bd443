"""Streaming message template mining: one line in, its template id, template and parameters out.

The miner takes raw log lines or bare messages alike. A header (timestamp, level, thread, component) is
recognised and set aside without a per-format string (`templates_header`), so the template and its
parameters describe the message only and a message gets the same template with or without a header.
The message is split on whitespace and ``|``, tokens that look like values are masked
(`templates_mask`), and the masked tokens join a Drain-style cluster (`templates_tree`). Ids are derived
from a cluster's first template and kept when the template is generalised; `save`/`load` keep them across
restarts (`templates_state`, JSON, atomic). One configuration for every log: the similarity threshold
and the agreement guard were chosen leave-one-dataset-out on Loghub-2k (benchmarks/templates.py --loo).

Values that span a varying number of words are handled twice over: a number and its unit are one
token (``1190 bytes``, ``(1.16 KB)``, ``<1 sec``), and clusters of different lengths with the same
constant words share one template id (a *family*, `templates_tree`); ``template`` is the shape of the
line at hand, so its parameters line up with it.

Memory is bounded by the number of distinct templates (the token, shape and pattern caches are capped).
Pure Python, stdlib only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from recoup.analytics.templates_header import split_header
from recoup.analytics.templates_mask import UNITS, WILDCARD, Masker, join_quantities
from recoup.analytics.templates_state import StateError, dump_state, load_state
from recoup.analytics.templates_tree import DEFAULT_AGREEMENT, Cluster, TemplateTree

__all__ = ["DEFAULT_AGREEMENT", "DEFAULT_SIMILARITY", "StateError", "TemplateMatch", "TemplateMiner"]

DEFAULT_SIMILARITY = 0.8
_PATTERN_LIMIT = 50_000
_Plan = tuple[tuple[int, tuple[int, int] | re.Pattern[str] | None], ...]


def _number(path: Path, settings: dict[str, object], name: str, default: float, low: float, high: float) -> float:
    value = settings.get(name, default)
    if isinstance(value, bool) or not isinstance(value, float | int) or not low <= value <= high:
        raise StateError(f"{path}: field 'settings.{name}' must be a number in [{low}, {high}], got {value!r}")
    return float(value)


class TemplateMatch(NamedTuple):
    """What one line is an instance of, and the values that filled the template's wildcards."""

    template_id: str  # the template's family: lines whose values span more or fewer words share it
    template: str  # this line's shape of it
    parameters: list[str]


_NEW = tuple.__new__  # builds a `TemplateMatch` without the keyword handling of its constructor (per line)


class TemplateMiner:
    """Learns templates from a stream of lines; ``add`` one line at a time."""

    def __init__(
        self, similarity: float = DEFAULT_SIMILARITY, strip_header: bool = True, agreement: float = DEFAULT_AGREEMENT
    ) -> None:
        self.strip_header = strip_header
        self._tree = TemplateTree(similarity, agreement)
        self._masker = Masker()
        # bound once: `add` runs per line, and inlines `Masker.mask` and `TemplateTree.cached` with these
        self._token = self._masker.lookup
        self._lookup = self._tree.lookup
        self._mask = self._masker.mask
        self._plans: dict[str, _Plan] = {}

    @property
    def similarity(self) -> float:
        """Share of a template's positions a line must fit to join it."""
        return self._tree.similarity

    @property
    def agreement(self) -> float:
        """Share of the informative positions (not a wildcard on both sides) that must fit, exclusive."""
        return self._tree.agreement

    def _content(self, line: str) -> list[str]:
        tokens = (line.replace("|", " ") if "|" in line else line).split()
        if self.strip_header:
            cut = split_header(tokens)
            if cut:
                tokens = tokens[cut:]
        return tokens if UNITS.isdisjoint(tokens) else join_quantities(tokens)

    def add(self, line: str) -> TemplateMatch:
        """Learn from ``line`` and say which template it belongs to."""
        tokens = (line.replace("|", " ") if "|" in line else line).split()  # "|" separates fields too
        if self.strip_header:
            cut = split_header(tokens)
            if cut:
                tokens = tokens[cut:]
        masked = tuple(map(self._token, tokens))
        entry = self._lookup(masked)
        if entry is not None and entry[1].version == entry[2]:  # a shape seen lately and still placed so
            cluster = entry[0]
            cluster.size += 1
            if entry[3]:  # a shape whose quantities are joined ("1190 bytes"): join this line's too
                tokens = join_quantities(tokens)
        else:
            cluster, tokens = self._place(tokens, masked)
        if cluster.whole_slots:  # the common case, inlined: every wildcard is a whole token
            return _NEW(TemplateMatch, (cluster.family, cluster.template, [tokens[i] for i in cluster.slots]))
        return _NEW(TemplateMatch, (cluster.family, cluster.template, self._parameters(cluster, tokens)))

    def _place(self, tokens: list[str], masked: tuple[str, ...]) -> tuple[Cluster, list[str]]:
        """A shape not seen lately: join its quantities (if any) and place it in the tree; remember the way."""
        if not UNITS.isdisjoint(tokens):
            joined = join_quantities(tokens)
            if len(joined) < len(tokens):
                placed = self._mask(joined)
                cluster = self._tree.add(placed)
                self._tree.alias(masked, placed)
                return cluster, joined
        return self._tree.add(masked), tokens

    def match(self, line: str) -> TemplateMatch | None:
        """The known template ``line`` belongs to, learning nothing; None for a line of an unseen kind."""
        tokens = self._content(line)
        cluster = self._tree.match(self._masker.mask(tokens))
        if cluster is None:
            return None
        return TemplateMatch(cluster.family, cluster.template, self._parameters(cluster, tokens))

    @property
    def template_count(self) -> int:
        """How many templates are known (cheap: no list is built)."""
        return len(self._tree.clusters)

    def templates(self) -> list[Cluster]:
        """Every template learned so far, in the order they were first seen."""
        return list(self._tree.clusters.values())

    def _parameters(self, cluster: Cluster, tokens: list[str]) -> list[str]:
        """The values at the template's wildcards; inside a token (``uid=<*>``) only the masked part.

        A line's token at a partly constant template token (``uid=<*>``) always masked to exactly that
        token (else the position would have been generalised to ``<*>``), so cutting the constant ends
        off by length is exact; the cut is planned once per template, not per line.
        """
        if cluster.whole_slots:
            return [tokens[i] for i in cluster.slots]
        plan = self._plans.get(cluster.template) or self._plan(cluster)
        params: list[str] = []
        for i, how in plan:
            value = tokens[i]
            if how is None:
                params.append(value)
            elif isinstance(how, tuple):
                params.append(value[how[0] : len(value) - how[1]])
            else:
                found = how.fullmatch(value)
                params.extend(found.groups() if found else (value,))
        return params

    def _plan(self, cluster: Cluster) -> _Plan:
        """Per wildcard slot: take the token whole (None), cut (prefix, suffix) lengths, or a regex's groups."""
        if len(self._plans) >= _PATTERN_LIMIT:
            self._plans.clear()
        steps: list[tuple[int, tuple[int, int] | re.Pattern[str] | None]] = []
        for i in cluster.slots:
            parts = cluster.tokens[i].split(WILDCARD)
            if parts == ["", ""]:
                steps.append((i, None))
            elif len(parts) == 2:
                steps.append((i, (len(parts[0]), len(parts[1]))))
            else:
                steps.append((i, re.compile("(.*?)".join(re.escape(p) for p in parts), re.DOTALL)))
        plan = self._plans[cluster.template] = tuple(steps)
        return plan

    def save(self, path: Path) -> None:
        """Write every template and its id to ``path`` (JSON, atomic: a crash leaves the old file whole)."""
        settings = {"similarity": self.similarity, "agreement": self.agreement, "strip_header": self.strip_header}
        dump_state(path, settings, self.templates())

    @classmethod
    def load(cls, path: Path) -> TemplateMiner:
        """A miner that continues from ``path``: the same lines get the same ids as before the restart."""
        settings, clusters = load_state(path)
        similarity = _number(path, settings, "similarity", DEFAULT_SIMILARITY, 0.0, 1.0)
        agreement = _number(path, settings, "agreement", DEFAULT_AGREEMENT, 0.0, 1.0)
        strip_header = settings.get("strip_header", True)
        if not isinstance(strip_header, bool):
            raise StateError(f"{path}: field 'settings.strip_header' must be a boolean, got {strip_header!r}")
        try:
            miner = cls(similarity, strip_header, agreement)
        except ValueError as exc:
            raise StateError(f"{path}: field 'settings': {exc}") from exc
        for cluster in clusters:
            miner._tree.insert(cluster)
        return miner

    @classmethod
    def open(cls, path: Path, strip_header: bool = True) -> TemplateMiner:
        """``load`` when ``path`` exists, else a fresh default miner (the first run of a persisted stream)."""
        if path.exists():
            return cls.load(path)
        return cls(strip_header=strip_header)

"""Streaming message template mining: one line in, its template id, template and parameters out.

The miner takes raw log lines or bare messages alike. A header (timestamp, level, thread, component) is
recognised and set aside without a per-format string (`templates_header`), so the template and its
parameters describe the message only and a message gets the same template with or without a header.
The message is split on whitespace and ``|``, tokens that look like values are masked
(`templates_mask`), and the masked tokens join a Drain-style cluster (`templates_tree`). Ids are derived
from a cluster's first template and kept when the template is generalised; `save`/`load` keep them across
restarts (`templates_state`, JSON, atomic). One configuration for every log: the similarity threshold
and the agreement guard were chosen leave-one-dataset-out on Loghub-2k (benchmarks/templates.py --loo).

Memory is bounded by the number of distinct templates (the token, shape and pattern caches are capped).
Known limit: like Drain, a parameter that spans a varying number of tokens splits its template by length.
Pure Python, stdlib only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from recoup.analytics.templates_header import split_header
from recoup.analytics.templates_mask import WILDCARD, Masker
from recoup.analytics.templates_state import StateError, dump_state, load_state
from recoup.analytics.templates_tree import DEFAULT_AGREEMENT, Cluster, TemplateTree

__all__ = ["DEFAULT_AGREEMENT", "DEFAULT_SIMILARITY", "StateError", "TemplateMatch", "TemplateMiner"]

DEFAULT_SIMILARITY = 0.8
_PATTERN_LIMIT = 50_000


def _number(path: Path, settings: dict[str, object], name: str, default: float, low: float, high: float) -> float:
    value = settings.get(name, default)
    if isinstance(value, bool) or not isinstance(value, float | int) or not low <= value <= high:
        raise StateError(f"{path}: field 'settings.{name}' must be a number in [{low}, {high}], got {value!r}")
    return float(value)


class TemplateMatch(NamedTuple):
    """What one line is an instance of, and the values that filled the template's wildcards."""

    template_id: str
    template: str
    parameters: list[str]


def _new_match(fields: tuple[str, str, list[str]]) -> TemplateMatch:
    """Build a `TemplateMatch` without the keyword handling of its constructor (this runs per line)."""
    return tuple.__new__(TemplateMatch, fields)


class TemplateMiner:
    """Learns templates from a stream of lines; ``add`` one line at a time."""

    def __init__(
        self, similarity: float = DEFAULT_SIMILARITY, strip_header: bool = True, agreement: float = DEFAULT_AGREEMENT
    ) -> None:
        self.strip_header = strip_header
        self._tree = TemplateTree(similarity, agreement)
        self._masker = Masker()
        self._add = self._tree.add  # bound once: `add` runs per line
        self._mask = self._masker.mask
        self._extractors: dict[str, tuple[str, str] | re.Pattern[str]] = {}

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
                return tokens[cut:]
        return tokens

    def add(self, line: str) -> TemplateMatch:
        """Learn from ``line`` and say which template it belongs to."""
        tokens = (line.replace("|", " ") if "|" in line else line).split()  # "|" separates fields too
        if self.strip_header:
            cut = split_header(tokens)
            if cut:
                tokens = tokens[cut:]
        cluster = self._add(self._mask(tokens))
        if cluster.whole_slots:  # the common case, inlined: every wildcard is a whole token
            return _new_match((cluster.template_id, cluster.template, [tokens[i] for i in cluster.slots]))
        return _new_match((cluster.template_id, cluster.template, self._parameters(cluster, tokens)))

    def match(self, line: str) -> TemplateMatch | None:
        """The known template ``line`` belongs to, learning nothing; None for a line of an unseen kind."""
        tokens = self._content(line)
        cluster = self._tree.match(self._masker.mask(tokens))
        if cluster is None:
            return None
        return TemplateMatch(cluster.template_id, cluster.template, self._parameters(cluster, tokens))

    @property
    def template_count(self) -> int:
        """How many templates are known (cheap: no list is built)."""
        return len(self._tree.clusters)

    def templates(self) -> list[Cluster]:
        """Every template learned so far, in the order they were first seen."""
        return list(self._tree.clusters.values())

    def _parameters(self, cluster: Cluster, tokens: list[str]) -> list[str]:
        """The values at the template's wildcards; inside a token (``uid=<*>``) only the masked part."""
        if cluster.whole_slots:
            return [tokens[i] for i in cluster.slots]
        params: list[str] = []
        template = cluster.tokens
        for i in cluster.slots:
            t, value = template[i], tokens[i]
            if t == WILDCARD:
                params.append(value)
                continue
            how = self._extractors.get(t) or self._extractor(t)
            if isinstance(how, tuple):  # one wildcard inside the token: cut the constant ends off
                prefix, suffix = how
                if value.startswith(prefix) and value.endswith(suffix) and len(value) >= len(prefix) + len(suffix):
                    params.append(value[len(prefix) : len(value) - len(suffix)])
                else:
                    params.append(value)
            else:
                found = how.fullmatch(value)
                params.extend(found.groups() if found else (value,))
        return params

    def _extractor(self, template_token: str) -> tuple[str, str] | re.Pattern[str]:
        """How to take the values out of a token such as ``uid=<*>`` (ends to cut) or ``<*>:<*>`` (a regex)."""
        if len(self._extractors) >= _PATTERN_LIMIT:
            self._extractors.clear()
        parts = template_token.split(WILDCARD)
        how: tuple[str, str] | re.Pattern[str]
        if len(parts) == 2:
            how = (parts[0], parts[1])
        else:
            how = re.compile("(.*?)".join(re.escape(p) for p in parts), re.DOTALL)
        self._extractors[template_token] = how
        return how

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

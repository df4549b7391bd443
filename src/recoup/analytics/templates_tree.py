"""The template index: masked token lists -> clusters, Drain-style (length and first token, then similarity).

Lines with the same masked tokens hit an exact-match dictionary and never reach the similarity search;
only a new shape is compared with the clusters of the same length and first token, and joins the most
similar one when enough of its constant tokens agree, turning the differing positions into wildcards.

A value may span a varying number of words (``0 bytes`` / ``1190 bytes (1.16 KB)``, a stack of any depth),
which a length-keyed index alone splits into one template per length. So a shape that joins no cluster of
its length, but has exactly the constant words (the skeleton) of a cluster of another length, starts a
cluster of the same *family*: the family id is what a line's template id is. The choice depends only on
the clusters (the earliest-created match), so a restart from a state file chooses as a running miner does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from recoup.analytics.templates_mask import WILDCARD

_EXACT_LIMIT = 100_000
DEFAULT_AGREEMENT = 2 / 3  # chosen leave-one-dataset-out with the similarity (benchmarks/templates.py --loo)


@dataclass
class Cluster:
    """One template: a stable id, its tokens (``<*>`` where a parameter goes) and how many lines it matched.

    ``template``, ``slots`` (the positions holding a wildcard) and ``whole_slots`` (each of them is a bare
    ``<*>``) are kept in step with ``tokens`` by
    `set_tokens`, so matching a line costs no string building.
    """

    template_id: str
    tokens: list[str]
    size: int = 0
    family: str = ""  # the id lines of this cluster get: its own, or an earlier cluster's of another length
    seq: int = field(default=0, compare=False)  # creation order, set by `TemplateTree.insert`
    template: str = field(init=False)
    slots: tuple[int, ...] = field(init=False)
    whole_slots: bool = field(init=False)

    def __post_init__(self) -> None:
        if not self.family:
            self.family = self.template_id
        self.set_tokens(self.tokens)

    def set_tokens(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.template = " ".join(tokens)
        self.slots = tuple(i for i, t in enumerate(tokens) if WILDCARD in t)
        self.whole_slots = all(tokens[i] == WILDCARD for i in self.slots)


_EDGE = "()[]{}<>,;:'\"`."


def _bucket_key(tokens: Sequence[str]) -> tuple[int, int, str]:
    """Length and an anchor token with its position: the first constant word made of letters (else the first
    token that is not a bare wildcard). Lines of one template always share it, and merging never turns it
    into a wildcard (both sides have it), so a cluster never changes bucket. A plain word is preferred
    because a leading dotted name or identifier (``com.apple.cache.daily:``) is often a value itself."""
    first = -1
    for i, token in enumerate(tokens):
        if token != WILDCARD:
            if WILDCARD not in token and token.strip(_EDGE).isalpha():
                return (len(tokens), i, token)
            if first < 0:
                first = i
    return (len(tokens), first, tokens[first]) if first >= 0 else (len(tokens), -1, "")


def skeleton(tokens: Sequence[str]) -> tuple[str, ...]:
    """The constant words of a masked token list, in order: what lines of one template share at any length."""
    return tuple(t for t in tokens if WILDCARD not in t)


def _similarity(template: list[str], tokens: Sequence[str], agreement: float) -> tuple[float, int]:
    """How well ``tokens`` fit ``template``, and how many wildcards that takes (the tie-break).

    The score is the share of positions that fit (equal, or a wildcard in the template). It counts only
    when more than ``agreement`` of the informative positions fit too: a position where both sides are
    wildcards says nothing about the words, and without this guard a long masked header (ids, times)
    would glue together one-word messages such as ``normal`` and ``critical``.
    """
    same = wild = both = 0
    for t, s in zip(template, tokens, strict=True):
        if t == s:
            if t == WILDCARD:
                both += 1
            else:
                same += 1
        elif t == WILDCARD:
            wild += 1
    n = len(template)
    if not n:
        return 1.0, 0
    informative = n - both
    if informative and same + wild <= agreement * informative:
        return 0.0, wild + both
    return (same + wild + both) / n, wild + both


class _Bucket:
    """The clusters sharing a length and first constant token; ``version`` moves on every change to them."""

    __slots__ = ("clusters", "version")

    def __init__(self) -> None:
        self.clusters: list[Cluster] = []
        self.version = 0


Entry = tuple[Cluster, _Bucket, int, bool]


class TemplateTree:
    """Clusters masked token lists; ids are derived from the first template and kept for good.

    A line's cluster is a function of the clusters alone (never of the order the cache was filled in):
    the shape cache remembers an answer only until the bucket it came from changes. That is what makes
    ids after `insert`-ing saved clusters equal to the ids a process that never stopped would give.
    """

    def __init__(self, similarity: float, agreement: float = DEFAULT_AGREEMENT) -> None:
        if not 0.0 < similarity <= 1.0:
            raise ValueError(f"similarity must be in (0, 1], got {similarity!r}")
        if not 0.0 <= agreement < 1.0:
            raise ValueError(f"agreement must be in [0, 1), got {agreement!r}")
        self.similarity = similarity
        self.agreement = agreement
        self.clusters: dict[str, Cluster] = {}
        self._buckets: dict[tuple[int, int, str], _Bucket] = {}
        # masked shape -> (cluster, its bucket, the bucket's version then, whether the miner joins quantities)
        self._exact: dict[tuple[str, ...], Entry] = {}
        self.lookup = self._exact.get  # the raw fast path, for a caller that checks validity itself (see `cached`)
        self._skeletons: dict[tuple[str, ...], list[Cluster]] = {}

    def cached(self, tokens: tuple[str, ...]) -> Entry | None:
        """The still-valid answer remembered for the masked ``tokens`` (counting the line), else None.

        This is the per-line fast path: one dictionary lookup. The entry's last field says the shape was
        remembered by `alias`, for a line whose quantities the miner joins before placing it.
        """
        entry = self._exact.get(tokens)
        if entry is not None and entry[1].version == entry[2]:
            entry[0].size += 1
            return entry
        return None

    def add(self, tokens: tuple[str, ...]) -> Cluster:
        """The cluster for the masked ``tokens`` (created or generalised as needed); counts the line."""
        entry = self._exact.get(tokens)
        if entry is not None and entry[1].version == entry[2]:
            cluster = entry[0]
        else:
            bucket = self._buckets.get(_bucket_key(tokens))
            if bucket is None:
                bucket = self._buckets[_bucket_key(tokens)] = _Bucket()
            cluster = self._place(bucket, tokens)
            self._remember(tokens, (cluster, bucket, bucket.version, False))
        cluster.size += 1
        return cluster

    def alias(self, shape: tuple[str, ...], placed: tuple[str, ...]) -> None:
        """Remember that lines of ``shape`` go where ``placed`` (the same line with quantities joined) went."""
        entry = self._exact.get(placed)
        if entry is not None:
            self._remember(shape, (entry[0], entry[1], entry[2], True))

    def _remember(self, tokens: tuple[str, ...], entry: Entry) -> None:
        if len(self._exact) >= _EXACT_LIMIT:
            self._exact.clear()
        self._exact[tokens] = entry

    def match(self, tokens: tuple[str, ...]) -> Cluster | None:
        """The cluster the masked ``tokens`` would join, without changing anything."""
        entry = self._exact.get(tokens)
        if entry is not None and entry[1].version == entry[2]:
            return entry[0]
        bucket = self._buckets.get(_bucket_key(tokens))
        best = self._best(bucket, tokens) if bucket is not None else None
        return best[0] if best is not None else None

    def _best(self, bucket: _Bucket, tokens: Sequence[str]) -> tuple[Cluster, bool] | None:
        """The most similar cluster above the threshold, and whether it needs generalising."""
        best: Cluster | None = None
        best_score = (-1.0, -1)
        for cluster in bucket.clusters:
            score = _similarity(cluster.tokens, tokens, self.agreement)
            if score > best_score:
                best, best_score = cluster, score
        if best is None or best_score[0] < self.similarity:
            return None
        return best, best_score[0] < 1.0

    def _place(self, bucket: _Bucket, tokens: Sequence[str]) -> Cluster:
        found = self._best(bucket, tokens)
        if found is None:
            return self._new(list(tokens), self._family(tokens))
        cluster, differs = found
        if differs:
            old = skeleton(cluster.tokens)
            cluster.set_tokens([t if t == s else WILDCARD for t, s in zip(cluster.tokens, tokens, strict=True)])
            new = skeleton(cluster.tokens)
            if new != old:
                self._skeletons[old].remove(cluster)
                self._skeletons.setdefault(new, []).append(cluster)
            bucket.version += 1
        return cluster

    def _family(self, tokens: Sequence[str]) -> str:
        """The family of the earliest cluster of another length with the skeleton of ``tokens``, or ''."""
        key = skeleton(tokens)
        if not key:  # all wildcards: nothing to recognise a template by
            return ""
        first: Cluster | None = None
        for cluster in self._skeletons.get(key, ()):
            if len(cluster.tokens) != len(tokens) and (first is None or cluster.seq < first.seq):
                first = cluster
        return first.family if first is not None else ""

    def _new(self, tokens: list[str], family: str = "") -> Cluster:
        base = hashlib.sha1(" ".join(tokens).encode("utf-8", "surrogatepass")).hexdigest()[:12]
        template_id, n = base, 1
        while template_id in self.clusters:
            n += 1
            template_id = f"{base}-{n}"
        cluster = Cluster(template_id, tokens, family=family)
        self.insert(cluster)
        return cluster

    def insert(self, cluster: Cluster) -> None:
        """Index a cluster (a new one, or one loaded from a state file, in the order they were created)."""
        if cluster.template_id in self.clusters:
            raise ValueError(f"duplicate template_id {cluster.template_id!r}")
        if cluster.family != cluster.template_id and cluster.family not in self.clusters:
            raise ValueError(f"family {cluster.family!r} of {cluster.template_id!r} names no earlier template")
        cluster.seq = len(self.clusters)
        self.clusters[cluster.template_id] = cluster
        self._skeletons.setdefault(skeleton(cluster.tokens), []).append(cluster)
        key = _bucket_key(cluster.tokens)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket()
        bucket.clusters.append(cluster)
        bucket.version += 1

"""Rank the likely causes of an incident from the events around it: which service or dependency started
failing first, where the failures stop propagating, which breaker opened first, and which change came just
before.

The reasoning, per node (a service, or a dependency only seen through its callers' errors):

* **onset**: the first burst of its failures (its own errors, errors naming it as the dependency that
  failed, breakers guarding it opening) that its baseline rate cannot explain: a Poisson threshold over a
  sliding window, so a noisy service is not blamed for its usual noise;
* **propagation**: a node whose own errors all name another failing node as their dependency is passing
  the failure on (a symptom); a node that fails on its own, or is only seen failing by its callers, is where
  the chain ends (a cause). Local errors its callers never echoed (a batch job failing inside it) are left
  out of that judgement. Breakers guarding it, and which opened first, confirm it. A dependency the failing
  nodes' errors keep naming is failing too, however thin its own signal;
* **share**: the incident services' failures flow along the edges their errors name; the share a node
  keeps (does not pass on) is how much of the incident it explains;
* **reach**: a cause is connected to the incident's services by observed dependency edges;
* **changes**: a deploy or config change to a failing node (or to the caller of one) shortly before its
  onset is ranked as the cause itself, above the node.

See `recoup.analytics.topology` for the tag conventions the events follow.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from recoup.analytics.topology import Observation, ObsKind, dependency_edges, observations, stored_events

if TYPE_CHECKING:
    from recoup.store import Store


class IncidentLike(Protocol):
    """What the ranker reads from an incident (`recoup.incidents.incidents.Incident` fits)."""

    @property
    def services(self) -> tuple[str, ...]: ...

    @property
    def declared_at(self) -> float: ...


@dataclass(frozen=True, slots=True)
class RootCauseCandidate:
    """A candidate cause as the post-mortem shows it: a name, how likely (higher is likelier), and why. Lives
    here, below incidents, so analytics never reaches up into incidents; incidents and the server import it."""

    name: str
    score: float
    evidence: str | Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    """Time scales, in seconds. `lookback`: how long before the declaration a cause may have started;
    `baseline`: the stretch before that which sets each node's normal failure rate; `after`: how long after
    the declaration events still count; `burst`: the sliding window of onset detection (also the scale of
    "first"); `min_burst`: the fewest failures in a window that make an onset; `change_tau`: how fast a
    change's suspicion fades with its distance before the onset."""

    lookback: float = 900.0
    baseline: float = 3600.0
    after: float = 60.0
    burst: float = 30.0
    min_burst: int = 3
    change_tau: float = 120.0

    def __post_init__(self) -> None:
        for name in ("lookback", "baseline", "burst", "change_tau"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.after < 0:
            raise ValueError(f"after must not be negative, got {self.after}")
        if self.min_burst < 1:
            raise ValueError(f"min_burst must be >= 1, got {self.min_burst}")


@dataclass(frozen=True, slots=True)
class Cause:
    """A ranked candidate: a failing ``service`` (or dependency), or a ``change`` to one."""

    kind: str
    service: str
    score: float
    onset: float | None
    evidence: tuple[str, ...] = ()
    detail: str = ""

    @property
    def name(self) -> str:
        return f"{self.detail} of {self.service}" if self.kind == "change" else self.service

    def candidate(self) -> RootCauseCandidate:
        """The post-mortem's form (a `Cause` already fits the post-mortem's `RootCauseLike` as it is)."""
        return RootCauseCandidate(name=self.name, score=self.score, evidence=self.evidence)


@dataclass
class _Node:
    failures: list[float] = field(default_factory=list)
    own: list[Observation] = field(default_factory=list)
    blamed_by: list[Observation] = field(default_factory=list)
    opens: list[Observation] = field(default_factory=list)


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S.%f")[:-3]


def detect_onset(
    times: Sequence[float], *, start: float, end: float, baseline_rate: float, settings: Settings
) -> float | None:
    """The first failure in ``[start, end]`` that opens a window of `settings.burst` seconds holding more
    failures than `baseline_rate` (per second) explains at about three standard deviations. Isolated
    failures leading into the window (more than a quarter window before the next) are skipped while the
    rest still make a burst: a stray error just before the real onset is not the onset."""
    mu = baseline_rate * settings.burst
    need = max(settings.min_burst, math.ceil(mu + 3 * math.sqrt(mu) + 1))

    def count_from(i: int) -> int:
        return bisect.bisect_left(times, times[i] + settings.burst) - i

    lo = bisect.bisect_left(times, start)
    hi = bisect.bisect_right(times, end)
    for i in range(lo, hi):
        if count_from(i) >= need:
            while i + 1 < hi and times[i + 1] - times[i] > settings.burst / 4 and count_from(i + 1) >= need:
                i += 1
            return times[i]
    return None


def _nodes(obs: Sequence[Observation], t0: float, t1: float, echo: float) -> dict[str, _Node]:
    """Each node's observations, and its failure times: its own errors, breakers opening on it, and its
    callers' errors naming it, except those within `echo` seconds after one of its own errors (one failure
    reported twice, by the node and by its caller, counts once)."""
    nodes: dict[str, _Node] = defaultdict(_Node)
    for o in obs:
        if not t0 <= o.time <= t1:
            continue
        if o.kind is ObsKind.ERROR:
            nodes[o.service].own.append(o)
            if o.dependency and o.dependency != o.service:
                nodes[o.dependency].blamed_by.append(o)
        elif o.kind is ObsKind.BREAKER_OPEN and o.dependency:
            nodes[o.dependency].opens.append(o)
    for node in nodes.values():
        own = [o.time for o in node.own]
        echoes = [t for t in (o.time for o in node.blamed_by)
                  if not own or own[max(0, bisect.bisect_right(own, t) - 1)] < t - echo or own[0] > t]
        node.failures = sorted(own + echoes + [o.time for o in node.opens])
    return nodes


def _relevant(node: _Node, onset: float, failing: set[str], name: str, cfg: Settings) -> list[Observation]:
    """The node's errors since its onset that bear on the incident: those naming a failing dependency, and,
    when callers see the node fail, only the local ones a caller's error echoes (within ``burst / 10``), so
    a burst its callers never saw (a batch job failing inside it) does not make it look like an end point."""
    own = [o for o in node.own if o.time >= onset - cfg.burst]
    blamed = sorted(o.time for o in node.blamed_by if o.time >= onset - cfg.burst)
    if not blamed:
        return own
    echo = cfg.burst / 10
    return [o for o in own if (o.dependency in failing and o.dependency != name)
            or bisect.bisect_right(blamed, o.time + echo) > bisect.bisect_left(blamed, o.time)]


def _passed_on(node: _Node, onset: float, failing: set[str], name: str, cfg: Settings) -> tuple[int, Counter[str]]:
    """How many relevant errors the node has since its onset, and how many name each failing dependency."""
    own = _relevant(node, onset, failing, name, cfg)
    return len(own), Counter(o.dependency for o in own if o.dependency in failing and o.dependency != name)


def _explained(
    present: Sequence[str], nodes: dict[str, _Node], onsets: dict[str, float], failing: set[str], cfg: Settings
) -> dict[str, float]:
    """The share of the incident services' failures that each node keeps when every node hands the failed
    calls it made on to the dependencies they name (a flow along the observed propagation edges)."""
    mass: dict[str, float] = {s: 1.0 / len(present) for s in present}
    kept: dict[str, float] = defaultdict(float)
    for _ in range(2 * len(failing) + 1):  # enough rounds for any acyclic path; a cycle's leftovers are dropped
        moved: dict[str, float] = defaultdict(float)
        for name, m in mass.items():
            total, deps = _passed_on(nodes[name], onsets[name], failing, name, cfg)
            passed = sum(deps.values())
            kept[name] += m * (1.0 - passed / total if total else 1.0)
            for dep, n in deps.items():
                moved[dep] += m * n / total
        mass = {k: v for k, v in moved.items() if v > 1e-9}
        if not mass:
            break
    return kept


def _spread_along_calls(nodes: dict[str, _Node], onsets: dict[str, float], cfg: Settings) -> None:
    """A dependency that a failing node's errors keep naming is failing too, even when its own signal is too
    thin for a burst (a partial fault seen by one caller): its onset is the first of those errors."""
    grew = True
    while grew:
        grew = False
        named: dict[str, list[float]] = defaultdict(list)
        for name, onset in list(onsets.items()):
            for o in nodes[name].own:
                if o.time >= onset - cfg.burst and o.dependency and o.dependency != name and o.dependency not in onsets:
                    named[o.dependency].append(o.time)
        for dep, times in named.items():
            if len(times) >= 2:
                onsets[dep] = min(times)
                grew = True


def _reachable(starts: Iterable[str], edges: Iterable[tuple[str, str]]) -> set[str]:
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    seen = set(starts)
    todo = list(seen)
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _top(counter: Counter[str], n: int = 3) -> str:
    return ", ".join(f"{k} ({v})" for k, v in counter.most_common(n))


def analyze(
    events: Iterable[Any],
    *,
    declared_at: float,
    services: Sequence[str] = (),
    settings: Settings | None = None,
) -> list[Cause]:
    """Every candidate cause for an incident declared at `declared_at` involving `services`, best first.

    `events`: telemetry events, their dicts or stored events (see `recoup.analytics.topology`); those
    outside the baseline-to-after span are ignored.
    """
    cfg = settings or Settings()
    start = declared_at - cfg.lookback
    base_start = start - cfg.baseline
    end = declared_at + cfg.after
    obs = [o for o in observations(events) if base_start <= o.time <= end]
    nodes = _nodes(obs, base_start, end, cfg.burst / 10)
    onsets: dict[str, float] = {}
    for name, node in nodes.items():
        base = bisect.bisect_left(node.failures, start)
        onset = detect_onset(node.failures, start=start, end=end, baseline_rate=base / cfg.baseline, settings=cfg)
        if onset is None and name in services and bisect.bisect_right(node.failures, end) > base:
            # an alert already says this service is failing: its first failure in the window is its onset,
            # so a weak but real signal (a partial fault) still anchors the propagation analysis
            onset = node.failures[base]
        if onset is not None:
            onsets[name] = onset
    _spread_along_calls(nodes, onsets, cfg)
    if not onsets:
        return _changes_only(obs, start, declared_at, cfg)
    earliest = min(onsets.values())
    failing = set(onsets)
    edges = dependency_edges(o for o in obs if o.time >= start and o.service in failing and o.dependency in failing)
    present = [s for s in services if s in failing]
    reach = _reachable(present, edges) if present else failing
    explained = _explained(present, nodes, onsets, failing, cfg) if present else None
    opened = sorted((o.time, name) for name, node in nodes.items() if name in failing for o in node.opens
                    if o.time >= onsets[name] - cfg.burst)
    first_open = opened[0][1] if opened else None
    scores: dict[str, Cause] = {}
    for name in failing:
        share = explained.get(name, 0.0) if explained is not None else None
        scores[name] = _score_node(name, nodes[name], onsets, earliest, failing, name in reach, share, first_open, cfg)
    causes = list(scores.values()) + _score_changes(obs, nodes, scores, onsets, start, declared_at, cfg)
    causes = [c for c in causes if c.score > 0]
    causes.sort(key=lambda c: (-c.score, c.onset if c.onset is not None else math.inf, c.kind, c.service))
    return causes


def _score_node(
    name: str, node: _Node, onsets: dict[str, float], earliest: float, failing: set[str], reached: bool,
    share: float | None, first_open: str | None, cfg: Settings,
) -> Cause:
    onset = onsets[name]
    own = _relevant(node, onset, failing, name, cfg)
    unseen = sum(1 for o in node.own if o.time >= onset - cfg.burst) - len(own)
    passed_on = [o for o in own if o.dependency in failing and o.dependency != name]
    sink = 1.0 - (len(passed_on) / len(own) if own else 0.0)
    explains = share if share is not None else 0.5
    callers = {o.service for o in node.blamed_by if o.time >= onset - cfg.burst and o.service in failing}
    blamed = 1.0 if callers else 0.5
    first = math.exp(-(onset - earliest) / cfg.burst)
    breaker = 1.0 if first_open == name else (0.6 if any(o.time >= onset - cfg.burst for o in node.opens) else 0.0)
    score = (0.35 * sink + 0.25 * explains + 0.15 * first + 0.15 * breaker + 0.1 * blamed) * (1.0 if reached else 0.4)
    evidence = [f"failures start {_clock(onset)} ({onset - earliest:+.2f}s after the first node to fail)"]
    if own:
        if passed_on:
            deps = Counter(o.dependency for o in passed_on)
            evidence.append(f"{len(passed_on)}/{len(own)} of its errors are failed calls to {_top(deps)}")
        else:
            evidence.append(f"its {len(own)} errors name no failing dependency: {_top(Counter(o.group for o in own))}")
    if unseen:
        evidence.append(f"{unseen} more of its errors were never seen by its callers (left out)")
    if callers:
        evidence.append(f"named as the failing dependency by {', '.join(sorted(callers))} "
                        f"({sum(1 for o in node.blamed_by if o.time >= onset - cfg.burst)} errors)")
    if node.opens:
        evidence.append(f"breaker {node.opens[0].detail} opened at {_clock(node.opens[0].time)}"
                        + (" (the first breaker to open)" if first_open == name else ""))
    if share is not None:
        evidence.append(f"{share:.0%} of the incident services' failures trace to it")
    if not reached:
        evidence.append("no observed dependency path from the incident's services")
    return Cause("service", name, round(score, 4), onset, tuple(evidence))


def _score_changes(
    obs: Sequence[Observation], nodes: dict[str, _Node], scores: dict[str, Cause], onsets: dict[str, float],
    start: float, declared_at: float, cfg: Settings,
) -> list[Cause]:
    out: list[Cause] = []
    for o in obs:
        if o.kind is not ObsKind.CHANGE or o.time > declared_at or o.time < start - cfg.baseline:
            continue
        # a change breaks the changed service, or the calls it makes: its own node and the dependencies its
        # errors named after the change are the failures it may explain
        node = nodes.get(o.service)
        suspects = {o.service} | {e.dependency for e in (node.own if node else []) if e.time >= o.time and e.dependency}
        best: tuple[float, float, Cause] | None = None
        for suspect in suspects:
            cause = scores.get(suspect)
            if cause is None or cause.onset is None:
                continue
            gap = cause.onset - o.time
            if gap < -cfg.burst / 2:
                continue  # that failure was already under way when the change came
            score = cause.score * (0.6 + 0.6 * math.exp(-max(0.0, gap) / cfg.change_tau))
            if suspect != o.service and any(e.time >= cause.onset - cfg.burst for e in nodes[suspect].own):
                score *= 0.5  # the callee fails in its own code: a change to its caller explains that less
            if best is None or score > best[0]:
                best = (score, gap, cause)
        if best is None:
            continue
        score, gap, cause = best
        evidence = (f"{o.detail} of {o.service} at {_clock(o.time)}, {gap:.2f}s before {cause.service} began failing",
                    f"{cause.service}: " + "; ".join(cause.evidence[:2]))
        out.append(Cause("change", o.service, round(score, 4), o.time, evidence, o.detail))
    return out


def _changes_only(obs: Sequence[Observation], start: float, declared_at: float, cfg: Settings) -> list[Cause]:
    """No failure burst to explain: the recent changes are all there is to suspect, weakly."""
    out = []
    for o in obs:
        if o.kind is ObsKind.CHANGE and start <= o.time <= declared_at:
            closeness = math.exp(-(declared_at - o.time) / cfg.change_tau)
            why = f"{o.detail} of {o.service} at {_clock(o.time)}; no failure burst was detected"
            out.append(Cause("change", o.service, round(0.2 * closeness, 4), o.time, (why,), o.detail))
    out.sort(key=lambda c: -c.score)
    return out


def rank_causes(
    events: Iterable[Any], incident: IncidentLike, *, settings: Settings | None = None, limit: int = 5
) -> list[RootCauseCandidate]:
    """The incident's likeliest causes for its post-mortem, best first (at most `limit`)."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    causes = analyze(events, declared_at=incident.declared_at, services=incident.services, settings=settings)
    return [c.candidate() for c in causes[:limit]]


def rank_incident_causes(
    store: Store, incident: IncidentLike, *, project_id: int | None = None, settings: Settings | None = None,
    limit: int = 5,
) -> list[RootCauseCandidate]:
    """`rank_causes` over the store's events around the incident."""
    cfg = settings or Settings()
    events = stored_events(store, project_id, incident.declared_at - cfg.lookback - cfg.baseline,
                           incident.declared_at + cfg.after)
    return rank_causes(events, incident, settings=cfg, limit=limit)

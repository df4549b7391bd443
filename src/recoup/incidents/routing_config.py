"""The routing tree in Alertmanager's shape, loaded from YAML and validated: which receiver gets which alerts,
how alerts are grouped and how often a group may notify, and which alerts inhibit which.

    receivers: [default, oncall]          # names only: the channels behind them are recoup.incidents.notify's
    route:
      receiver: default
      group_by: [alertname, project, service]   # ['...'] groups by every label
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 4h
      routes:
        - matchers: ['severity="critical"']
          receiver: oncall
          continue: true                   # keep looking at the next sibling routes
    inhibit_rules:
      - source_matchers: ['severity="critical"']
        target_matchers: ['severity="warning"']
        equal: [project, service]

A child route inherits every value it leaves unset from its parent. Errors name the field:
``route.routes[0].group_wait: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from recoup.incidents.model import Matcher
from recoup.incidents.rules import Duration

#: Alertmanager's defaults, used when the root route leaves a value unset.
DEFAULT_GROUP_WAIT = 30.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0
#: ``group_by: ['...']`` groups by every label (each alert its own group), as in Alertmanager.
GROUP_BY_ALL = "..."

_RECEIVER = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_DEPTH = 16


class RoutingError(ValueError):
    """A routing configuration that cannot be used; the message lists every problem, each naming its field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_matchers(texts: tuple[str, ...]) -> tuple[str, ...]:
    for text in texts:
        Matcher.parse(text)
    return texts


class RouteConfig(_Model):
    """One node of the tree as written; unset values (None) are inherited from the parent."""

    receiver: str | None = None
    group_by: tuple[str, ...] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    matchers: tuple[str, ...] = ()
    continue_: bool = Field(default=False, alias="continue")
    routes: tuple[RouteConfig, ...] = ()

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _check_matchers(v)

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is None:
            return v
        if GROUP_BY_ALL in v and len(v) > 1:
            raise ValueError("'...' groups by every label and cannot be combined with label names")
        for name in v:
            if name != GROUP_BY_ALL and not _LABEL.match(name):
                raise ValueError(f"{name!r} is not a label name (letters, digits and _)")
        if len(set(v)) != len(v):
            raise ValueError("lists a label twice")
        return v

    @field_validator("group_interval", "repeat_interval")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("must be longer than 0s")
        return v


class InhibitRuleConfig(_Model):
    """While an alert matching ``source_matchers`` fires, alerts matching ``target_matchers`` with the same
    values of the ``equal`` labels are muted."""

    source_matchers: tuple[str, ...] = Field(min_length=1)
    target_matchers: tuple[str, ...] = Field(min_length=1)
    equal: tuple[str, ...] = ()

    @field_validator("source_matchers", "target_matchers")
    @classmethod
    def _matchers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _check_matchers(v)

    @field_validator("equal")
    @classmethod
    def _equal(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for name in v:
            if not _LABEL.match(name):
                raise ValueError(f"{name!r} is not a label name (letters, digits and _)")
        return v


class RoutingConfig(_Model):
    """The whole file. ``receivers`` may be left out when the caller supplies the receiver names of its
    channel configuration (`parse_routing`'s ``receivers``)."""

    receivers: tuple[str, ...] = ()
    route: RouteConfig
    inhibit_rules: tuple[InhibitRuleConfig, ...] = ()

    @field_validator("receivers")
    @classmethod
    def _receivers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for name in v:
            if not _RECEIVER.match(name):
                raise ValueError(f"{name!r} is not a receiver name (1-200 of letters, digits, _ . : -)")
            if name in seen:
                raise ValueError(f"receiver {name!r} is listed twice")
            seen.add(name)
        return v

    @model_validator(mode="after")
    def _tree(self, info: ValidationInfo) -> RoutingConfig:
        root = self.route
        problems: list[str] = []
        if root.receiver is None:
            problems.append("route.receiver: the root route needs a receiver (every alert must go somewhere)")
        if root.matchers:
            problems.append("route.matchers: the root route matches every alert and cannot have matchers")
        if root.continue_:
            problems.append("route.continue: the root route has no siblings to continue to")
        extra = info.context.get("receivers", ()) if isinstance(info.context, Mapping) else ()
        known = {*self.receivers, *extra}
        if not known:
            problems.append("receivers: no receivers are defined")
        else:
            problems.extend(_unknown_receivers(root, "route", known))
        problems.extend(_depth_problems(root, "route", 1))
        effective = resolve_route(self)
        problems.extend(_interval_problems(effective))
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _unknown_receivers(route: RouteConfig, where: str, known: set[str]) -> list[str]:
    out = []
    if route.receiver is not None and route.receiver not in known:
        out.append(f"{where}.receiver: unknown receiver {route.receiver!r}; known: {', '.join(sorted(known))}")
    for i, child in enumerate(route.routes):
        out.extend(_unknown_receivers(child, f"{where}.routes[{i}]", known))
    return out


def _depth_problems(route: RouteConfig, where: str, depth: int) -> list[str]:
    if depth > _MAX_DEPTH:
        return [f"{where}: routes nest deeper than {_MAX_DEPTH} levels"]
    out: list[str] = []
    for i, child in enumerate(route.routes):
        out.extend(_depth_problems(child, f"{where}.routes[{i}]", depth + 1))
    return out


def _interval_problems(route: Route) -> list[str]:
    out = []
    if route.repeat_interval < route.group_interval:
        out.append(
            f"{route.where}.repeat_interval: {route.repeat_interval:g}s is shorter than group_interval "
            f"({route.group_interval:g}s); a group cannot repeat faster than it may notify"
        )
    for child in route.routes:
        out.extend(_interval_problems(child))
    return out


@dataclass(frozen=True, slots=True)
class Route:
    """A node of the tree with every value resolved (inherited values filled in). ``id`` is stable for the
    same position and matchers, and is part of every group key of the route."""

    id: str
    where: str  # the node's place in the file, for messages: route.routes[0]
    receiver: str
    group_by: tuple[str, ...]
    group_wait: float
    group_interval: float
    repeat_interval: float
    matchers: tuple[Matcher, ...]
    continue_: bool
    routes: tuple[Route, ...]

    @property
    def group_by_all(self) -> bool:
        return self.group_by == (GROUP_BY_ALL,)

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes an alert with ``labels`` goes to, as Alertmanager decides: depth first, the first
        matching child wins unless it sets ``continue``; a node none of whose children match is itself the
        match."""
        if not all(m.matches(labels) for m in self.matchers):
            return []
        found: list[Route] = []
        for child in self.routes:
            matched = child.match(labels)
            found.extend(matched)
            if matched and not child.continue_:
                break
        return found or [self]

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels that key this alert's group on this route (missing ones are left out)."""
        if self.group_by_all:
            return dict(labels)
        return {name: labels[name] for name in self.group_by if name in labels}

    def walk(self) -> Iterable[Route]:
        yield self
        for child in self.routes:
            yield from child.walk()


def resolve_route(config: RoutingConfig) -> Route:
    """The root `Route` with inherited values filled in (root defaults are Alertmanager's)."""
    return _resolve(config.route, None, "{}", "route")


def _resolve(node: RouteConfig, parent: Route | None, route_id: str, where: str) -> Route:
    def pick(own: Any, inherited: Any, default: Any) -> Any:
        if own is not None:
            return own
        return inherited if parent is not None else default

    receiver = pick(node.receiver, parent.receiver if parent else None, "")
    group_by = pick(node.group_by, parent.group_by if parent else None, ())
    group_wait = pick(node.group_wait, parent.group_wait if parent else None, DEFAULT_GROUP_WAIT)
    group_interval = pick(node.group_interval, parent.group_interval if parent else None, DEFAULT_GROUP_INTERVAL)
    repeat_interval = pick(node.repeat_interval, parent.repeat_interval if parent else None, DEFAULT_REPEAT_INTERVAL)
    matchers = tuple(Matcher.parse(text) for text in node.matchers)
    shell = Route(route_id, where, receiver, group_by, group_wait, group_interval, repeat_interval, matchers,
                  node.continue_, ())
    children = tuple(
        _resolve(child, shell, f"{route_id}/{{{','.join(child.matchers)}}}/{i}", f"{where}.routes[{i}]")
        for i, child in enumerate(node.routes)
    )
    return Route(route_id, where, receiver, group_by, group_wait, group_interval, repeat_interval, matchers,
                 node.continue_, children)


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """A parsed inhibition rule."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Routing:
    """What the router runs on: the resolved tree, the inhibition rules and the receiver names."""

    route: Route
    inhibit_rules: tuple[InhibitRule, ...]
    receivers: tuple[str, ...]
    config: RoutingConfig


def _describe_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ""
        for part in err["loc"]:
            if isinstance(part, int):
                where += f"[{part}]"
            else:
                name = "continue" if part == "continue_" else str(part)
                where += f".{name}" if where else name
        message = str(err["msg"]).removeprefix("Value error, ")
        if not where:  # whole-config problems carry their own field names
            lines.append(message)
        else:
            lines.append(f"{where}: {message}")
    return "\n".join(lines)


def parse_routing(data: object, *, source: str = "routing", receivers: Iterable[str] = ()) -> Routing:
    """A validated `Routing` from already-parsed YAML/JSON; `RoutingError` listing every problem otherwise.
    ``receivers`` adds the names the channel configuration defines to those the file lists."""
    if not isinstance(data, Mapping) or "route" not in data:
        raise RoutingError(f"{source}: expected a mapping with a 'route'")
    extra = tuple(receivers)
    try:
        config = RoutingConfig.model_validate(data, context={"receivers": extra})
    except ValidationError as exc:
        raise RoutingError(f"{source}:\n{_describe_errors(exc)}") from None
    rules = tuple(
        InhibitRule(
            source=tuple(Matcher.parse(t) for t in rule.source_matchers),
            target=tuple(Matcher.parse(t) for t in rule.target_matchers),
            equal=rule.equal,
        )
        for rule in config.inhibit_rules
    )
    names = tuple(dict.fromkeys((*config.receivers, *extra)))
    return Routing(route=resolve_route(config), inhibit_rules=rules, receivers=names, config=config)


def loads_routing(text: str, *, source: str = "routing", receivers: Iterable[str] = ()) -> Routing:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RoutingError(f"{source}: not valid YAML: {exc}") from None
    return parse_routing(data, source=source, receivers=receivers)


def load_routing(path: str | Path, *, receivers: Iterable[str] = ()) -> Routing:
    """Read and validate a YAML routing file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutingError(f"{p}: cannot read: {exc.strerror}") from None
    return loads_routing(text, source=str(p), receivers=receivers)


def default_routing_text() -> str:
    return resources.files("recoup.incidents").joinpath("default_routing.yaml").read_text(encoding="utf-8")


def default_routing(*, receivers: Iterable[str] = ()) -> Routing:
    """The shipped routing (``recoup/incidents/default_routing.yaml``)."""
    return loads_routing(default_routing_text(), source="default_routing.yaml", receivers=receivers)

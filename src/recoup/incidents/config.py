"""The incidents configuration `recoup serve --incidents-config FILE` reads: one YAML file whose optional
sections configure each part, the shipped defaults standing in for any section left out::

    rules: rules.yaml          # or inline: [{name: ..., metric: ...}, ...]   (recoup.incidents.rules)
    routing: {route: ..., inhibit_rules: [...]}                              (recoup.incidents.routing_config)
    receivers:                                                                (recoup.incidents.notify.config)
      - name: oncall
        pagerduty: {routing_key: "${PD_KEY}"}
    policy: policy.yaml                                                       (recoup.incidents.incidents)

A section given as a string is a path, relative to the configuration file. Every problem is reported with
its section and field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from recoup.incidents.incidents import IncidentPolicy, PolicyError, default_policy, parse_policy
from recoup.incidents.notify.config import NotifyConfig, NotifyConfigError, parse_notify_config
from recoup.incidents.routing_config import Routing, RoutingError, default_routing, parse_routing
from recoup.incidents.rules import RuleError, RuleSet, default_rules, parse_rules

SECTIONS = ("rules", "routing", "receivers", "policy")


class IncidentsConfigError(ValueError):
    """An incidents configuration that cannot be used; the message names the section and field."""


@dataclass(frozen=True, slots=True)
class IncidentsConfig:
    rules: RuleSet
    routing: Routing
    notify: NotifyConfig
    policy: IncidentPolicy
    source: str = "defaults"


def _section(value: object, base: Path, name: str) -> object:
    """An inline section as is; a path string read as YAML (relative to the configuration file)."""
    if not isinstance(value, str):
        return value
    path = (base / value) if not Path(value).is_absolute() else Path(value)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IncidentsConfigError(f"{name}: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise IncidentsConfigError(f"{name}: {path} is not valid YAML: {exc}") from None


def parse_incidents_config(data: object, *, base: Path = Path("."), source: str = "incidents") -> IncidentsConfig:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise IncidentsConfigError(f"{source}: expected a mapping with sections {', '.join(SECTIONS)}")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise IncidentsConfigError(f"{source}: unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    sections: dict[str, Any] = {name: _section(data[name], base, f"{source}.{name}") for name in data}
    try:
        rules_data = sections.get("rules")
        if isinstance(rules_data, list):
            rules_data = {"rules": rules_data}
        rules = default_rules() if rules_data is None else parse_rules(rules_data, source=f"{source}.rules")
        notify_data = sections.get("receivers")
        if isinstance(notify_data, list):
            notify_data = {"receivers": notify_data}
        notify = parse_notify_config(notify_data, source=f"{source}.receivers")
        names = notify.names()
        routing_data = sections.get("routing")
        routing = (
            default_routing(receivers=names)
            if routing_data is None
            else parse_routing(routing_data, source=f"{source}.routing", receivers=names)
        )
        policy_data = sections.get("policy")
        policy = default_policy() if policy_data is None else parse_policy(policy_data, source=f"{source}.policy")
    except (RuleError, NotifyConfigError, RoutingError, PolicyError) as exc:
        raise IncidentsConfigError(str(exc)) from None
    return IncidentsConfig(rules=rules, routing=routing, notify=notify, policy=policy, source=source)


def load_incidents_config(path: str | Path | None) -> IncidentsConfig:
    """The configuration in ``path``, or the shipped defaults when it is None."""
    if path is None:
        return parse_incidents_config({}, source="defaults")
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IncidentsConfigError(f"{p}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise IncidentsConfigError(f"{p}: not valid YAML: {exc}") from None
    return parse_incidents_config(data, base=p.parent, source=str(p))

"""The shipped incident configuration on a shorter clock, for `recoup assess`'s incident scenarios.

The default rules judge minutes (``HighErrorRate``: a 5-minute window, firing after 1 minute) and the
default policy holds incidents to RTOs of 30 s to 8 min, so running them as shipped would take an hour.
`scaled_config` multiplies EVERY duration (rule windows, ``for``, ``keep_firing_for``, baselines, burn-rate
windows, ``escalate.after``; routing waits and intervals; the policy's declare window, escalation waits and
RTO targets) by one factor and keeps every threshold and ``min_count`` as shipped, so the same rules, on
the same events, decide the same things ``1/factor`` times sooner. A figure measured at factor ``f``
corresponds to ``figure / f`` seconds of the shipped rules (`unscaled`).

What is not a rule duration stays as shipped: thresholds (``ApplicationDown``'s 60 s limit on silence is a
threshold, so a service must stay silent for 60 real seconds to trip it), on-call shifts and hand-offs."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from recoup.incidents.rules import parse_duration

#: The full assessment's factor: ``HighErrorRate``'s 1-minute ``for`` becomes 2 s.
DEFAULT_FACTOR = 1 / 30
#: ``--quick``: a 1-minute ``for`` becomes 0.5 s.
QUICK_FACTOR = 1 / 120
#: Keys of a rule that hold durations (``baseline`` and ``escalate`` are handled on their own).
RULE_DURATIONS = ("window", "for", "keep_firing_for", "long_window", "short_window")
ROUTE_DURATIONS = ("group_wait", "group_interval", "repeat_interval")
#: The receivers the shipped routing and policy name; the phase gives both a signed webhook.
RECEIVERS = ("oncall", "default")


def validate_factor(factor: float) -> float:
    """The factor itself; ValueError naming it when it is not in (0, 1]."""
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not 0 < factor <= 1:
        raise ValueError(f"incident time scale must be a number in (0, 1], e.g. 0.0333 for 1/30; got {factor!r}")
    return float(factor)


def _shipped(name: str) -> dict[str, Any]:
    text = resources.files("recoup.incidents").joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"recoup/incidents/{name}: expected a mapping")
    return data


def _scale(value: object, factor: float, where: str) -> float:
    """A duration (``'5m'`` or seconds) times ``factor``, in seconds (a float keeps sub-second results)."""
    try:
        return parse_duration(value) * factor
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _scale_rule(rule: dict[str, Any], factor: float) -> dict[str, Any]:
    out = copy.deepcopy(rule)
    name = out.get("name", "?")
    for key in RULE_DURATIONS:
        if key in out:
            out[key] = _scale(out[key], factor, f"rules ({name}).{key}")
    baseline = out.get("baseline")
    if isinstance(baseline, dict):
        for key in ("window", "offset"):
            if key in baseline:
                baseline[key] = _scale(baseline[key], factor, f"rules ({name}).baseline.{key}")
    escalate = out.get("escalate")
    if isinstance(escalate, dict) and "after" in escalate:
        escalate["after"] = _scale(escalate["after"], factor, f"rules ({name}).escalate.after")
    return out


def _scale_route(route: dict[str, Any], factor: float, where: str) -> dict[str, Any]:
    out = dict(route)
    for key in ROUTE_DURATIONS:
        if key in out:
            out[key] = _scale(out[key], factor, f"{where}.{key}")
    children = out.get("routes")
    if isinstance(children, list):
        out["routes"] = [_scale_route(child, factor, f"{where}.routes[{i}]") for i, child in enumerate(children)]
    return out


def _scale_policy(policy: dict[str, Any], factor: float) -> dict[str, Any]:
    out = copy.deepcopy(policy)
    declare = out.get("declare")
    if isinstance(declare, dict) and "window" in declare:
        declare["window"] = _scale(declare["window"], factor, "policy.declare.window")
    escalation = out.get("escalation")
    for i, pol in enumerate(escalation.get("policies", []) if isinstance(escalation, dict) else []):
        for j, step in enumerate(pol.get("steps", [])):
            if "wait" in step:
                step["wait"] = _scale(step["wait"], factor, f"policy.escalation.policies[{i}].steps[{j}].wait")
    rto = out.get("rto")
    if isinstance(rto, dict):
        targets = rto.get("targets")
        if isinstance(targets, dict):
            rto["targets"] = {k: _scale(v, factor, f"policy.rto.targets.{k}") for k, v in targets.items()}
        if "fallback" in rto:
            rto["fallback"] = _scale(rto["fallback"], factor, "policy.rto.fallback")
    return out


def scaled_config(
    factor: float = DEFAULT_FACTOR, *, receiver_url: str | None = None, secret: str | None = None
) -> dict[str, Any]:
    """The shipped rules, routing and policy with every duration multiplied by ``factor`` (seconds, as
    floats), as the data of an incidents configuration file (`recoup.incidents.config`). With
    ``receiver_url`` and ``secret``, receivers ``oncall`` and ``default`` are signed webhooks to
    ``{receiver_url}/webhook/{name}``."""
    factor = validate_factor(factor)
    rules = _shipped("default_rules.yaml")["rules"]
    routing = _shipped("default_routing.yaml")
    policy = _shipped("default_policy.yaml")
    data: dict[str, Any] = {
        "rules": [_scale_rule(rule, factor) for rule in rules],
        "routing": {**routing, "route": _scale_route(routing["route"], factor, "routing.route")},
        "policy": _scale_policy(policy, factor),
    }
    if (receiver_url is None) != (secret is None):
        raise ValueError("receiver_url and secret go together: give both or neither")
    if receiver_url is not None and secret is not None:
        base = receiver_url.rstrip("/")
        data["receivers"] = [
            {"name": name, "webhook": {"url": f"{base}/webhook/{name}", "secret": secret, "timeout": 5.0}}
            for name in RECEIVERS
        ]
    return data


def write_config(data: dict[str, Any], path: Path) -> Path:
    """Write the configuration as YAML (temp file + rename, so a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path


def unscaled(seconds: float | None, factor: float) -> float | None:
    """What ``seconds`` measured at ``factor`` correspond to with the shipped rules."""
    return None if seconds is None else seconds / factor


def scaling_note(factor: float) -> str:
    """One sentence for reports: what was scaled and how to read the figures."""
    example = 2.1
    return (
        f"Rule durations were scaled by {factor:.4g} (1/{1 / factor:.4g}): every window, `for`, "
        "`keep_firing_for`, baseline, burn-rate window, escalation wait, routing wait and RTO target of the "
        "shipped configuration was multiplied by it; thresholds and min_counts were kept. Measured seconds are "
        f"the primary figures; the unscaled equivalent is measured / {factor:.4g} (e.g. {example} s here "
        f"≈ {example / factor:.0f} s of shipped rule time)."
    )

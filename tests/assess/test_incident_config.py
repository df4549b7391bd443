"""The incident scenarios' time scale: every duration of the shipped configuration scaled, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recoup.assess.incident_config import scaled_config, scaling_note, unscaled, validate_factor, write_config
from recoup.incidents.config import load_incidents_config, parse_incidents_config
from recoup.incidents.incidents import default_policy
from recoup.incidents.routing_config import default_routing
from recoup.incidents.rules import default_rules

FACTOR = 1 / 30


def test_every_rule_duration_is_scaled_and_thresholds_are_kept() -> None:
    scaled = parse_incidents_config(scaled_config(FACTOR)).rules
    shipped = default_rules()
    assert [r.name for r in scaled.rules] == [r.name for r in shipped.rules]
    for old, new in zip(shipped.rules, scaled.rules, strict=True):
        if old.type == "threshold":  # a burn-rate rule reads only its two windows
            assert new.window == pytest.approx(old.window * FACTOR), old.name
        assert new.for_ == pytest.approx(old.for_ * FACTOR), old.name
        assert new.keep_firing_for == pytest.approx(old.keep_firing_for * FACTOR), old.name
        for field in ("long_window", "short_window"):
            if getattr(old, field) is not None:
                assert getattr(new, field) == pytest.approx(getattr(old, field) * FACTOR), (old.name, field)
        if old.baseline is not None:
            assert new.baseline is not None
            assert new.baseline.window == pytest.approx(old.baseline.window * FACTOR)
            assert new.baseline.offset == pytest.approx(old.baseline.offset * FACTOR)
        if old.escalate is not None and old.escalate.after is not None:
            assert new.escalate is not None and new.escalate.after == pytest.approx(old.escalate.after * FACTOR)
            assert new.escalate.threshold == old.escalate.threshold
        assert (new.threshold, new.min_count, new.op, new.severity) == (
            old.threshold, old.min_count, old.op, old.severity), old.name
    high = scaled.by_name("HighErrorRate")
    assert (high.window, high.for_, high.threshold, high.min_count) == (pytest.approx(10.0), pytest.approx(2.0), 0.05,
                                                                        20)


def test_routing_and_policy_durations_are_scaled() -> None:
    config = parse_incidents_config(scaled_config(FACTOR))
    shipped_routing = default_routing(receivers=("default", "oncall"))
    pairs = [(shipped_routing.route, config.routing.route)]
    while pairs:
        old, new = pairs.pop()
        assert new.group_wait == pytest.approx(old.group_wait * FACTOR)
        assert new.group_interval == pytest.approx(old.group_interval * FACTOR)
        assert new.repeat_interval == pytest.approx(old.repeat_interval * FACTOR)
        assert len(new.routes) == len(old.routes)
        pairs += zip(old.routes, new.routes, strict=True)
    shipped = default_policy()
    policy = config.policy
    assert policy.declare.window == pytest.approx(shipped.declare.window * FACTOR)
    assert policy.declare.related_warnings == shipped.declare.related_warnings
    for old, new in zip(shipped.escalation.policies, policy.escalation.policies, strict=True):
        assert [s.wait for s in new.steps] == pytest.approx([s.wait * FACTOR for s in old.steps])
        assert [s.targets for s in new.steps] == [s.targets for s in old.steps]
    assert policy.rto.targets == pytest.approx({k: v * FACTOR for k, v in shipped.rto.targets.items()})
    assert policy.rto.fallback == pytest.approx(shipped.rto.fallback * FACTOR)
    assert policy.rto.target_for("database_connection_exhaustion") == pytest.approx(1.0)
    assert [s.shift for s in policy.schedules] == [s.shift for s in shipped.schedules]  # not a rule duration


def test_receivers_are_signed_webhooks_and_the_file_loads(tmp_path: Path) -> None:
    data = scaled_config(FACTOR, receiver_url="http://127.0.0.1:9/", secret="s" * 32)
    assert [(r["name"], r["webhook"]["url"]) for r in data["receivers"]] == [
        ("oncall", "http://127.0.0.1:9/webhook/oncall"), ("default", "http://127.0.0.1:9/webhook/default")]
    path = write_config(data, tmp_path / "incidents.yaml")
    loaded = load_incidents_config(path)
    assert sorted(loaded.notify.names()) == ["default", "oncall"]
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["rules"][1]["for"] == pytest.approx(2.0)
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("bad", [0, -0.5, 1.5, True, "fast"])
def test_a_bad_factor_is_refused_by_name(bad: object) -> None:
    with pytest.raises(ValueError, match="incident time scale"):
        validate_factor(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="incident time scale"):
        scaled_config(bad)  # type: ignore[arg-type]


def test_receiver_url_and_secret_go_together() -> None:
    with pytest.raises(ValueError, match="receiver_url and secret"):
        scaled_config(FACTOR, receiver_url="http://127.0.0.1:9")


def test_unscaled_figures_and_the_note() -> None:
    assert unscaled(2.1, FACTOR) == pytest.approx(63.0)
    assert unscaled(None, FACTOR) is None
    note = scaling_note(FACTOR)
    assert "scaled by 0.03333 (1/30)" in note and "2.1 s here ≈ 63 s" in note
    assert scaled_config(1.0)["rules"][1]["window"] == pytest.approx(300.0)  # factor 1 is the shipped config

"""The exported Alertmanager configuration: checked by the real ``amtool check-config``, every alert routed
to recoup's webhook (with bearer credentials) and on to the channels, bad channel settings named."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from recoup.incidents.export.alertmanager_config import (
    AlertmanagerExport,
    Channel,
    ConfigError,
    alertmanager_config,
    alertmanager_config_yaml,
    load_channels,
)
from recoup.incidents.routing_config import default_routing, loads_routing
from recoup.incidents.rules import default_rules

CHANNELS = """
channels:
  - name: ops-slack
    type: slack
    config: {api_url: 'https://hooks.slack.com/services/T0/B0/XYZ', channel: '#ops'}
    match: ['severity="critical"']
  - name: mail
    type: email
    config: {to: ops@example.com, from: recoup@example.com, smarthost: 'smtp.example.com:587'}
  - name: hook
    type: webhook
    config: {url: 'https://hooks.example.com/recoup'}
  - name: pager
    type: pagerduty
    config: {routing_key: 0123456789abcdef0123456789abcdef}
    match: ['severity="critical"', 'service=~"pay.*"']
"""


@pytest.fixture(scope="module")
def amtool() -> str:
    found = shutil.which("amtool") or "/usr/bin/amtool"
    if not Path(found).exists():
        pytest.fail("amtool is not installed; run scripts/install_tools.sh", pytrace=False)
    return found


def _check(amtool: str, tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "alertmanager.yml"
    path.write_text(text)
    return subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, timeout=30)


def test_every_alert_reaches_recoup_then_the_channels(amtool: str, tmp_path: Path) -> None:
    export = AlertmanagerExport("http://recoup.example:8000/", credentials="token: with # yaml chars",
                                channels=load_channels(CHANNELS))
    text = alertmanager_config_yaml(export, default_rules())
    done = _check(amtool, tmp_path, text)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout and "5 receivers" in done.stdout

    config = yaml.safe_load(text)
    route = config["route"]
    assert route["receiver"] == "recoup"
    first, *channels = route["routes"]
    assert first == {"receiver": "recoup", "continue": True}  # everything goes to recoup, and on
    assert [r["receiver"] for r in channels] == ["ops-slack", "mail", "hook", "pager"]
    assert all(r["continue"] for r in channels)
    assert channels[3]["matchers"] == ['severity="critical"', 'service=~"pay.*"']
    receivers = {r["name"]: r for r in config["receivers"]}
    webhook = receivers["recoup"]["webhook_configs"][0]
    assert webhook["url"] == "http://recoup.example:8000/api/v1/alertmanager"
    assert webhook["http_config"]["authorization"] == {"type": "Bearer", "credentials": "token: with # yaml chars"}
    assert webhook["send_resolved"] is True
    assert receivers["ops-slack"]["slack_configs"][0]["channel"] == "#ops"
    assert receivers["pager"]["pagerduty_configs"][0]["routing_key"] == "0123456789abcdef0123456789abcdef"
    inhibit = config["inhibit_rules"][0]
    assert inhibit["equal"] == ["recoup_rule", "project", "service", "resource"]


def test_a_credentials_file_and_recoups_routing_tree(amtool: str, tmp_path: Path) -> None:
    channels = [Channel("oncall", "pagerduty", {"routing_key": "abc"})]
    export = AlertmanagerExport("https://recoup.example", credentials_file="/etc/alertmanager/secrets/token",
                                channels=channels, group_wait=5, group_interval=60, repeat_interval=7200)
    text = alertmanager_config_yaml(export, default_rules(), default_routing().config)
    done = _check(amtool, tmp_path, text)
    assert done.returncode == 0, done.stdout + done.stderr
    config: dict[str, Any] = yaml.safe_load(text)
    assert config["route"]["group_wait"] == "5s" and config["route"]["repeat_interval"] == "2h"
    tree = config["route"]["routes"][1]  # recoup's own routing, below recoup's route
    assert tree["receiver"] == "default"
    assert tree["routes"][0] == {"receiver": "oncall", "matchers": ['severity="critical"'], "group_wait": "5s",
                                 "group_interval": "30s", "repeat_interval": "30m", "continue": True}
    receivers = {r["name"]: r for r in config["receivers"]}
    assert receivers["default"] == {"name": "default"}  # no channel here: recoup's notification queue delivers
    assert "pagerduty_configs" in receivers["oncall"]
    authorization = receivers["recoup"]["webhook_configs"][0]["http_config"]["authorization"]
    assert authorization == {"type": "Bearer", "credentials_file": "/etc/alertmanager/secrets/token"}


def test_amtool_really_checks(amtool: str, tmp_path: Path) -> None:
    text = alertmanager_config_yaml(AlertmanagerExport("http://r:8000", credentials="t"))
    broken = text.replace("receiver: recoup\n  group_by", "receiver: nobody\n  group_by", 1)
    assert broken != text
    assert _check(amtool, tmp_path, broken).returncode != 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("channels: [{name: a, type: sms, config: {}}]", "channels[0]: channel 'a'.type: 'sms' is not one of"),
        ("channels: [{name: a, type: slack, config: {channel: x}}]",
         "channel 'a'.config.api_url: required for a slack channel (or api_url_file)"),
        ("channels: [{name: a, type: email, config: {to: x, from: y}}]", "config.smarthost: required"),
        ("channels: [{name: a, type: webhook, config: {url: u}, match: ['not a matcher']}]",
         "channel 'a'.match: not a label matcher"),
        ("channels: [{name: recoup, type: webhook, config: {url: u}}]", "channel 'recoup'.name: must be"),
        ("channels: [{name: a, type: webhook, config: {url: u}}, {name: a, type: webhook, config: {url: v}}]",
         "channels[1].name: two channels are named 'a'"),
        ("channels: [{name: a, type: webhook, config: {url: u}, extra: 1}]", "channels[0].extra: unknown field"),
        ("channels: {}", "expected a mapping with a 'channels' list"),
        ("channels: [", "not valid YAML"),
    ],
)
def test_bad_channels_are_named(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_channels(text, source="channels.yml")
    assert message in str(caught.value)


def test_bad_exports_are_refused() -> None:
    with pytest.raises(ConfigError, match="recoup_url: expected http"):
        AlertmanagerExport("recoup:8000", credentials="t")
    with pytest.raises(ConfigError, match="needs an admin token or an ingest key"):
        AlertmanagerExport("http://recoup:8000")
    with pytest.raises(ConfigError, match="not both"):
        AlertmanagerExport("http://recoup:8000", credentials="t", credentials_file="/f")
    routing = loads_routing("receivers: [recoup]\nroute: {receiver: recoup}")
    with pytest.raises(ConfigError, match="'recoup' is the name of recoup's own receiver"):
        alertmanager_config(AlertmanagerExport("http://r", credentials="t"), None, routing.config)

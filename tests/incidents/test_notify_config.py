"""Channel configuration (YAML, ${ENV} secrets, errors naming the field) and webhook signatures."""

from __future__ import annotations

from pathlib import Path

import pytest

from recoup.incidents.notify import NotifyConfigError, load_notify_config, loads_notify_config, sign, verify_signature
from recoup.incidents.notify.channels import build_channels
from recoup.incidents.notify.config import EmailChannel, PagerDutyChannel, SmsChannel

FULL = """
receivers:
  - name: oncall
    email: {host: 127.0.0.1, port: 2525, starttls: false, from: recoup@example.com, to: [a@example.com, b@example.com]}
    slack: {webhook_url: "https://hooks.slack.com/services/T0/B0/${SLACK_TOKEN}"}
    webhook: {url: "https://hooks.example.com/recoup", secret: "${HOOK_SECRET}"}
    sms: {account_sid: AC123, auth_token: "${TWILIO_TOKEN}", from: "+15550001111", to: ["+15550002222"]}
    pagerduty: {routing_key: "${PD_KEY}"}
  - name: chat
    apprise: {urls: ["json://127.0.0.1:9/x"]}
"""
ENV = {"SLACK_TOKEN": "xyz", "HOOK_SECRET": "0123456789abcdef0123", "TWILIO_TOKEN": "tok", "PD_KEY": "k" * 32}


def test_a_full_file_loads_with_env_secrets_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text(FULL)
    config = load_notify_config(path, environ=ENV)
    assert config.names() == ("oncall", "chat")
    oncall = config.receiver("oncall")
    assert list(oncall.channels()) == ["email", "slack", "webhook", "sms", "pagerduty"]
    assert isinstance(oncall.email, EmailChannel) and oncall.email.from_ == "recoup@example.com"
    assert oncall.slack is not None and oncall.slack.webhook_url.endswith("/T0/B0/xyz")
    assert oncall.webhook is not None and oncall.webhook.secret == ENV["HOOK_SECRET"]
    assert isinstance(oncall.sms, SmsChannel) and oncall.sms.base_url == "https://api.twilio.com"
    assert isinstance(oncall.pagerduty, PagerDutyChannel)
    assert oncall.pagerduty.url == "https://events.pagerduty.com/v2/enqueue"
    assert oncall.pagerduty.routing_key == "k" * 32
    assert set(build_channels(config)) == {
        ("oncall", "email"), ("oncall", "slack"), ("oncall", "webhook"), ("oncall", "sms"), ("oncall", "pagerduty"),
        ("chat", "apprise"),
    }  # fmt: skip
    # Secrets stay out of reprs (and so out of logs).
    assert ENV["HOOK_SECRET"] not in repr(config) and "tok" not in repr(oncall.sms)


def test_an_unset_env_var_is_named_with_its_field() -> None:
    env = {k: v for k, v in ENV.items() if k != "PD_KEY"}
    with pytest.raises(NotifyConfigError) as err:
        loads_notify_config(FULL, environ=env)
    assert "PD_KEY" in str(err.value) and "receivers[0].pagerduty.routing_key" in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "receivers: [{name: a, email: {host: h, port: 99999, from: x@y.z, to: [a@b.c]}}]",
            "receivers[0] (a).email.port",
        ),
        ("receivers: [{name: a, slack: {webhook_url: 'ftp://x'}}]", "receivers[0] (a).slack.webhook_url"),
        ("receivers: [{name: a, slack: {webhook_url: 'https://x', colour: red}}]", "receivers[0] (a).slack.colour"),
        ("receivers: [{name: a, webhook: {url: 'https://x', secret: short}}]", "receivers[0] (a).webhook.secret"),
        ("receivers: [{name: a, sms: {account_sid: s, auth_token: t, from: f, to: []}}]", "receivers[0] (a).sms.to"),
        ("receivers: [{name: a, email: {host: h, from: nobody, to: [a@b.c]}}]", "receivers[0] (a).email.from"),
        ("receivers: [{name: a}]", "has no channel"),
        ("receivers: [{name: a, telegram: {}}]", "receivers[0] (a).telegram"),
        ("receivers: [{name: a, apprise: {urls: [x://]}}, {name: a, apprise: {urls: [y://]}}]", "two receivers"),
        ("receivers: [{name: 'bad name', apprise: {urls: [x://]}}]", "receivers[0] (bad name).name"),
        ("- just a list", "expected a mapping"),
        ("receivers: [", "not valid YAML"),
    ],
)
def test_errors_name_the_field(text: str, expected: str) -> None:
    with pytest.raises(NotifyConfigError) as err:
        loads_notify_config(text, environ={})
    assert expected in str(err.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotifyConfigError, match="cannot read"):
        load_notify_config(tmp_path / "absent.yaml")


def test_signatures_verify_only_with_the_secret_and_within_tolerance() -> None:
    body = b'{"kind":"firing"}'
    signature = sign("s3cret-s3cret-s3cret", 1_700_000_000, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify_signature("s3cret-s3cret-s3cret", "1700000000", body, signature, 300, now=1_700_000_100)
    assert not verify_signature("wrong-secret-wrong!!", "1700000000", body, signature, 300, now=1_700_000_100)
    assert not verify_signature("s3cret-s3cret-s3cret", "1700000000", body + b" ", signature, 300, now=1_700_000_100)
    assert not verify_signature("s3cret-s3cret-s3cret", "1700000001", body, signature, 300, now=1_700_000_100)
    assert not verify_signature("s3cret-s3cret-s3cret", "1700000000", body, signature, 300, now=1_700_000_301)
    assert not verify_signature("s3cret-s3cret-s3cret", "not-a-time", body, signature, 300, now=1_700_000_000)
    assert not verify_signature("s3cret-s3cret-s3cret", "1700000000", body, signature[7:], 300, now=1_700_000_000)

"""The real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) notifying the real recoup server:
an alert posted to Alertmanager's /api/v2/alerts is stored by recoup as firing, then resolved when it ends.

The binaries are required, not optional: a missing one fails these tests (CI installs them with
scripts/install_tools.sh)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from alertmanager_support import (
    WEBHOOK_PATH,
    Alertmanager,
    AlertmanagerMissing,
    alertmanager_binary,
    amtool_binary,
    check_config,
    config_yaml,
    post_alerts,
    postable_alert,
    postgres_outage,
    running_alertmanager,
    wait_for,
)
from server_support import LiveServer

from recoup.store import Alert, AlertStatus


@pytest.fixture(autouse=True)
def binaries() -> None:
    try:
        alertmanager_binary()
        amtool_binary()
    except AlertmanagerMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def _alert_of_run(server: LiveServer, run: str) -> Alert | None:
    found = [a for a in server.store.list_alerts(limit=100) if a.labels.get("run") == run]
    assert len(found) <= 1, found
    return found[0] if found else None


def test_the_generated_config_passes_amtool(tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(config_yaml("http://127.0.0.1:8000" + WEBHOOK_PATH, credentials="key with: yaml chars #"))
    report = check_config(path)
    assert "SUCCESS" in report
    parsed = yaml.safe_load(path.read_text())
    webhook = parsed["receivers"][0]["webhook_configs"][0]
    assert webhook["http_config"]["authorization"] == {"type": "Bearer", "credentials": "key with: yaml chars #"}
    # amtool really checks: the same config with a zero group_interval is refused
    path.write_text(config_yaml("http://127.0.0.1:8000" + WEBHOOK_PATH, group_interval="0s"))
    with pytest.raises(ValueError, match="amtool check-config rejected"):
        check_config(path)


@pytest.fixture
def alertmanager(server: LiveServer, tmp_path: Path) -> Iterator[Alertmanager]:
    config = config_yaml(server.url + WEBHOOK_PATH, credentials=server.key.public_key)
    with running_alertmanager(tmp_path / "alertmanager", config) as am:
        yield am


def test_firing_then_resolved_through_the_real_alertmanager(server: LiveServer, alertmanager: Alertmanager) -> None:
    run = secrets.token_hex(4)
    starts = datetime.now(UTC).replace(microsecond=123000) - timedelta(seconds=30)
    labels = {"alertname": "CheckoutErrorRate", "severity": "critical", "service": "checkout", "run": run}
    annotations = {"summary": "checkout 5xx above 5%", "runbook_url": "https://runbooks.example/checkout"}
    generator = "http://prometheus.example:9090/graph?g0.expr=rate(http_5xx%5B5m%5D)"
    with httpx.Client(timeout=10) as client:
        post_alerts(client, alertmanager.url, [
            postable_alert(labels, starts_at=starts, annotations=annotations, generator_url=generator)
        ])
        firing = wait_for(lambda: _alert_of_run(server, run), timeout=10, what="recoup to store the firing alert")
        assert firing.status is AlertStatus.FIRING
        assert firing.project_id == server.project.id  # the webhook's bearer credentials are the ingest key
        assert firing.starts_at == starts
        assert firing.ends_at is None
        assert dict(firing.labels) == labels
        assert dict(firing.annotations) == annotations
        assert firing.generator_url == generator
        assert len(firing.fingerprint) == 16  # Alertmanager's own label-set hash

        ends = datetime.now(UTC) - timedelta(seconds=1)
        post_alerts(client, alertmanager.url, [postable_alert(labels, starts_at=starts, ends_at=ends)])

        def resolved() -> Alert | None:
            alert = _alert_of_run(server, run)
            return alert if alert is not None and alert.status is AlertStatus.RESOLVED else None

        done = wait_for(resolved, timeout=10, what="recoup to see the alert resolved")
    assert done.id == firing.id  # the same episode (fingerprint + startsAt), updated in place
    assert done.fingerprint == firing.fingerprint
    assert done.ends_at is not None and abs(done.ends_at - ends) < timedelta(milliseconds=1)
    assert alertmanager.metric("alertmanager_notifications_failed_total", integration="webhook") == 0
    assert alertmanager.metric("alertmanager_notifications_total", integration="webhook") >= 2


# Alertmanager's credentials wiring does not depend on the database: SQLite only, to keep the suite fast.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_alertmanager_with_wrong_credentials_stores_nothing(server: LiveServer, tmp_path: Path) -> None:
    config = config_yaml(server.url + WEBHOOK_PATH, credentials="not-an-ingest-key")
    with running_alertmanager(tmp_path / "alertmanager", config) as am, httpx.Client(timeout=10) as client:
        post_alerts(client, am.url, [postable_alert({"alertname": "Refused", "run": "wrong-key"})])

        def failed() -> float | None:
            count = am.metric("alertmanager_notifications_failed_total", integration="webhook")
            return count if count > 0 else None

        wait_for(failed, timeout=10, what="alertmanager to report the refused notification")
        assert "401" in am.log()
    assert server.store.list_alerts() == []


# Alertmanager's credentials wiring does not depend on the database: SQLite only, to keep the suite fast.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_admin_token_from_a_credentials_file(server: LiveServer, tmp_path: Path) -> None:
    secret = tmp_path / "recoup-token"
    secret.write_text(server.admin_token + "\n")  # Alertmanager trims the trailing newline
    config = config_yaml(server.url + WEBHOOK_PATH, credentials_file=secret)
    with running_alertmanager(tmp_path / "alertmanager", config) as am, httpx.Client(timeout=10) as client:
        post_alerts(client, am.url, [postable_alert({"alertname": "FromAdmin", "run": "admin"})])
        stored = wait_for(lambda: _alert_of_run(server, "admin"), timeout=10, what="the alert sent with an admin token")
    assert stored.project_id is None
    assert stored.status is AlertStatus.FIRING


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_alertmanager_redelivers_what_a_database_outage_refused(server: LiveServer, tmp_path: Path) -> None:
    config = config_yaml(server.url + WEBHOOK_PATH, credentials=server.key.public_key)
    with running_alertmanager(tmp_path / "alertmanager", config) as am, httpx.Client(timeout=10) as client:
        with postgres_outage(server.settings.db_url):
            post_alerts(client, am.url, [postable_alert({"alertname": "DuringOutage", "run": "outage"})])

            def refused() -> float | None:
                count = am.metric("alertmanager_notification_requests_failed_total", integration="webhook")
                return count if count > 0 else None

            wait_for(refused, timeout=10, what="recoup to refuse a notification while the database is down")
        stored = wait_for(lambda: _alert_of_run(server, "outage"), timeout=15, what="the redelivered alert")
    assert stored.status is AlertStatus.FIRING
    assert stored.project_id == server.project.id

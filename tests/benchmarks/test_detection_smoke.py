"""benchmarks/detection.py: its parsing and arithmetic, and one real run of the whole machinery (recoup serve,
Prometheus, Alertmanager, the receiver and the load thread) with a tiny rule — a 10 s window and no `for` — so
it takes seconds instead of minutes, proving both paths are measured end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import detection
from detection_support import ArrivalReceiver, Batch, Traffic, condition_holds_at, parse_project_create

BENCHMARKS = Path(detection.__file__).resolve().parent

TINY_RULES = """
rules:
  - name: HighErrorRate
    metric: error_ratio
    match: ['category!="validation"']
    by: [project, service]
    window: 10s
    op: ">"
    threshold: 0.05
    min_count: 5
    severity: critical
    labels: {incident_type: error_rate_spike}
    annotations:
      summary: "Error rate of {{ $labels.service }} above 5%"
"""


def test_prometheus_times_parse_to_epoch_seconds() -> None:
    assert detection.parse_time("2026-01-05T09:00:00Z") == 1767603600.0
    assert detection.parse_time("2026-01-05T09:00:00.123456789Z") == pytest.approx(1767603600.123456789)
    assert detection.parse_time("2026-01-05T10:00:00.5+01:00") == pytest.approx(1767603600.5)
    with pytest.raises(ValueError, match="RFC 3339"):
        detection.parse_time("yesterday")


def test_project_create_output_is_parsed() -> None:
    output = ("project:    7 Checkout (checkout)\ningest key: rk_abc123\nDSN:        http://k@h/7\n"
              "ingest URL: http://h/api/v1/events\n")
    assert parse_project_create(output) == (7, "rk_abc123")
    with pytest.raises(ValueError, match="no project id"):
        parse_project_create("something else")


def test_the_data_crossing_is_where_the_trailing_window_exceeds_the_threshold() -> None:
    # 10 ops/s with no errors for 10 s, then 5 errors in every 10 ops from t=10: over a 10 s window the ratio
    # passes 5% once (5k)/(100) > 0.05, i.e. at the second faulty batch (10/100 = 0.1; the first is 5/100).
    batches = [Batch(float(t), 10, 0) for t in range(10)] + [Batch(float(t), 10, 5) for t in range(10, 20)]
    assert condition_holds_at(batches, since=10.0, window=10.0, threshold=0.05, min_count=20) == 11.0
    assert condition_holds_at(batches, since=10.0, window=10.0, threshold=0.05, min_count=1000) is None
    assert condition_holds_at(batches[:10], since=0.0, window=10.0, threshold=0.05, min_count=1) is None


def test_traffic_keeps_the_error_shares_exactly() -> None:
    now = 1000.0
    traffic = Traffic("http://unused", "key", rate=50.0, baseline=0.01, fault=0.3, clock=lambda: now)
    totals = [traffic.events(now)[1:] for _ in range(200)]  # 20 s of batches before the fault
    assert sum(o for o, _ in totals) == 1000 and sum(e for _, e in totals) == 10
    traffic.inject()
    events, ops, errors = traffic.events(now)
    assert (ops, errors) == (5, 1)  # 1.5 due: one now, the half carries over
    assert sum(1 for e in events if e["type"] == "error") == 1
    assert sum(1 for e in events if e["type"] == "recovery_outcome") == 5
    faulty = [traffic.events(now)[1:] for _ in range(99)]
    assert sum(o for o, _ in faulty) + ops == 500 and sum(e for _, e in faulty) + errors == 150


def test_the_page_group_wait_is_set_in_the_shared_routing() -> None:
    shipped = detection.routing_yaml(None)
    assert detection.page_group_wait_of(shipped) == 5.0
    changed = detection.routing_yaml(0.0)
    assert detection.page_group_wait_of(changed) == 0.0
    assert yaml.safe_load(changed)["route"]["group_wait"] == yaml.safe_load(shipped)["route"]["group_wait"]


def test_the_receiver_rejects_unsigned_recoup_posts_and_keeps_alertmanager_ones() -> None:
    import httpx

    from recoup.incidents.notify.signing import sign

    receiver = ArrivalReceiver("s" * 20).start()
    try:
        body = json.dumps({"kind": "incident_triggered", "alerts": [{"alertname": "HighErrorRate"}]}).encode()
        stamp = int(time.time())
        good = {"X-Recoup-Timestamp": str(stamp), "X-Recoup-Signature": sign("s" * 20, stamp, body)}
        assert httpx.post(f"{receiver.base}/recoup/oncall", content=body, headers=good).status_code == 204
        assert httpx.post(f"{receiver.base}/recoup/oncall", content=body).status_code == 401
        am = {"status": "firing", "alerts": [{"labels": {"alertname": "HighErrorRate"}}]}
        assert httpx.post(f"{receiver.base}/am/oncall", json=am).status_code == 204
    finally:
        receiver.stop()
    recoup = receiver.arrivals("/recoup/")
    assert [(a.receiver, a.kind, a.verified) for a in recoup] == [("oncall", "incident_triggered", True)]
    assert "HighErrorRate" in recoup[0].alertnames()
    first_am = receiver.first("/am/", kinds=("firing",))
    assert first_am is not None and first_am.verified is None and first_am.alertnames() == {"HighErrorRate"}
    assert len(receiver.rejected) == 1 and "signature" in receiver.rejected[0]


def test_bad_flags_are_refused_naming_the_flag() -> None:
    with pytest.raises(SystemExit, match="--scrape-interval"):
        detection.main(["--scrape-interval", "soon"])
    with pytest.raises(SystemExit, match="--fault"):
        detection.main(["--fault", "3"])
    with pytest.raises(SystemExit, match="--alert: no rule named 'Nope'"):
        detection.main(["--alert", "Nope"])


@pytest.mark.slow
def test_one_run_measures_both_paths(tmp_path: Path) -> None:
    rules = tmp_path / "tiny.yaml"
    rules.write_text(TINY_RULES)
    out = tmp_path / "detection.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "detection.py"), "--rules", str(rules), "--scrape-interval", "1s",
         "--evaluation-interval", "1s", "--group-wait", "0s", "--page-group-wait", "1s", "--bonus-wait", "5s",
         "--timeout", "40s", "--baseline", "0.03", "--json", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "recoup (in-process)" in done.stdout and "Prometheus + Alertmanager" in done.stdout
    assert "scrape_interval 1s" in done.stdout
    data = json.loads(out.read_text())
    assert data["for"] == 0.0 and data["window"] == 10.0
    assert data["settings"] == {"scrape_interval": 1.0, "evaluation_interval": 1.0, "group_wait": 0.0,
                                "page_group_wait": 1.0}
    run = data["runs"][0]
    assert not [n for n in run["notes"] if "timed out" in n or "failed" in n or "rejected" in n], run["notes"]
    for key in ("recoup_fired", "recoup_declared", "recoup_notified", "prom_fired", "prom_notified"):
        assert run[key] is not None and 0 < run[key] < 40, (key, run)
    # a fault cannot be detected before the data shows it, nor notified before it fires
    assert run["recoup_fired"] >= run["data_crossed"] - 0.5  # recoup drops a window bucket whole
    assert run["recoup_notified"] >= run["recoup_fired"] and run["prom_notified"] >= run["prom_fired"]
    assert run["recoup_notified_kind"] == "incident_triggered"
    assert any(d["path"].startswith("/recoup/") and d["verified"] for d in run["deliveries"])
    assert any(d["path"].startswith("/am/") for d in run["deliveries"])
    assert data["summary"]["recoup_notified"]["median"] == run["recoup_notified"]
    assert set(data["verdicts"]) == {"recoup_e2e_within_for_plus_1s_from_t0",
                                     "recoup_e2e_within_for_plus_1s_from_data", "recoup_ahead_of_prometheus"}

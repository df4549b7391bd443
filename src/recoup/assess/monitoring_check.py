"""Evidence that monitoring works: recoup's series are on ``/metrics`` and a real Prometheus scrapes them.

Why both halves: a series that is declared but never fed, or an endpoint Prometheus cannot parse, looks fine in
a checklist and fails at 3 a.m. So this reads ``/metrics`` with Prometheus's own text parser
(prometheus_client's), checks every catalogue series is declared and the ones the load feeds carry samples, and,
when a ``prometheus`` binary is on PATH, runs it for a few seconds against the server and asks its HTTP API
for ``up`` and a recoup series: proof of a real scrape, not a plausible-looking config.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Server series (recoup.server.metrics) every ingesting server exposes; all carry samples once events arrive.
SERVER_SERIES = ("recoup_ingest_events", "recoup_ingest_requests", "recoup_ingest_request_seconds")

#: Catalogue metrics (recoup.incidents.catalogue) any telemetry load feeds: the assessment's load must give
#: these samples. The other catalogue series only need to be declared (they fill when their signal occurs).
LOAD_FED_METRICS = ("events", "errors", "operations", "last_seen")

#: Incident-engine series (recoup.server.incident_metrics), present when the server runs incident response.
INCIDENT_SERIES = ("recoup_alerts_live", "recoup_notifications", "recoup_rule_observations", "recoup_alert_transitions")

#: The series Prometheus is asked for once it scrapes (a counter every event increments).
PROOF_SERIES = "recoup_events_total"


def expected_series(load_fed: Iterable[str] = LOAD_FED_METRICS) -> list[dict[str, Any]]:
    """What /metrics must show: ``{"name", "source", "needs_samples"}`` per family (counters without _total)."""
    from recoup.incidents.catalogue import CATALOGUE, MetricKind

    fed = set(load_fed)
    unknown = fed - set(CATALOGUE)
    if unknown:
        raise ValueError(f"load_fed: unknown catalogue metric(s) {sorted(unknown)}; known: {sorted(CATALOGUE)}")
    out = [{"name": name, "source": "recoup.server.metrics", "needs_samples": True} for name in SERVER_SERIES]
    for spec in CATALOGUE.values():
        if spec.kind is MetricKind.RATIO:
            continue  # PromQL divides two counters; no series of its own
        out.append({"name": spec.series, "source": f"recoup.incidents.catalogue {spec.name}",
                    "needs_samples": spec.name in fed})
    return out


def parse_families(text: str) -> dict[str, int]:
    """Family name -> number of samples, parsed with prometheus_client's own text-format parser."""
    from prometheus_client.parser import text_string_to_metric_families

    return {family.name: len(family.samples) for family in text_string_to_metric_families(text)}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> str:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
            return "terminated"
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            return "killed after 10 s"
    return f"had exited with {process.returncode}"


def _query(client: Any, url: str, expr: str) -> list[dict[str, Any]]:
    answer = client.get(f"{url}/api/v1/query", params={"query": expr})
    answer.raise_for_status()
    body = answer.json()
    if body.get("status") != "success":
        raise RuntimeError(f"prometheus query {expr!r} failed: {body}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def scrape_with_prometheus(base_url: str, binary: str, *, timeout: float = 20.0) -> dict[str, Any]:
    """Run ``binary`` scraping ``base_url``/metrics every second until ``up`` is 1 and `PROOF_SERIES` has data.

    Prometheus gets a temporary data folder and a free 127.0.0.1 port, and is stopped (terminate, then kill)
    before returning, whatever happened. The result says what was proved and how long it took.
    """
    import httpx

    target = urlsplit(base_url)
    if target.scheme not in ("http", "https") or not target.netloc:
        raise ValueError(f"base_url: {base_url!r} is not an http(s) URL with a host")
    out: dict[str, Any] = {"available": True, "binary": binary, "scraped": False, "up": None,
                           "series_queried": PROOF_SERIES, "series_found": 0, "reason": None}
    try:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False)
        out["version"] = (version.stdout or version.stderr).splitlines()[0] if (version.stdout or version.stderr) \
            else None
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {**out, "available": False, "reason": f"{binary} --version failed: {exc}"}
    with tempfile.TemporaryDirectory(prefix="recoup-prometheus-") as folder:
        work = Path(folder)
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "recoup", "scheme": target.scheme,
                                "metrics_path": (target.path.rstrip("/") or "") + "/metrics",
                                "static_configs": [{"targets": [target.netloc]}]}],
        }
        (work / "prometheus.yml").write_text(json.dumps(config, indent=1))  # JSON is valid YAML
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = work / "prometheus.log"
        started = time.monotonic()
        try:
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
                     f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                    stdout=log, stderr=subprocess.STDOUT,
                )
        except OSError as exc:  # not executable, wrong architecture: evidence, not a crash of the assessment
            return {**out, "reason": f"cannot start {binary}: {exc}"}
        try:
            with httpx.Client(timeout=2.0) as client:
                deadline = started + timeout
                while time.monotonic() < deadline:
                    if process.poll() is not None:
                        tail = log_path.read_text(errors="replace")[-2000:]
                        out["reason"] = f"prometheus exited with {process.returncode}: {tail}"
                        return out
                    try:
                        up = _query(client, url, 'up{job="recoup"}')
                        if up:
                            out["up"] = float(up[0]["value"][1])
                        if out["up"] == 1.0:
                            found = _query(client, url, PROOF_SERIES)
                            out["series_found"] = len(found)
                            if found:
                                out["scraped"] = True
                                out["seconds_to_proof"] = round(time.monotonic() - started, 3)
                                return out
                    except (httpx.HTTPError, RuntimeError, KeyError, ValueError):
                        pass  # not ready yet; the deadline below bounds the wait
                    time.sleep(0.2)
                targets = client.get(f"{url}/api/v1/targets").json() if process.poll() is None else {}
                health = [t.get("lastError") or t.get("health")
                          for t in targets.get("data", {}).get("activeTargets", [])]
                out["reason"] = (f"no proof within {timeout:g} s: up={out['up']}, {PROOF_SERIES} series "
                                 f"{out['series_found']}, targets {health}")
                return out
        finally:
            out["stopped"] = _stop(process)


def check_monitoring(
    base_url: str,
    *,
    prometheus: str | None = "auto",
    load_fed: Iterable[str] = LOAD_FED_METRICS,
    timeout: float = 20.0,
) -> dict[str, Any]:
    """Read ``base_url``/metrics, check the expected series, and prove a real scrape when Prometheus is here.

    ``prometheus``: ``"auto"`` finds ``prometheus`` on PATH, a path uses that binary, None skips the scrape
    (recorded as not available). Returns JSON-able evidence; `recoup.assess.readiness` scores it.
    """
    import httpx

    base = base_url.rstrip("/")
    evidence: dict[str, Any] = {"url": base, "metrics_fetched": False, "error": None, "series": [],
                                "expected": 0, "ok": 0}
    try:
        answer = httpx.get(f"{base}/metrics", timeout=10)
        answer.raise_for_status()
        families = parse_families(answer.text)
    except (httpx.HTTPError, ValueError) as exc:
        evidence["error"] = f"{type(exc).__name__}: {exc}"
        families = None
    if families is not None:
        evidence["metrics_fetched"] = True
        evidence["families_total"] = len(families)
        rows = []
        for want in expected_series(load_fed):
            samples = families.get(want["name"])
            declared = samples is not None
            ok = declared and (not want["needs_samples"] or (samples or 0) > 0)
            rows.append({**want, "declared": declared, "samples": samples or 0, "ok": ok})
        evidence["series"] = rows
        evidence["expected"] = len(rows)
        evidence["ok"] = sum(1 for r in rows if r["ok"])
        evidence["incident_series"] = {name: families.get(name) for name in INCIDENT_SERIES}
    if prometheus == "auto":
        binary = shutil.which("prometheus")
        if binary is None:
            evidence["prometheus"] = {"available": False, "scraped": False, "reason": "no prometheus on PATH"}
            return evidence
    elif prometheus is None:
        evidence["prometheus"] = {"available": False, "scraped": False, "reason": "scrape check switched off"}
        return evidence
    else:
        binary = prometheus
        if not Path(binary).is_file():
            raise ValueError(f"prometheus: {binary!r} is not a file")
    evidence["prometheus"] = scrape_with_prometheus(base, binary, timeout=timeout)
    return evidence

"""Chaos Toolkit probes: recoup's metrics and state, the fault proxy's toxics, and a service's answers.

Each returns a plain JSON value (number, boolean, list of small objects) so steady-state tolerances work
as written in the experiment: ``"tolerance": 0``, ``{"type": "range", "range": [0, 0.05]}``, or a
``jsonpath`` over the returned list (that one needs chaostoolkit-lib's ``jsonpath`` extra). A probe that
cannot measure (server down, bad token, unknown metric) raises `ActivityError` with the reason, except
`health` and `service_check`, whose job is to report that.

Annotations stay evaluated (no ``from __future__ import annotations``): ``chaos discover`` reads them."""

import difflib
import http.client
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from recoup.chaos.chaostoolkit import scrape, settings
from recoup.chaos.chaostoolkit.summaries import alert_summary, incident_summary
from recoup.chaos.chaostoolkit.transport import ActivityError, call, call_json
from recoup.chaos.chaostoolkit.waiting import poll
from recoup.clock import Clock

__all__ = [
    "error_ratio",
    "health",
    "live_alert_count",
    "live_alerts",
    "metric_value",
    "open_incident_count",
    "open_incidents",
    "proxy_enabled",
    "proxy_toxics",
    "response_time",
    "service_check",
    "wait_for_alert",
    "wait_for_alerts_cleared",
    "wait_for_incident",
    "wait_for_incidents_resolved",
]

_log = logging.getLogger("chaostoolkit.recoup")

Configuration = dict[str, Any] | None
Secrets = dict[str, Any] | None


# -- the recoup server -------------------------------------------------------------------------------------


def health(ready: bool = True, *, configuration: Configuration = None) -> bool:
    """True when recoup answers ``/healthz`` (and, with ``ready``, ``/readyz``: its database answers too);
    False otherwise, with the reason in the log."""
    base = settings.server_url(configuration)
    paths = ("/healthz", "/readyz") if ready else ("/healthz",)
    for path in paths:
        try:
            call("GET", base + path, what="recoup health", timeout=settings.timeout(configuration))
        except ActivityError as exc:
            _log.warning("recoup is not healthy: %s", exc)
            return False
    return True


def _scrape(configuration: Configuration) -> scrape.Exposition:
    reply = call("GET", f"{settings.server_url(configuration)}/metrics", what="recoup metrics",
                 headers={"Accept": "text/plain"}, timeout=settings.timeout(configuration))
    return scrape.parse(reply.body.decode("utf-8", errors="replace"))


def _labels(labels: Any) -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise ActivityError(f'labels must be an object like {{"service": "api"}}, got {labels!r}')
    return {str(k): str(v) for k, v in labels.items()}


def metric_value(name: str, labels: dict[str, str] | None = None, *, configuration: Configuration = None) -> float:
    """The value of a series on recoup's ``/metrics`` (e.g. ``recoup_errors_total``, or
    ``recoup_alerts_live`` with ``{"severity": "critical"}``), summed over the samples carrying ``labels``;
    0.0 when the series exists but nothing matches yet."""
    if not isinstance(name, str) or not name:
        raise ActivityError(f"name must be a metric name, got {name!r}")
    exposition = _scrape(configuration)
    value = scrape.total(exposition, name, _labels(labels))
    if value is None:
        kind = exposition.families.get(name)
        if kind in ("histogram", "gaugehistogram", "summary"):
            raise ActivityError(f"{name!r} is a {kind} on recoup's /metrics: ask for {name}_count, {name}_sum "
                                f"or {name}_bucket")
        known = scrape.names(exposition)
        similar = difflib.get_close_matches(name, known, n=5, cutoff=0.6) or known[:30]
        raise ActivityError(f"recoup exposes no series {name!r} on /metrics; did you mean: {', '.join(similar)}")
    return value


def error_ratio(service: str, exclude_categories: list[str] | None = None, *,
                configuration: Configuration = None) -> float:
    """Errors per finished operation of ``service`` since the server started, from ``recoup_errors_total``
    and ``recoup_operations_total`` (validation errors excluded by default, as the HighErrorRate rule does).
    0.0 when the service has neither; an error when it has errors but no operations (the ratio is
    undefined: send recovery outcomes or request metrics too)."""
    excluded = {"validation"} if exclude_categories is None else set(exclude_categories)
    exposition = _scrape(configuration)
    errors = sum(s.value for s in exposition.samples if s.name == "recoup_errors_total"
                 and s.labels.get("service") == service and s.labels.get("category") not in excluded)
    operations = scrape.total(exposition, "recoup_operations_total", {"service": service}) or 0.0
    if operations == 0:
        if errors:
            raise ActivityError(f"service {service!r} has {errors:g} errors but no operations on recoup's "
                                "/metrics: its error ratio is undefined")
        return 0.0
    return float(errors / operations)


def _matches(alert: dict[str, Any], severity: str | None, alertname: str | None, state: str | None) -> bool:
    return ((severity is None or alert["severity"] == severity)
            and (alertname is None or alert["alertname"] == alertname)
            and (state is None or alert["state"] == state))


def live_alerts(severity: str | None = None, alertname: str | None = None, state: str | None = None, *,
                configuration: Configuration = None, secrets: Secrets = None) -> list[dict[str, Any]]:
    """recoup's pending and firing alerts (``/api/v1/alerts/live``), filtered by severity, alert name and
    state ("pending" or "firing"): each as {alertname, state, severity, value, labels, fired_at, summary}."""
    if state is not None and state not in ("pending", "firing"):
        raise ActivityError(f"state must be 'pending' or 'firing' (or null), got {state!r}")
    found = call_json("GET", f"{settings.server_url(configuration)}/api/v1/alerts/live", what="recoup live alerts",
                      headers=settings.admin_headers(configuration, secrets), timeout=settings.timeout(configuration))
    alerts = [alert_summary(a) for a in found["alerts"]]
    return [a for a in alerts if _matches(a, severity, alertname, state)]


def live_alert_count(severity: str | None = None, alertname: str | None = None, state: str | None = None, *,
                     configuration: Configuration = None, secrets: Secrets = None) -> int:
    """How many alerts `live_alerts` finds (the steady state "no critical alert": tolerance 0)."""
    return len(live_alerts(severity, alertname, state, configuration=configuration, secrets=secrets))


def open_incidents(severity: str | None = None, alertname: str | None = None, *,
                   configuration: Configuration = None, secrets: Secrets = None) -> list[dict[str, Any]]:
    """recoup's incidents not yet resolved (triggered or acknowledged), newest first, optionally only those
    of one severity or opened by one alert: each as {id, title, status, severity, incident_type,
    declared_by, declared_at, alerts}."""
    found = call_json("GET", f"{settings.server_url(configuration)}/api/v1/incidents?limit=1000",
                      what="recoup incidents", headers=settings.admin_headers(configuration, secrets),
                      timeout=settings.timeout(configuration))
    incidents = [incident_summary(i) for i in found["incidents"] if i["status"] != "resolved"]
    return [i for i in incidents if (severity is None or i["severity"] == severity)
            and (alertname is None or alertname in i["alerts"])]


def open_incident_count(severity: str | None = None, alertname: str | None = None, *,
                        configuration: Configuration = None, secrets: Secrets = None) -> int:
    """How many incidents `open_incidents` finds."""
    return len(open_incidents(severity, alertname, configuration=configuration, secrets=secrets))


def wait_for_alert(alertname: str | None = None, severity: str | None = None, state: str = "firing",
                   timeout: float = 30.0, interval: float = 0.5, *, configuration: Configuration = None,
                   secrets: Secrets = None, clock: Clock | None = None) -> list[dict[str, Any]]:
    """Wait until recoup has at least one live alert matching the filters (by default: firing) and return
    them; an error naming what was live when ``timeout`` seconds pass first. Its output shows when
    detection happened (``fired_at``)."""
    return poll(
        lambda: live_alerts(severity, alertname, state, configuration=configuration, secrets=secrets),
        lambda alerts: bool(alerts), timeout, interval, clock,
        f"no live alert matching alertname={alertname!r} severity={severity!r} state={state!r}",
    )


def wait_for_alerts_cleared(alertname: str | None = None, severity: str | None = None, timeout: float = 60.0,
                            interval: float = 0.5, *, configuration: Configuration = None, secrets: Secrets = None,
                            clock: Clock | None = None) -> int:
    """Wait until no live alert matches the filters (the fault's effects have aged out of the rules'
    windows); returns 0, or an error listing the alerts still live after ``timeout`` seconds."""
    poll(
        lambda: live_alerts(severity, alertname, None, configuration=configuration, secrets=secrets),
        lambda alerts: not alerts, timeout, interval, clock,
        f"alerts matching alertname={alertname!r} severity={severity!r} still live",
    )
    return 0


def wait_for_incident(severity: str | None = None, alertname: str | None = None, timeout: float = 30.0,
                      interval: float = 0.5, *, configuration: Configuration = None, secrets: Secrets = None,
                      clock: Clock | None = None) -> list[dict[str, Any]]:
    """Wait until recoup has an open incident (of ``severity``, opened by ``alertname``, when given) and
    return the matching ones."""
    return poll(
        lambda: open_incidents(severity, alertname, configuration=configuration, secrets=secrets),
        lambda incidents: bool(incidents), timeout, interval, clock,
        f"no open incident matching severity={severity!r} alertname={alertname!r}",
    )


def wait_for_incidents_resolved(severity: str | None = None, alertname: str | None = None, timeout: float = 60.0,
                                interval: float = 0.5, *, configuration: Configuration = None,
                                secrets: Secrets = None, clock: Clock | None = None) -> int:
    """Wait until no matching incident is open (recoup resolves one by itself once its alerts resolve);
    returns 0, or an error listing those still open after ``timeout`` seconds."""
    poll(
        lambda: open_incidents(severity, alertname, configuration=configuration, secrets=secrets),
        lambda incidents: not incidents, timeout, interval, clock,
        f"incidents matching severity={severity!r} alertname={alertname!r} still open",
    )
    return 0


# -- the fault proxy ---------------------------------------------------------------------------------------


def _proxy(proxy: str, configuration: Configuration) -> dict[str, Any]:
    if not isinstance(proxy, str) or not proxy:
        raise ActivityError(f"proxy must be a proxy name, got {proxy!r}")
    found: dict[str, Any] = call_json(
        "GET", f"{settings.proxy_url(configuration)}/proxies/{urllib.parse.quote(proxy, safe='')}",
        what=f"proxy {proxy!r}", timeout=settings.timeout(configuration))
    return found


def proxy_toxics(proxy: str, *, configuration: Configuration = None) -> list[dict[str, Any]]:
    """The toxics active on a proxy, as the control API lists them ({name, type, stream, toxicity,
    attributes})."""
    toxics: list[dict[str, Any]] = _proxy(proxy, configuration).get("toxics") or []
    return toxics


def proxy_enabled(proxy: str, *, configuration: Configuration = None) -> bool:
    """Whether a proxy is up (listening and forwarding)."""
    return bool(_proxy(proxy, configuration).get("enabled"))


# -- a service, through the proxy or not -------------------------------------------------------------------


def _timed_get(url: str, timeout: float) -> tuple[int, float]:
    """(status, seconds until the whole body was read); HTTP errors are answers, not exceptions."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ActivityError(f"url must be an http:// or https:// URL, got {url!r}")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            answer.read()
            status = int(answer.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        status = exc.code
    return status, time.perf_counter() - started


def response_time(url: str, timeout: float = 10.0, max_status: int = 399) -> float:
    """Seconds a GET of ``url`` takes, body included (e.g. through a proxy with a latency toxic); an error
    when the request fails or answers above ``max_status``."""
    try:
        status, elapsed = _timed_get(url, timeout)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise ActivityError(f"GET {url} failed: {getattr(exc, 'reason', exc)}") from None
    if status > max_status:
        raise ActivityError(f"GET {url} answered {status} after {elapsed:.3f}s")
    return round(elapsed, 6)


def service_check(url: str, timeout: float = 10.0, max_status: int = 399) -> dict[str, Any]:
    """One GET of ``url`` as {ok, status, elapsed, error}: a failure is the measurement here, so it never
    raises for one (``status`` is null when no answer came). ``"tolerance": 200`` checks the status, as
    Chaos Toolkit compares an integer tolerance with a result's ``status``."""
    started = time.perf_counter()
    try:
        status, elapsed = _timed_get(url, timeout)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = str(getattr(exc, "reason", exc))
        return {"ok": False, "status": None, "elapsed": round(time.perf_counter() - started, 6), "error": reason}
    ok = status <= max_status
    return {"ok": ok, "status": status, "elapsed": round(elapsed, 6),
            "error": None if ok else f"answered {status}"}

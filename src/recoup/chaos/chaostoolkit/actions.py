"""Chaos Toolkit actions: recoup's faults.

Network faults go through the fault proxy's control API (``recoup chaos proxy --control``; it mirrors
toxiproxy's REST API, so these also drive a toxiproxy). Incident actions and error bursts go to a recoup
server, so an experiment can break a dependency *and* check that recoup notices, without an application
wired to it. Every function returns plain JSON values for the journal; every failure raises
`ActivityError` naming the proxy, toxic or endpoint and quoting the API's answer.

Annotations stay evaluated (no ``from __future__ import annotations``): ``chaos discover`` reads them."""

import time
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any

from recoup.chaos.chaostoolkit import settings
from recoup.chaos.chaostoolkit.summaries import incident_summary
from recoup.chaos.chaostoolkit.transport import ActivityError, call, call_json

__all__ = [
    "add_toxic",
    "create_proxy",
    "declare_incident",
    "delete_proxy",
    "disable_proxy",
    "enable_proxy",
    "expire_silences",
    "remove_toxic",
    "reset_proxies",
    "resolve_incident",
    "resolve_open_incidents",
    "send_error_events",
    "send_events",
    "silence_alerts",
    "update_toxic",
]

#: Toxic streams as toxiproxy names them.
STREAMS = ("upstream", "downstream")
#: The most events one activity sends (a burst, not a load test).
MAX_BURST = 100_000
DEFAULT_BATCH = 500
ACTOR = "chaostoolkit"

Configuration = dict[str, Any] | None
Secrets = dict[str, Any] | None


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ActivityError(f"{field} must be a non-empty string, got {value!r}")
    return value


# -- the fault proxy ---------------------------------------------------------------------------------------


def create_proxy(name: str, listen: str, upstream: str, enabled: bool = True, *,
                 configuration: Configuration = None) -> dict[str, Any]:
    """Create a proxy that listens on ``listen`` (host:port) and forwards to ``upstream`` (host:port)."""
    name = _name(name, "name")
    for field, value in (("listen", listen), ("upstream", upstream)):
        if not isinstance(value, str) or ":" not in value:
            raise ActivityError(f"proxy {name!r}: {field} must be 'host:port', got {value!r}")
    result: dict[str, Any] = call_json(
        "POST", f"{settings.proxy_url(configuration)}/proxies", what=f"proxy {name!r}: create",
        payload={"name": name, "listen": listen, "upstream": upstream, "enabled": bool(enabled)},
        timeout=settings.timeout(configuration),
    )
    return result


def delete_proxy(proxy: str, *, configuration: Configuration = None) -> None:
    """Delete a proxy (its listener closes and its connections drop)."""
    name = _name(proxy, "proxy")
    call("DELETE", f"{settings.proxy_url(configuration)}/proxies/{_quote(name)}", what=f"proxy {name!r}: delete",
         timeout=settings.timeout(configuration))


def _set_enabled(name: str, enabled: bool, configuration: Configuration) -> dict[str, Any]:
    name = _name(name, "proxy")
    verb = "enable" if enabled else "disable"
    result: dict[str, Any] = call_json(
        "POST", f"{settings.proxy_url(configuration)}/proxies/{_quote(name)}", what=f"proxy {name!r}: {verb}",
        payload={"enabled": enabled}, timeout=settings.timeout(configuration),
    )
    return result


def disable_proxy(proxy: str, *, configuration: Configuration = None) -> dict[str, Any]:
    """Take a proxy down: it stops listening and drops its connections (the dependency is "gone")."""
    return _set_enabled(proxy, False, configuration)


def enable_proxy(proxy: str, *, configuration: Configuration = None) -> dict[str, Any]:
    """Bring a disabled proxy back."""
    return _set_enabled(proxy, True, configuration)


def add_toxic(
    proxy: str,
    type: str,
    attributes: dict[str, Any] | None = None,
    stream: str = "downstream",
    toxicity: float = 1.0,
    name: str | None = None,
    match: str | None = None,
    *,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Add a fault to a proxy: latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, or
    recoup's blackhole, partial_write and http_status. ``match`` (a regex on the stream's bytes) makes it
    hit only matching traffic. Returns the toxic as the proxy stored it."""
    proxy = _name(proxy, "proxy")
    kind = _name(type, "type")
    if stream not in STREAMS:
        raise ActivityError(f"proxy {proxy!r}: stream must be 'upstream' or 'downstream', got {stream!r}")
    if isinstance(toxicity, bool) or not isinstance(toxicity, int | float) or not 0.0 <= toxicity <= 1.0:
        raise ActivityError(f"proxy {proxy!r}: toxicity must be a number from 0 to 1, got {toxicity!r}")
    if attributes is not None and not isinstance(attributes, Mapping):
        raise ActivityError(f"proxy {proxy!r}: attributes must be an object, got {attributes!r}")
    given = dict(attributes or {})
    if match is not None:
        given["match"] = match
    toxic_name = name if name is not None else f"{kind}_{stream}"
    body: dict[str, Any] = {"name": toxic_name, "type": kind, "stream": stream, "toxicity": float(toxicity),
                            "attributes": given}
    result: dict[str, Any] = call_json(
        "POST", f"{settings.proxy_url(configuration)}/proxies/{_quote(proxy)}/toxics",
        what=f"proxy {proxy!r}: add toxic {toxic_name!r} ({kind})", payload=body,
        timeout=settings.timeout(configuration),
    )
    return result


def update_toxic(proxy: str, toxic: str, attributes: dict[str, Any] | None = None, toxicity: float | None = None,
                 *, configuration: Configuration = None) -> dict[str, Any]:
    """Change a live toxic's attributes or toxicity (e.g. raise the latency step by step)."""
    proxy, toxic = _name(proxy, "proxy"), _name(toxic, "toxic")
    body: dict[str, Any] = {}
    if attributes is not None:
        body["attributes"] = dict(attributes)
    if toxicity is not None:
        body["toxicity"] = toxicity
    if not body:
        raise ActivityError(f"proxy {proxy!r}: update of toxic {toxic!r} needs attributes or toxicity")
    result: dict[str, Any] = call_json(
        "POST", f"{settings.proxy_url(configuration)}/proxies/{_quote(proxy)}/toxics/{_quote(toxic)}",
        what=f"proxy {proxy!r}: update toxic {toxic!r}", payload=body, timeout=settings.timeout(configuration),
    )
    return result


def remove_toxic(proxy: str, toxic: str, *, configuration: Configuration = None) -> None:
    """Remove one toxic from a proxy."""
    proxy, toxic = _name(proxy, "proxy"), _name(toxic, "toxic")
    call("DELETE", f"{settings.proxy_url(configuration)}/proxies/{_quote(proxy)}/toxics/{_quote(toxic)}",
         what=f"proxy {proxy!r}: remove toxic {toxic!r}", timeout=settings.timeout(configuration))


def reset_proxies(*, configuration: Configuration = None) -> None:
    """Enable every proxy and remove every toxic: the rollback that undoes all network faults."""
    call("POST", f"{settings.proxy_url(configuration)}/reset", what="reset proxies",
         timeout=settings.timeout(configuration))


# -- the recoup server -------------------------------------------------------------------------------------


def _check_count(count: Any, field: str) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BURST:
        raise ActivityError(f"{field} must be an integer from 1 to {MAX_BURST}, got {count!r}")
    return count


def _post_events(events: list[dict[str, Any]], batch_size: int, configuration: Configuration,
                 secrets: Secrets) -> dict[str, Any]:
    batch_size = _check_count(batch_size, "batch_size")
    url = f"{settings.server_url(configuration)}/api/v1/events"
    headers = settings.ingest_headers(configuration, secrets)
    accepted = duplicates = 0
    spooled = False
    for start in range(0, len(events), batch_size):
        batch = events[start:start + batch_size]
        answer = call_json("POST", url, what=f"recoup ingest (events {start}..{start + len(batch) - 1})",
                           payload={"events": batch}, headers=headers, timeout=settings.timeout(configuration))
        accepted += int(answer.get("accepted", 0))
        duplicates += int(answer.get("duplicates", 0))
        spooled = spooled or bool(answer.get("spooled"))
    return {"sent": len(events), "accepted": accepted, "duplicates": duplicates, "spooled": spooled}


def send_error_events(
    count: int = 20,
    service: str = "chaos",
    category: str | None = "network",
    exception_type: str = "ConnectionError",
    message: str = "injected by a Chaos Toolkit experiment",
    operation: str = "",
    tags: dict[str, str] | None = None,
    batch_size: int = DEFAULT_BATCH,
    *,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Post a burst of ``count`` error events to recoup's native ingest endpoint (needs the ingest key
    ``recoup_ingest_key``), as if ``service`` were failing; ``category`` None lets recoup classify them.
    Returns how many recoup accepted."""
    from recoup.errors.taxonomy import Category

    count = _check_count(count, "count")
    _name(service, "service")
    _name(exception_type, "exception_type")
    known = [c.value for c in Category]
    if category is not None and category not in known:
        raise ActivityError(f"category must be one of {', '.join(known)} (or null), got {category!r}")
    if tags is not None and not isinstance(tags, Mapping):
        raise ActivityError(f"tags must be an object of strings, got {tags!r}")
    now = time.time()
    events = [
        {"type": "error", "schema": 1, "id": uuid.uuid4().hex, "timestamp": now,
         "exception_type": exception_type, "message": message, "service": service, "operation": operation,
         "category": category, "tags": {str(k): str(v) for k, v in (tags or {}).items()}}
        for _ in range(count)
    ]
    return _post_events(events, batch_size, configuration, secrets)


def send_events(events: list[dict[str, Any]], batch_size: int = DEFAULT_BATCH, *,
                configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Post events in recoup's wire format (what ``HttpSink`` sends: recovery outcomes, metrics, ...);
    recoup checks each one and refuses the batch naming ``events[i].field``."""
    if not isinstance(events, list) or not events or not all(isinstance(e, Mapping) for e in events):
        raise ActivityError(f"events must be a non-empty list of event objects, got {events!r}")
    # The schema version is filled in, as HttpSink sends it: the server's rules and /metrics read only events
    # that carry one as telemetry.
    return _post_events([{"schema": 1, **e} for e in events], batch_size, configuration, secrets)


def _admin(configuration: Configuration, secrets: Secrets) -> tuple[str, dict[str, str], float]:
    return (f"{settings.server_url(configuration)}/api/v1", settings.admin_headers(configuration, secrets),
            settings.timeout(configuration))


def declare_incident(
    title: str,
    severity: str = "critical",
    by: str = ACTOR,
    incident_type: str | None = None,
    project_id: int | None = None,
    *,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Declare an incident by hand (e.g. to time the response to it); returns its id, status and severity."""
    base, headers, seconds = _admin(configuration, secrets)
    body: dict[str, Any] = {"title": title, "severity": severity, "by": by}
    if incident_type is not None:
        body["incident_type"] = incident_type
    if project_id is not None:
        body["project_id"] = project_id
    incident = call_json("POST", f"{base}/incidents", what="recoup: declare incident", payload=body,
                         headers=headers, timeout=seconds)
    return incident_summary(incident)


def resolve_incident(incident_id: int, by: str = ACTOR, *, configuration: Configuration = None,
                     secrets: Secrets = None) -> dict[str, Any]:
    """Resolve one incident."""
    if isinstance(incident_id, bool) or not isinstance(incident_id, int) or incident_id < 1:
        raise ActivityError(f"incident_id must be a positive integer, got {incident_id!r}")
    base, headers, seconds = _admin(configuration, secrets)
    incident = call_json("POST", f"{base}/incidents/{incident_id}/resolve", what=f"recoup: resolve incident "
                         f"{incident_id}", payload={"by": by}, headers=headers, timeout=seconds)
    return incident_summary(incident)


def resolve_open_incidents(by: str = ACTOR, *, configuration: Configuration = None,
                           secrets: Secrets = None) -> list[int]:
    """Resolve every open incident (a rollback after an experiment that opened some); returns their ids."""
    base, headers, seconds = _admin(configuration, secrets)
    found = call_json("GET", f"{base}/incidents?limit=1000", what="recoup: list incidents", headers=headers,
                      timeout=seconds)
    resolved = []
    for incident in found["incidents"]:
        if incident["status"] != "resolved":
            call("POST", f"{base}/incidents/{incident['id']}/resolve", what=f"recoup: resolve incident "
                 f"{incident['id']}", payload={"by": by}, headers=headers, timeout=seconds, accept=(409,))
            resolved.append(int(incident["id"]))
    return resolved


def silence_alerts(matchers: list[str], duration: str = "30m", comment: str = "", created_by: str = ACTOR, *,
                   configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Silence alerts matching Alertmanager-style ``matchers`` (e.g. ``service="checkout"``) for
    ``duration``: planned chaos should not page anyone. Returns the silence (its ``id`` expires it)."""
    if not isinstance(matchers, list) or not matchers or not all(isinstance(m, str) for m in matchers):
        raise ActivityError(f'matchers must be a non-empty list of strings like \'service="api"\', got {matchers!r}')
    base, headers, seconds = _admin(configuration, secrets)
    result: dict[str, Any] = call_json(
        "POST", f"{base}/silences", what="recoup: create silence", headers=headers, timeout=seconds,
        payload={"matchers": matchers, "duration": duration, "comment": comment, "created_by": created_by},
    )
    return result


def expire_silences(created_by: str = ACTOR, *, configuration: Configuration = None,
                    secrets: Secrets = None) -> list[str]:
    """Expire the active and pending silences created by ``created_by`` (the rollback of `silence_alerts`);
    returns their ids."""
    base, headers, seconds = _admin(configuration, secrets)
    found = call_json("GET", f"{base}/silences", what="recoup: list silences", headers=headers, timeout=seconds)
    expired = []
    for silence in found["silences"]:
        if silence["created_by"] == created_by and silence["state"] != "expired":
            call("DELETE", f"{base}/silences/{_quote(silence['id'])}", what=f"recoup: expire silence "
                 f"{silence['id']!r}", headers=headers, timeout=seconds)
            expired.append(str(silence["id"]))
    return expired

"""``POST /api/v1/alertmanager``: Prometheus Alertmanager's webhook receiver.

Point a receiver at it (see `WEBHOOK_CONFIG_EXAMPLE`); firing and resolved notifications both land in the
store's alerts, one row per episode (fingerprint + startsAt), the resolved one updating the firing one.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from recoup.server.alertmanager import PayloadError, parse_payload
from recoup.server.auth import (
    authorize_ingest,
    bearer_token,
    is_admin_token,
    is_configured_admin_token,
    too_many_requests,
)
from recoup.server.body import read_body
from recoup.server.state import ServerState, get_state
from recoup.store import AlertStatus, InvalidInput, NotFound, ProjectKey, StoreUnavailable

SOURCE = "alertmanager"
RETRY_AFTER_SECONDS = 5

WEBHOOK_CONFIG_EXAMPLE = """\
receivers:
  - name: recoup
    webhook_configs:
      - url: http://recoup.example:8000/api/v1/alertmanager
        send_resolved: true
        max_alerts: 1000            # keep at or below the server's max_events_per_batch
        http_config:
          authorization:            # type defaults to Bearer
            credentials: <the project's ingest key, or an admin token>
"""

router = APIRouter(tags=["ingest"])


def _refusal(status: int, problems: list[tuple[str, str]]) -> JSONResponse:
    """The service's refusal body: ``{"detail": "<field>: <problem>", "field", "errors": [...]}``."""
    field, problem = problems[0]
    errors = [{"field": where, "message": why} for where, why in problems]
    return JSONResponse(status_code=status, content={"detail": f"{field}: {problem}", "field": field, "errors": errors})


async def _authenticate(state: ServerState, request: Request) -> ProjectKey | None:
    """The ingest key the alerts belong to, or None for an admin token (alerts of no project).

    401 without a token or with one that is neither, 403 for a revoked ingest key; 503 when
    the database is needed to decide and cannot be reached."""
    token = bearer_token(request)
    if token is None:
        raise HTTPException(401, "an ingest key or admin token is required (Authorization: Bearer ...)",
                            headers={"WWW-Authenticate": "Bearer"})
    if is_configured_admin_token(state, token):  # before the key lookup, which needs the database
        return None
    if await state.keys.lookup(token) is not None:
        return await authorize_ingest(state.keys, token)
    try:
        admin = await is_admin_token(state, token)
    except StoreUnavailable:
        raise HTTPException(503, "the database is unreachable; cannot verify the token",
                            headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
    if not admin:
        raise HTTPException(401, "unknown ingest key or admin token", headers={"WWW-Authenticate": "Bearer"})
    return None


@router.post("/api/v1/alertmanager", response_model=None)
async def receive_alertmanager_webhook(
    request: Request, state: Annotated[ServerState, Depends(get_state)]
) -> dict[str, Any] | JSONResponse:
    """Record an Alertmanager webhook notification (payload version 4).

    Authorization: ``Bearer <ingest key>`` files the alerts under that key's project (and counts them
    against its rate limit); ``Bearer <admin token>`` stores them without a project.

    Answers 200 with counts only once the alerts are committed. Errors:

    * 400 - the body is not a JSON object; 422 - it is not a version-4 payload. The answer names the field,
      ``{"detail": "alerts[2].startsAt: ...", "field": "alerts[2].startsAt", "errors": [...]}``; nothing
      of the request is stored.
    * 401 - no or unknown credentials; 403 - a revoked ingest key.
    * 413 - the body, or its alert count (over ``max_events_per_batch``; set ``max_alerts`` in the
      webhook_config), is too large.
    * 429 - the ingest key's rate limit is exhausted (``Retry-After`` says when to come back).
    * 503 - the database is unreachable. Alerts are not spooled: Alertmanager retries a notification that
      got a 5xx answer (with backoff, within the flush), so they arrive once the database is back.

    Alertmanager (0.25, checked against the real binary) does not retry a 4xx at once, but as it did not
    record the notification as sent, it sends the group again at the next ``group_interval``: a 429
    delays alerts, it does not lose them.
    """
    started = time.perf_counter()
    status = 500
    metrics = state.metrics
    try:
        answer = await _receive(request, state)
        status = answer.status_code if isinstance(answer, JSONResponse) else 200
        return answer
    except HTTPException as exc:
        status = exc.status_code
        raise
    finally:
        metrics.requests.labels(source=SOURCE, status=str(status)).inc()
        metrics.latency.labels(source=SOURCE).observe(time.perf_counter() - started)


async def _receive(request: Request, state: ServerState) -> dict[str, Any] | JSONResponse:
    metrics = state.metrics
    key = await _authenticate(state, request)
    try:
        body = await read_body(request, state.settings)
    except HTTPException as exc:
        if exc.status_code == 413:
            metrics.dropped.labels(reason="too_large").inc()
        metrics.events.labels(source=SOURCE, outcome="rejected").inc()
        raise
    try:
        payload, alerts = parse_payload(body, max_alerts=state.settings.max_events_per_batch)
    except PayloadError as exc:
        metrics.dropped.labels(reason="too_large" if exc.too_many else "invalid").inc()
        metrics.events.labels(source=SOURCE, outcome="rejected").inc()
        unreadable = exc.problems[0][0] == "body"  # not JSON, or not an object: 400; a bad field: 422
        return _refusal(413 if exc.too_many else 400 if unreadable else 422, exc.problems)

    if key is not None and alerts:
        wait = state.limiter.admit(key, len(alerts))
        if wait is not None:
            metrics.dropped.labels(reason="rate_limited").inc(len(alerts))
            metrics.events.labels(source=SOURCE, outcome="rejected").inc(len(alerts))
            raise too_many_requests(wait)

    project_id = key.project.id if key is not None else None
    try:
        stored = await run_in_threadpool(state.store.record_alerts, alerts, project_id=project_id)
    except StoreUnavailable:
        metrics.db_errors.labels(operation="record_alerts").inc()
        raise HTTPException(503, "the database is unreachable; Alertmanager will retry this notification",
                            headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
    except InvalidInput as exc:  # a value only the database refused; nothing was committed
        metrics.events.labels(source=SOURCE, outcome="rejected").inc(len(alerts))
        return _refusal(422, [("alerts", exc.problem)])
    except NotFound:
        raise HTTPException(403, f"project {project_id} no longer exists") from None

    metrics.events.labels(source=SOURCE, outcome="stored").inc(len(alerts))
    if state.incidents is not None and alerts:
        state.incidents.alertmanager_alerts(alerts, project_id)  # Prometheus's alerts open incidents like recoup's own
    firing = sum(1 for a in alerts if a.status is AlertStatus.FIRING)
    return {
        "received": len(alerts),
        "firing": firing,
        "resolved": len(alerts) - firing,
        "stored": len(stored),  # distinct episodes written (repeats within the notification collapse)
        "project_id": project_id,
        "group_key": payload.groupKey,
    }

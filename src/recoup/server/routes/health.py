"""Probes and metrics. ``/healthz`` says the process answers (restart it when it does not); ``/readyz``
says the database answers too (send traffic when it does); ``/metrics`` is the Prometheus scrape.

They carry no event data, so they need no token: orchestrators and Prometheus reach them without secrets.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from recoup.server.state import ServerState, get_state
from recoup.store import StoreUnavailable

StateDep = Annotated[ServerState, Depends(get_state)]

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """200 while the process serves requests, whatever the database does (a liveness probe)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database does not answer."}})
async def readyz(state: StateDep) -> JSONResponse:
    """200 when the database answers a query, else 503 naming the problem (a readiness probe)."""
    depth = state.pipeline.depth
    try:
        await run_in_threadpool(state.store.ping)
    except StoreUnavailable:
        state.metrics.db_errors.labels(operation="ping").inc()
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "detail": "database: not reachable", "queue_depth": depth},
        )
    except Exception as exc:  # any other failure of the probe query still means "not ready", never a 500
        state.metrics.db_errors.labels(operation="ping").inc()
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "detail": f"database: {type(exc).__name__}", "queue_depth": depth},
        )
    return JSONResponse({"status": "ready", "database": state.store.dialect, "queue_depth": depth})


@router.get("/metrics", response_class=Response)
async def metrics(state: StateDep) -> Response:
    """The service's Prometheus metrics (text exposition format)."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

"""The FastAPI application: builds the shared state, mounts every route module, and runs the background
work (group-commit writer, spool replay, retention) for the app's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from recoup.server.auth import KeyCache, KeyRateLimiter
from recoup.server.errors import install_error_handlers
from recoup.server.metrics import ServerMetrics
from recoup.server.pipeline import GroupCommitPipeline
from recoup.server.routes import alertmanager, health, native, read, sentry
from recoup.server.settings import ServerSettings
from recoup.server.state import ServerState
from recoup.store import Store, open_store

_DESCRIPTION = (
    "Error tracking for recoup: ingest telemetry (native, Sentry SDKs, Alertmanager), group it by fingerprint, "
    "and read it back. Ingest authenticates with a project's key; reads and management with an admin token "
    "(Authorization: Bearer ...). Refusals name the offending field: {\"detail\", \"field\"}."
)
_TAGS = [
    {"name": "ingest", "description": "Native ingest: what recoup.telemetry.HttpSink sends."},
    {"name": "read", "description": "Projects, keys, groups, events and alerts (admin token)."},
    {"name": "health", "description": "Liveness, readiness and Prometheus metrics (no token)."},
]


def create_app(settings: ServerSettings | None = None, *, store: Store | None = None) -> FastAPI:
    """An app over ``store`` (or one opened, and migrated, from ``settings.db_url``)."""
    settings = settings or ServerSettings()
    owns_store = store is None
    the_store = store if store is not None else open_store(settings.db_url)
    metrics = ServerMetrics()
    pipeline = GroupCommitPipeline(the_store, settings, metrics)
    metrics.bind_depth(lambda: float(pipeline.depth))
    state = ServerState(
        settings=settings,
        store=the_store,
        pipeline=pipeline,
        metrics=metrics,
        keys=KeyCache(the_store),
        limiter=KeyRateLimiter(settings.default_rate_limit_per_minute),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from recoup.server.retention import RetentionTask

        retention = RetentionTask(the_store, settings, metrics)
        app.state.retention = retention
        await pipeline.start()
        try:
            await retention.start()
            try:
                yield
            finally:
                await retention.stop()
        finally:
            await pipeline.stop()  # drains: everything accepted is committed or spooled
            if owns_store:
                the_store.close()

    app = FastAPI(
        title="recoup",
        version="0.1.0",
        description=_DESCRIPTION,
        openapi_tags=_TAGS,
        lifespan=lifespan,
    )
    app.state.recoup = state
    install_error_handlers(app)
    for module in (native, sentry, alertmanager, read, health):
        app.include_router(module.router)
    return app

"""The FastAPI application: builds the shared state, mounts every route module, and runs the background
work (group-commit writer, spool replay, retention) for the app's lifetime.

`create_app_from_env` is the factory uvicorn's worker processes call (``recoup serve --workers N`` runs
``uvicorn.run("recoup.server.app:create_app_from_env", factory=True, workers=N)``): it reads the settings
`recoup serve` put in $RECOUP_SERVER_SETTINGS and does not migrate (the parent did, once)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from recoup.server.auth import KeyCache, KeyRateLimiter
from recoup.server.errors import install_error_handlers
from recoup.server.metrics import ServerMetrics
from recoup.server.observers import ObservedPipeline
from recoup.server.pipeline import GroupCommitPipeline
from recoup.server.routes import alertmanager, analytics, health, incidents, native, read, sentry
from recoup.server.settings import SETTINGS_ENV, ServerSettings
from recoup.server.state import ServerState
from recoup.store import Store, open_store

if TYPE_CHECKING:
    from recoup.incidents.engine import IncidentEngine

_log = logging.getLogger(__name__)

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


def create_app(settings: ServerSettings | None = None, *, store: Store | None = None, migrate: bool = True) -> FastAPI:
    """An app over ``store`` (or one opened, and migrated unless ``migrate=False``, from ``settings.db_url``)."""
    settings = settings or ServerSettings()
    from recoup.server.enrich import install_fingerprint_rules

    install_fingerprint_rules(settings.fingerprint_rules)  # custom grouping rules, in every worker process
    owns_store = store is None
    the_store = store if store is not None else open_store(settings.db_url, migrate=migrate)
    metrics = ServerMetrics()
    pipeline = GroupCommitPipeline(the_store, settings, metrics)
    metrics.bind_depth(lambda: float(pipeline.depth))
    observed = ObservedPipeline(pipeline)
    state = ServerState(
        settings=settings,
        store=the_store,
        pipeline=observed,
        metrics=metrics,
        keys=KeyCache(the_store),
        limiter=KeyRateLimiter(settings.default_rate_limit_per_minute, workers=settings.workers),
    )
    _add_signal_metrics(state, observed)
    state.incidents = _incident_engine(settings, the_store, observed)
    engine = state.incidents
    _add_incident_metrics(state)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from recoup.server.retention import RetentionTask

        retention = RetentionTask(the_store, settings, metrics)
        app.state.retention = retention
        await pipeline.start()
        try:
            await retention.start()
            if engine is not None:
                await engine.start()
            try:
                yield
            finally:
                if engine is not None:
                    await engine.stop()
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
    for module in (native, sentry, alertmanager, read, incidents, analytics, health):
        # The routes themselves, not the router: FastAPI re-walks included routers on every request
        # (about a tenth of the CPU of a Sentry envelope), and ours have no prefix or dependencies of their own.
        app.router.routes.extend(module.router.routes)
    return app


def _add_signal_metrics(state: ServerState, observed: ObservedPipeline) -> None:
    """recoup's catalogue series (recoup.incidents.catalogue) on /metrics, fed by every stored batch, so
    Prometheus can evaluate the exported rules over the same counts the in-process evaluator uses."""
    from recoup.server.signal_metrics import SignalMetrics

    signals = SignalMetrics(state.metrics.registry)
    observed.add(signals.observer(str))


def _incident_engine(settings: ServerSettings, store: Store, observed: ObservedPipeline) -> IncidentEngine | None:
    """The incident engine when incident response is on; it needs every event, so with several worker
    processes (each seeing a share) it stays off and says so."""
    if not settings.incidents_enabled:
        return None
    if settings.workers > 1:
        _log.warning("incident response is off: with %d workers each would see only part of the events; "
                     "run one worker for in-process rules, or use the exported Prometheus rules", settings.workers)
        return None
    from recoup.incidents.config import load_incidents_config
    from recoup.incidents.engine import IncidentEngine

    config = load_incidents_config(settings.incidents_config)
    public = settings.public_url.rstrip("/")
    engine = IncidentEngine(
        store, config, evaluation_interval=settings.evaluation_interval_seconds,
        url=lambda incident_id: f"{public}/api/v1/incidents/{incident_id}",
    )
    observed.add(engine.observe_events)
    return engine


def _add_incident_metrics(state: ServerState) -> None:
    if state.incidents is not None:
        from recoup.server.incident_metrics import IncidentCollector

        state.metrics.registry.register(IncidentCollector(state.incidents))


def create_app_from_env() -> FastAPI:
    """The app of one uvicorn worker process: settings from $RECOUP_SERVER_SETTINGS (`ServerSettings.to_json`,
    defaults when unset), the database already migrated by the parent."""
    text = os.environ.get(SETTINGS_ENV)
    settings = ServerSettings.from_json(text) if text else ServerSettings()
    return create_app(settings, migrate=False)

"""The FastAPI application: builds the shared state, mounts every route module, and runs the background
work (group-commit writer, spool replay, retention) for the app's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from recoup.server.auth import KeyCache, KeyRateLimiter
from recoup.server.metrics import ServerMetrics
from recoup.server.pipeline import GroupCommitPipeline
from recoup.server.routes import alertmanager, health, native, read, sentry
from recoup.server.settings import ServerSettings
from recoup.server.state import ServerState
from recoup.store import Store, open_store


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
        await pipeline.start()
        try:
            yield
        finally:
            await pipeline.stop()
            if owns_store:
                the_store.close()

    app = FastAPI(title="recoup", version="0.1.0", lifespan=lifespan)
    app.state.recoup = state
    for module in (native, sentry, alertmanager, read, health):
        app.include_router(module.router)
    return app

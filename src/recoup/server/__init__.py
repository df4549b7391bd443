"""`recoup serve`: the service that makes the event stream durable and shared.

Applications using recoup (the HTTP sink), any Sentry SDK and Prometheus Alertmanager send here; the
events are classified, grouped and committed to the store (SQLite by default, PostgreSQL to scale).
Needs the ``server`` extra; ``import recoup`` never loads this package.

    app = create_app(ServerSettings(db_url="sqlite:///recoup.db"))
"""

from __future__ import annotations

from recoup.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> object:
    # create_app pulls in FastAPI; keep `from recoup.server import ServerSettings` light for the CLI.
    if name == "create_app":
        from recoup.server.app import create_app

        return create_app
    raise AttributeError(name)

"""A real recoup server for tests: `recoup.server.embedded.EmbeddedServer` (uvicorn serving `create_app`
on a free 127.0.0.1 port in a thread), seen through `LiveServer`, with one project, its ingest key and an
admin token ready to use."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from recoup.server import ServerSettings
from recoup.server.embedded import EmbeddedServer
from recoup.store import Project, ProjectKey, Store

ADMIN_TOKEN = "test-admin-token-0123456789"


@dataclass(frozen=True)
class LiveServer:
    url: str  # http://127.0.0.1:PORT
    store: Store  # a second handle on the server's database, for assertions
    settings: ServerSettings
    project: Project
    key: ProjectKey
    admin_token: str

    @property
    def dsn(self) -> str:
        """The Sentry DSN of the project: http://KEY@HOST:PORT/PROJECT_ID."""
        scheme, _, host = self.url.partition("://")
        return f"{scheme}://{self.key.public_key}@{host}/{self.project.id}"

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    @property
    def ingest_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key.public_key}"}


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live_server(settings: ServerSettings) -> Iterator[LiveServer]:
    """Serve ``settings`` (with the test admin token) until the block ends; the database is migrated and
    seeded first."""
    with EmbeddedServer(replace(settings, admin_token=ADMIN_TOKEN), project_name="Checkout API") as server:
        yield LiveServer(
            url=server.url,
            store=server.store,
            settings=server.settings,
            project=server.project,
            key=server.key,
            admin_token=ADMIN_TOKEN,
        )

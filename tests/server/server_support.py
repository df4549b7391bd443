"""A real recoup server for tests: uvicorn serving `create_app` on a free 127.0.0.1 port in a thread,
with one project, its ingest key and an admin token ready to use."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import uvicorn

from recoup.server import ServerSettings, create_app
from recoup.store import Project, ProjectKey, Store, open_store

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
    """Serve ``settings`` until the block ends; the database is migrated and seeded first."""
    settings = replace(settings, admin_token=ADMIN_TOKEN)
    store = open_store(settings.db_url)
    try:
        project, key = store.create_project("Checkout API")
        sock = free_socket()
        port = sock.getsockname()[1]
        settings = replace(settings, public_url=f"http://127.0.0.1:{port}")
        app = create_app(settings)
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        try:
            yield LiveServer(
                url=f"http://127.0.0.1:{port}",
                store=store,
                settings=settings,
                project=project,
                key=key,
                admin_token=ADMIN_TOKEN,
            )
        finally:
            server.should_exit = True
            thread.join(timeout=20)
            sock.close()
    finally:
        store.close()

"""A recoup server inside the current process: uvicorn serving `create_app` on a free 127.0.0.1 port in a
background thread, with a project, its ingest key and an admin token ready to use.

`recoup assess` starts one when no ``--server`` is given, and tests use it as a real server::

    with EmbeddedServer() as server:            # a fresh SQLite file in a temporary folder
        sink = HttpSink(server.url, api_key=server.ingest_key)
        httpx.get(f"{server.url}/openapi.json", headers=server.admin_headers)

Leaving the block stops uvicorn (graceful shutdown, the app's lifespan runs to the end), closes the
store handle and removes the temporary folder if the server made one.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import uvicorn

from recoup.server.app import create_app
from recoup.server.settings import ServerSettings
from recoup.store import Project, ProjectKey, Store, open_store

T = TypeVar("T")


def _bind_free_port(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


class EmbeddedServer:
    """A running server for the duration of a ``with`` block (or between `start` and `stop`).

    ``settings`` wins when given (its ``public_url`` is replaced by the real address); otherwise the
    database is ``db_url``, or a SQLite file ``recoup.db`` in ``data_dir`` (a temporary folder when None,
    removed at `stop`), and the spool lives next to it. The admin token is created in the store (hashed),
    so a token from ``RECOUP_ADMIN_TOKEN`` keeps working alongside it.
    """

    def __init__(
        self,
        settings: ServerSettings | None = None,
        *,
        db_url: str | None = None,
        data_dir: Path | None = None,
        project_name: str = "recoup embedded",
        host: str = "127.0.0.1",
        start_timeout: float = 30.0,
        log_level: str = "warning",
    ) -> None:
        if settings is not None and (db_url is not None or data_dir is not None):
            raise ValueError("pass either settings or db_url/data_dir, not both")
        self._given_settings = settings
        self._db_url = db_url
        self._data_dir = data_dir
        self._project_name = project_name
        self._host = host
        self._start_timeout = start_timeout
        self._log_level = log_level
        self._temp_dir: str | None = None
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._store: Store | None = None
        self._url: str | None = None
        self._settings: ServerSettings | None = None
        self._project: Project | None = None
        self._key: ProjectKey | None = None
        self._admin_token: str | None = None

    # -- what a client needs ----------------------------------------------------------------------

    @staticmethod
    def _require(value: T | None) -> T:
        if value is None:
            raise RuntimeError("the embedded server is not running (use it inside `with` or call start())")
        return value

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the base URL (HttpSink appends ``/api/v1/events`` itself)."""
        return self._require(self._url)

    @property
    def settings(self) -> ServerSettings:
        return self._require(self._settings)

    @property
    def store(self) -> Store:
        """A second handle on the server's database, for set-up and assertions."""
        return self._require(self._store)

    @property
    def project(self) -> Project:
        return self._require(self._project)

    @property
    def key(self) -> ProjectKey:
        return self._require(self._key)

    @property
    def ingest_key(self) -> str:
        return self.key.public_key

    @property
    def admin_token(self) -> str:
        return self._require(self._admin_token)

    @property
    def db_url(self) -> str:
        return self.settings.db_url

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    @property
    def ingest_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ingest_key}"}

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- life cycle -------------------------------------------------------------------------------

    def _base_settings(self) -> ServerSettings:
        if self._given_settings is not None:
            return self._given_settings
        folder = self._data_dir
        if folder is None:
            self._temp_dir = tempfile.mkdtemp(prefix="recoup-embedded-")
            folder = Path(self._temp_dir)
        folder.mkdir(parents=True, exist_ok=True)
        db_url = self._db_url or f"sqlite:///{folder / 'recoup.db'}"
        return ServerSettings(db_url=db_url, spool_dir=folder / "spool")

    def start(self) -> EmbeddedServer:
        """Migrate and seed the database, then serve; returns once uvicorn accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the embedded server was already started")
        try:
            settings = self._base_settings()
            self._store = open_store(settings.db_url)
            self._project, self._key = self._store.create_project(self._project_name)
            self._admin_token, _ = self._store.create_admin_token(f"{self._project_name} (embedded server)")
            self._sock = _bind_free_port(self._host)
            port = self._sock.getsockname()[1]
            self._url = f"http://{self._host}:{port}"
            self._settings = replace(settings, public_url=self._url)
            config = uvicorn.Config(
                create_app(self._settings),
                log_level=self._log_level,
                lifespan="on",
                access_log=False,
                timeout_graceful_shutdown=5,
            )
            self._server = uvicorn.Server(config)
            self._thread = threading.Thread(target=self._serve, name="recoup-embedded-server", daemon=True)
            self._thread.start()
            deadline = time.monotonic() + self._start_timeout
            while not self._server.started:
                if not self._thread.is_alive():
                    raise RuntimeError(f"the embedded server stopped while starting: {self._failure!r}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the embedded server did not start within {self._start_timeout:g} s")
                time.sleep(0.005)
        except BaseException:
            self.stop()
            raise
        return self

    def _serve(self) -> None:
        assert self._server is not None and self._sock is not None
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # reported by start(); a daemon thread has nobody else to tell
            self._failure = exc

    def stop(self, timeout: float = 20.0) -> None:
        """Graceful shutdown (idempotent): stop accepting, finish requests, run the lifespan's end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                assert self._server is not None
                self._server.force_exit = True
                self._thread.join(5.0)
        if self._sock is not None:
            self._sock.close()
        if self._store is not None:
            self._store.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
        self._server = self._thread = self._sock = self._store = None
        self._temp_dir = None
        self._url = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

"""Probes: liveness always answers, readiness follows the database (a real unreachable one for the 503),
and /metrics is a Prometheus scrape in the right content type."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from server_support import LiveServer, free_socket

from recoup.server import ServerSettings, create_app
from recoup.store import Store, create_store_engine


def test_probes_and_metrics_on_a_healthy_server(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert ready.json()["database"] == server.store.dialect

        answer = client.get("/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == CONTENT_TYPE_LATEST  # the text exposition format
        assert answer.headers["content-type"].startswith("text/plain; version=")
        names = {family.name for family in text_string_to_metric_families(answer.text)}
        assert {"recoup_ingest_events", "recoup_ingest_requests", "recoup_ingest_queue_depth"} <= names


@contextmanager
def _serve(app: object) -> Iterator[str]:
    sock = free_socket()
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def test_readiness_is_503_while_the_database_is_unreachable(tmp_path: Path) -> None:
    # Nothing listens on port 1: every connection attempt is refused, as when PostgreSQL is down.
    dead = Store(create_store_engine("postgresql://postgres@127.0.0.1:1/recoup", connect_args={"connect_timeout": 2}))
    app = create_app(ServerSettings(db_url="postgresql://postgres@127.0.0.1:1/recoup", spool_dir=tmp_path), store=dead)
    try:
        with _serve(app) as url:
            client = httpx.Client(base_url=url, timeout=10)
            assert client.get("/healthz").status_code == 200  # alive, only not ready
            answer = client.get("/readyz")
            assert answer.status_code == 503
            assert answer.json()["status"] == "unavailable"
            assert "database" in answer.json()["detail"]
            metrics = client.get("/metrics").text
            assert 'recoup_database_errors_total{operation="ping"} 1.0' in metrics
            # an admin read while the database is down is a 503 too, not a 500
            projects = client.get("/api/v1/projects", headers={"Authorization": "Bearer " + "x" * 30})
            assert projects.status_code == 503
            client.close()
    finally:
        dead.close()

"""`EmbeddedServer`: a real uvicorn server in a thread, seeded with a project, an ingest key and an admin
token, that takes events from the library's `HttpSink` and shuts down cleanly."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from recoup.server import ServerSettings
from recoup.server.embedded import EmbeddedServer
from recoup.telemetry.events import BreakerTransitionEvent, ErrorEvent
from recoup.telemetry.http_sink import HttpSink


def _refuses(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, int(port))) != 0


def test_serves_seeded_project_on_both_databases(db_url: str, tmp_path: Path) -> None:
    with EmbeddedServer(ServerSettings(db_url=db_url, spool_dir=tmp_path / "spool")) as server:
        assert server.running and server.url.startswith("http://127.0.0.1:")
        assert server.settings.public_url == server.url
        projects = httpx.get(f"{server.url}/api/v1/projects", headers=server.admin_headers, timeout=10)
        assert projects.status_code == 200
        assert [p["id"] for p in projects.json()["projects"]] == [server.project.id]
        assert server.store.get_project_by_key(server.ingest_key) == server.key
        assert server.store.verify_admin_token(server.admin_token)
        assert httpx.get(f"{server.url}/api/v1/projects", headers=server.ingest_headers, timeout=10).status_code == 403
        url = server.url
    assert not server.running
    assert _refuses(url)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


def test_takes_http_sink_events_and_reads_them_back(tmp_path: Path) -> None:
    with EmbeddedServer(data_dir=tmp_path) as server:
        sink = HttpSink(server.url, api_key=server.ingest_key, flush_interval=0.01, close_at_exit=None)
        try:
            events = [
                ErrorEvent.from_exception(ConnectionRefusedError("refused"), operation="op", classify=True),
                BreakerTransitionEvent(breaker="db", from_state="closed", to_state="open"),
            ]
            for event in events:
                sink.emit(event)
            assert sink.flush(10)
        finally:
            sink.close(5)
        assert sink.stats.sent == 2 and sink.stats.failed == 0
        for event in events:
            answer = httpx.get(
                f"{server.url}/api/v1/projects/{server.project.id}/events/{event.id}",
                headers=server.admin_headers,
                timeout=10,
            )
            assert answer.status_code == 200
            assert answer.json()["payload"]["type"] == event.event_type
        assert server.store.count_events(server.project.id) == 2
    # data_dir was given: the database stays for inspection
    assert (tmp_path / "recoup.db").exists()


def test_temporary_folder_is_removed_and_start_is_once_only() -> None:
    server = EmbeddedServer()
    server.start()
    try:
        folder = Path(server.db_url.removeprefix("sqlite:///")).parent
        assert folder.is_dir()
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
    finally:
        server.stop()
    assert not folder.exists()
    server.stop()  # idempotent


def test_a_database_that_cannot_open_fails_start_cleanly() -> None:
    server = EmbeddedServer(db_url="postgresql://postgres@127.0.0.1:1/nothing_listens_here")
    with pytest.raises(Exception):  # noqa: B017 - the driver's error, whatever its class
        server.start()
    assert not server.running


def test_settings_and_db_url_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="either settings"):
        EmbeddedServer(ServerSettings(), data_dir=tmp_path)

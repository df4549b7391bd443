"""`recoup serve`, `recoup projects` and `recoup admin` as an operator runs them on a fresh SQLite file:
the server is a real subprocess; the set-up commands run in-process through typer's runner (the same
command code, without paying an interpreter start for each), and they meet only through the database
and HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from recoup.cli import app
from recoup.store import open_store
from recoup.telemetry.events import ErrorEvent


def _recoup(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`recoup serve` on a fresh SQLite file (configured from the environment); yields (url, db URL)."""
    db = f"sqlite:///{tmp_path / 'fresh.db'}"
    port = _free_port()
    env = {
        **os.environ,
        "RECOUP_DB_URL": db,
        "RECOUP_PORT": str(port),
        "RECOUP_SPOOL_DIR": str(tmp_path / "spool"),
        "RECOUP_LOG_LEVEL": "warning",
    }
    env.pop("RECOUP_ADMIN_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "recoup", "serve", "--host", "127.0.0.1", "--retention-days", "7", "--rate-limit", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"recoup serve exited {process.returncode}: {process.stderr.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "recoup serve did not become ready"
            time.sleep(0.05)
        yield url, db
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_projects_and_tokens_work_together(served: tuple[str, str]) -> None:
    url, db = served
    ready = httpx.get(f"{url}/readyz", timeout=5).json()
    assert ready["status"] == "ready" and ready["database"] == "sqlite"

    created = _recoup("projects", "create", "Checkout API", "--db", db, "--public-url", url)
    assert created.exit_code == 0, created.output
    key = re.search(r"ingest key: ([0-9a-f]{32})", created.stdout)
    assert key is not None, created.stdout
    public_key = key.group(1)
    host = url.removeprefix("http://")
    assert f"DSN:        http://{public_key}@{host}/1" in created.stdout
    assert f"ingest URL: {url}/api/v1/events" in created.stdout

    token_run = _recoup("admin", "create-token", "--name", "ci", "--db", db)
    assert token_run.exit_code == 0, token_run.output
    token = token_run.stdout.strip()
    assert token.startswith("rcp_") and len(token) > 40
    assert "not shown again" in token_run.stderr
    with open_store(db) as store:
        assert store.verify_admin_token(token)
        (record,) = store.list_admin_tokens()
        assert record.name == "ci" and token not in repr(record)  # only a hash and a prefix are kept

    # the running server sees what the commands created: the key ingests, the token reads
    event = ErrorEvent(exception_type="OSError", message="disk full", fingerprint="fp").to_dict()
    sent = httpx.post(f"{url}/api/v1/events", json={"events": [event]}, headers={"X-Recoup-Key": public_key})
    assert sent.status_code == 200 and sent.json()["accepted"] == 1
    admin = {"Authorization": f"Bearer {token}"}
    projects = httpx.get(f"{url}/api/v1/projects", headers=admin, timeout=5).json()["projects"]
    assert [p["name"] for p in projects] == ["Checkout API"]
    groups = httpx.get(f"{url}/api/v1/projects/1/groups", headers=admin, timeout=5).json()["groups"]
    assert groups[0]["count"] == 1

    listed = _recoup("projects", "list", "--db", db, "--public-url", url)
    assert listed.exit_code == 0
    assert "1\tcheckout-api\tCheckout API" in listed.stdout
    assert f"http://{public_key}@{host}/1" in listed.stdout


def test_project_commands_refuse_bad_input(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    empty = _recoup("projects", "list", env={"RECOUP_DB_URL": db})
    assert empty.exit_code == 0 and "no projects yet" in empty.stdout, empty.output
    blank = _recoup("projects", "create", "   ", "--db", db)
    assert blank.exit_code == 2 and "name" in blank.stderr, blank.output
    unreachable = _recoup("projects", "list", "--db", "postgresql://postgres@127.0.0.1:1/recoup")
    assert unreachable.exit_code == 1, unreachable.output
    assert "cannot reach the database" in unreachable.stderr, unreachable.output
    bad_url = _recoup("serve", "--db", db, "--public-url", "ftp://example.com")
    assert bad_url.exit_code == 2 and "public_url" in bad_url.stderr, bad_url.output


def test_serve_refuses_an_unusable_incidents_config_before_serving(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    config = tmp_path / "incidents.yaml"
    config.write_text("rules:\n  - name: Bad\n    metric: nope\n")
    refused = _recoup("serve", "--db", db, "--port", "0", "--incidents-config", str(config))
    assert refused.exit_code == 1, refused.output
    assert "incidents configuration cannot be used" in refused.stderr
    assert "rules[0] (Bad).metric: unknown metric 'nope'" in refused.stderr, refused.stderr

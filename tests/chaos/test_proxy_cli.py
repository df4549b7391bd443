"""``recoup chaos proxy``: bad input exits non-zero with a specific message; a real run proxies and stops on SIGINT."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import typer
from test_proxy_support import Upstream
from typer.testing import CliRunner

from recoup.cli_chaos import register

# the chaos commands on an app of their own, so these tests don't depend on how recoup.cli wires them
APP_SCRIPT = """
import typer
from recoup.cli_chaos import register
app = typer.Typer()
@app.callback()
def main() -> None:
    pass
register(app)
app()
"""


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        pass

    register(app)
    return app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--upstream", "127.0.0.1:5432", "--toxic", "latency:latency=100,jiter=10"],
            "bad --toxic 'latency:latency=100,jiter=10': unknown attribute(s) for latency toxic: jiter",
        ),
        (["--upstream", "127.0.0.1:5432", "--toxic", "lag:latency=1"], "invalid toxic type: 'lag'"),
        (["--toxic", "latency:latency=1"], "--toxic needs --upstream"),
        (["--upstream", "localhost"], "--upstream must be 'host:port', got 'localhost'"),
        (["--upstream", "127.0.0.1:5432", "--listen", "127.0.0.1:99999"], "port 99999 outside 0-65535"),
        (["--control", "10.1.2.3:8474"], "must be a loopback address"),
    ],
)
def test_bad_input_exits_non_zero_with_a_specific_message(args: list[str], message: str) -> None:
    result = CliRunner().invoke(_app(), ["chaos", "proxy", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_bad_config_file(tmp_path: Path) -> None:
    path = tmp_path / "proxies.json"
    path.write_text('[{"name": "pg"}]')
    result = CliRunner().invoke(_app(), ["chaos", "proxy", "--control", "127.0.0.1:0", "--config", str(path)])
    assert result.exit_code == 2
    assert "missing required field: upstream" in result.output


def test_quick_proxy_runs_applies_its_toxic_and_stops_on_ctrl_c(http_upstream: Upstream) -> None:
    command = [sys.executable, "-c", APP_SCRIPT, "chaos", "proxy", "--upstream", http_upstream.address]
    command += [
        "--toxic",
        "http_status:stream=upstream,status=503,retry_after=3,path=/api/*",
        "--control",
        "127.0.0.1:0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("proxy proxy listening on 127.0.0.1:"), lines
        port = int(lines[0].split(" -> ")[0].rpartition(":")[2])
        control_url = lines[2].strip().rpartition(" on ")[2]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/api/x")
        response = conn.getresponse()
        assert (response.status, response.getheader("Retry-After")) == (503, "3")
        response.read()
        conn.request("GET", "/home")
        assert conn.getresponse().read() == b"ok GET /home"
        conn.close()
        with urllib.request.urlopen(control_url + "/proxies", timeout=5) as listed:
            assert json.loads(listed.read())["proxy"]["toxics"][0]["type"] == "http_status"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped")

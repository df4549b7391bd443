"""`recoup load` end to end against a real HTTP server: exit codes 0/1/2 and the files it writes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from load_server import LocalServer
from typer.testing import CliRunner

from recoup.cli_load import register
from recoup.load.histogram import Histogram


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """A stand-in for recoup's app (the lead wires `register` into recoup.cli)."""

    return app


def _run(*args: str) -> tuple[int, str]:
    wide = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}  # keep error panels on one line
    result = CliRunner().invoke(_app(), ["load", *args], catch_exceptions=False, env=wide)
    return result.exit_code, result.output


def test_passing_thresholds_exit_0_and_write_the_reports(http_server: LocalServer, tmp_path: Path) -> None:
    code, output = _run(http_server.url + "/ok", "--rate", "40", "--duration", "0.5s", "--no-live",
                        "-t", "p99 < 2s", "-t", "error_rate < 1%", "-t", "throughput >= 10/s", "--out", str(tmp_path))
    assert code == 0, output
    assert "p99.9" in output and "pass" in output
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["passed"] is True and data["completed"] == 20 and data["status_codes"] == {"200": 20}
    assert [t["threshold"] for t in data["thresholds"]] == ["p99 < 2s", "error_rate < 1%", "throughput >= 10/s"]
    hist = Histogram.from_dict(data["histogram"])
    assert hist.count == 20 and hist.max / 1e6 == pytest.approx(data["latency_s"]["max"])
    assert Histogram.from_string((tmp_path / "histogram.txt").read_text().strip()) == hist
    summary = (tmp_path / "summary.md").read_text()
    assert "| `p99 < 2s` |" in summary and "all thresholds passed" in summary
    html = (tmp_path / "report.html").read_text()
    assert html.count("<svg") >= 3 and "Latency distribution" in html


def test_a_failing_threshold_exits_1(http_server: LocalServer, tmp_path: Path) -> None:
    code, output = _run(http_server.url + "/status/500", "--rate", "40", "--duration", "0.25s", "--no-live",
                        "-t", "error_rate < 1%", "-t", "p99 < 10s", "--out", str(tmp_path))
    assert code == 1, output
    assert "FAIL" in output and "1 of 2 thresholds failed" in output
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["passed"] is False and data["error_categories"] == {"service": 10}
    assert "**FAIL**" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["http://127.0.0.1:9/", "-t", "p99 < 2"], "give p99's bound a unit"),
    (["http://127.0.0.1:9/", "--rate", "10", "--vus", "2"], "choose one of --rate, --ramp and --vus"),
    (["http://127.0.0.1:9/", "--ramp", "10:oops:5s"], "rates must be numbers"),
    (["http://127.0.0.1:9/", "--ramp", "10:20:5s", "--ramp", "30:40:5s"], "previous stage ended at 20/s"),
    (["http://127.0.0.1:9/", "--duration", "forever"], "is not a duration"),
    (["no_such_module_xyz:op"], "cannot load"),
    (["not a target"], "neither an http(s):// URL nor module:function"),
    (["http://127.0.0.1:9/", "--header", "no colon"], "is not 'Name: value'"),
    (["http://127.0.0.1:9/", "--max-in-flight", "0"], "must be >= 1"),
    (["http://127.0.0.1:9/", "--rate", "-5"], "rate must be"),
    (["http://127.0.0.1:9/", "--client", "wire"], "'wire' is not one of 'aiohttp', 'httpx'"),
    (["h4_no_module:op", "--client", "httpx"], "only apply to an http(s):// URL target"),
    (["h4_no_module:op", "--method", "POST"], "only apply to an http(s):// URL target"),
    (["h4_no_module:op", "--insecure"], "only apply to an http(s):// URL target"),
    (["https://127.0.0.1:9/", "--insecure", "--ca-file", __file__], "contradict each other"),
    (["https://127.0.0.1:9/", "--ca-file", "/nonexistent/ca.pem"], "is not a readable file"),
])
def test_bad_usage_exits_2_with_the_reason(args: list[str], message: str) -> None:
    code, output = _run(*args, "--no-live")
    assert code == 2, output
    assert message in " ".join(output.split()), output


def test_the_client_choices_are_the_targets_clients() -> None:
    from recoup.cli_load import Client
    from recoup.load.http import CLIENTS

    assert tuple(choice.value for choice in Client) == CLIENTS


def test_an_async_function_target_and_a_ramp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "h4_load_target.py").write_text(textwrap.dedent("""
        calls = 0

        async def op():
            global calls
            calls += 1
            if calls % 4 == 0:
                raise ConnectionResetError("reset by peer")

        def not_async():
            pass
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, output = _run("h4_load_target:op", "--ramp", "0:40:0.5s", "--ramp", "40:0.25s", "--no-live",
                        "-t", "error_rate <= 25%", "--out", "out")
    assert code == 0, output
    data = json.loads((tmp_path / "out" / "result.json").read_text())
    assert data["mode"] == "ramp" and data["scheduled"] == 20  # 10 ramping up, 10 at 40/s
    assert data["error_categories"] == {"network": 5}
    code, output = _run("h4_load_target:not_async", "--no-live")
    assert code == 2 and "must be an async function" in output


def test_the_live_display_and_real_process_exit_code(http_server: LocalServer, tmp_path: Path) -> None:
    """A real `python -m` process with the live display forced on: exit code 1 reaches the shell."""
    script = textwrap.dedent(f"""
        import typer
        from recoup.cli_load import register
        app = typer.Typer()
        register(app)
        @app.callback()
        def main() -> None: pass
        app(["load", "{http_server.url}/ok", "--rate", "20", "--duration", "0.5s", "--live",
             "-t", "p99 < 1us"])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "rate" in done.stdout and "in flight" in done.stdout and "p99 < 1us" in done.stdout

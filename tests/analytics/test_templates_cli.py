"""`recoup templates` as a user runs it: lines in, one JSON line out per line, ids kept with --state."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from recoup.cli_analytics import register

LINES = [
    "2024-05-01 10:00:01,123 INFO [main] app.Jobs: job 1 done in 7 ms",
    "2024-05-01 10:00:02,123 INFO [main] app.Jobs: job 2 done in 14 ms",
    "plain message without a header from host-3",
    "",
    "2024-05-01 10:00:03,123 WARN [main] app.Net: retrying host-4.local port 80",
]


# `recoup templates` in a real process, for the streaming tests (the lead wires `register` into recoup.cli)
ENTRY = (
    "import typer\nfrom recoup.cli_analytics import register\napp = typer.Typer()\nregister(app)\n"
    "@app.callback()\ndef root() -> None: pass\napp()\n"
)


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """recoup (test entry point: the lead wires `register` into recoup.cli)."""

    return app


def _run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(_app(), ["templates", *args], input=stdin)


def test_one_json_line_per_input_line_in_order(tmp_path: Path) -> None:
    result = _run(stdin="\n".join(LINES) + "\n")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(LINES)
    assert all(set(r) == {"template_id", "template", "parameters"} for r in records)
    assert records[0]["template_id"] == records[1]["template_id"]
    assert records[1]["template"] == "job <*> done in <*>"
    assert records[1]["parameters"] == ["2", "14 ms"]
    assert records[2]["template"] == "plain message without a header from <*>"
    assert records[3]["template"] == ""

    source = tmp_path / "in.log"
    source.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    from_file = _run(str(source))
    assert from_file.exit_code == 0 and from_file.stdout == result.stdout


def test_state_keeps_ids_across_runs(tmp_path: Path) -> None:
    state = tmp_path / "ids.json"
    first = _run("--state", str(state), stdin="\n".join(LINES[:2]) + "\n")
    assert first.exit_code == 0 and state.exists()
    second = _run("--state", str(state), stdin=LINES[1].replace("job 2", "job 99") + "\n")
    assert json.loads(second.stdout)["template_id"] == json.loads(first.stdout.splitlines()[0])["template_id"]


def test_state_is_saved_while_the_stream_runs(tmp_path: Path) -> None:
    state = tmp_path / "ids.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "templates", "--state", str(state), "--save-every", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("disk 3 is failing\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())
        saved = json.loads(state.read_text(encoding="utf-8"))  # on disk while the stream is still open
        assert [t["id"] for t in saved["templates"]] == [first["template_id"]]
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_bad_input_gives_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "ids.json"
    state.write_text('{"schema": "something else"}', encoding="utf-8")
    result = _run("--state", str(state), stdin="x\n")
    assert result.exit_code == 1
    assert "'schema'" in result.stderr
    assert state.read_text(encoding="utf-8") == '{"schema": "something else"}'
    missing = _run(str(tmp_path / "nope.log"))
    assert missing.exit_code == 1 and "cannot read" in missing.stderr


def test_streams_a_line_out_before_the_next_line_in() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "templates"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("worker 1 started\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())  # answered while stdin is still open
        proc.stdin.write("worker 2 started\n")
        proc.stdin.flush()
        second = json.loads(proc.stdout.readline())
        assert first["template_id"] == second["template_id"] and second["parameters"] == ["2"]
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_undecodable_bytes_do_not_stop_the_stream() -> None:
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "templates"],
        input=b"bad \xff\xfe bytes 12\nbad \xff\xfe bytes 13\n",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    assert len(records) == 2 and records[0]["template_id"] == records[1]["template_id"]
    assert records[1]["parameters"] == ["13"]

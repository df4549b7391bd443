"""Helpers of batch 45: a TLS server on 127.0.0.1 with a self-signed certificate no client trusts, and the
runner that writes each Erlang (escript) or Elixir (.exs) case to a world-readable script directory and runs it,
as root or as `nobody`, with a lowered open-file limit when the case asks for one."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from checked import ToolCase
from cloudapi import ANSWERS
from common import Env


class _NoRetryHandler(http.server.BaseHTTPRequestHandler):
    """`/<name>/...` answers the status and body of cloudapi's ANSWERS[name] without a Retry-After header (httpc
    waits and retries a 503 that carries one, for as long as the server keeps answering it)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _answer(self) -> None:
        status, ctype, body = ANSWERS[self.path.lstrip("/").split("/")[0]]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


def no_retry_api(env: Env) -> str:
    """Start the server above on a free port; returns its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoRetryHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}"




#: every escript compiles (so its stack shows real lines) and flushes logger before it halts with `stop(Code)`
ESCRIPT_HEAD = ("#!/usr/bin/env escript\n%%! -noinput\n-mode(compile).\n-compile(nowarn_unused_function).\n\n"
                "stop(Code) -> logger_std_h:filesync(default), halt(Code).\n\n")


@dataclass(frozen=True)
class BeamCase:
    """One script: `lang` is `erl` (an escript body: the text after `main(_) ->`, plus helper functions) or
    `exs` (an Elixir script); `user` runs it as that user; `nofile` lowers `ulimit -n` first."""

    name: str
    category: str
    token: str
    lang: str
    body: str
    user: str = ""
    nofile: int = 0


def script_dir(env: Env) -> Path:
    """A directory every user can read the scripts from (the batch directory is opened to 0755 for it)."""
    os.chmod(env.tmp, 0o755)
    scripts = env.tmp / "scripts45"
    scripts.mkdir(exist_ok=True)
    os.chmod(scripts, 0o755)
    return scripts


def beam_tool_cases(cases: list[BeamCase], scripts: Path, fill: Callable[[str], str]) -> list[ToolCase]:
    """Write each case's script and turn it into a bash tool case for `checked.tool_records`."""
    out: list[ToolCase] = []
    for case in cases:
        if case.lang == "erl":
            path = scripts / f"{case.name}.escript"
            path.write_text(f"{ESCRIPT_HEAD}{fill(case.body)}\n")
            command = f"escript {path}"
        else:
            path = scripts / f"{case.name}.exs"
            path.write_text(fill(case.body) + "\n")
            command = f"elixir {path}"
        os.chmod(path, 0o644)
        if case.user:
            command = f"runuser -u {case.user} -- env HOME=/tmp {command}"
        if case.nofile:
            command = f"ulimit -n {case.nofile}; {command}"
        out.append((case.name, case.category, case.token, command))
    return out


__all__ = ["ESCRIPT_HEAD", "BeamCase", "beam_tool_cases", "no_retry_api", "script_dir"]

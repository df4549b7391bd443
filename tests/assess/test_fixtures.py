"""The load phase's upstream in its own process: the same HTTP contract as the in-process server, keep-alive,
its port handed back, and no process left behind on any way out."""

from __future__ import annotations

import os
import shutil
import socket
import time
import urllib.error
import urllib.request

import pytest

from recoup.assess.fixtures import CURRENT_TOKEN, UpstreamError, UpstreamProcess


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def _get(url: str, token: str | None = None) -> tuple[int, bytes, str | None]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), response.headers.get("Retry-After")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Retry-After")


def test_upstream_process_answers_the_contract_and_stops_with_the_block() -> None:
    with UpstreamProcess() as upstream:
        pid = upstream.pid
        assert pid is not None and pid != os.getpid()
        assert _get(f"{upstream.base_url}/ok") == (200, b'{"ok": true}', None)
        assert _get(f"{upstream.base_url}/status/503?retry_after=0") == (503, b'{"error": "injected"}', "0")
        assert _get(f"{upstream.base_url}/status/502")[0] == 502
        assert _get(f"{upstream.base_url}/status/429?retry_after=2")[::2] == (429, "2")
        assert _get(f"{upstream.base_url}/token")[1] == CURRENT_TOKEN.encode()  # the parent's token, not its own
        assert _get(f"{upstream.base_url}/protected")[0] == 401
        assert _get(f"{upstream.base_url}/protected", CURRENT_TOKEN)[0] == 200
        assert _get(f"{upstream.base_url}/status/abc")[0] == 400
    assert _gone(pid)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", upstream.port), timeout=1).close()


def test_upstream_keeps_connections_alive() -> None:
    with UpstreamProcess() as upstream, socket.create_connection(("127.0.0.1", upstream.port), timeout=5) as sock:
        reader = sock.makefile("rb")
        for _ in range(3):  # three requests, one connection
            sock.sendall(b"GET /status/503?retry_after=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert reader.readline() == b"HTTP/1.1 503 Service Unavailable\r\n"
            headers = {}
            while (line := reader.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                headers[name.lower()] = value.strip()
            assert headers["retry-after"] == "1"
            assert reader.read(int(headers["content-length"])) == b'{"error": "injected"}'


def test_upstream_exits_when_the_block_is_left_by_an_exception() -> None:
    pid = None
    with pytest.raises(RuntimeError, match="boom"), UpstreamProcess() as upstream:
        pid = upstream.pid
        raise RuntimeError("boom")
    assert pid is not None and _gone(pid)


def test_upstream_exits_on_its_own_when_its_parent_goes_away() -> None:
    """The child lives only while its stdin is open: a parent killed outright closes it, and the child leaves."""
    upstream = UpstreamProcess().__enter__()
    proc = upstream._proc
    assert proc is not None and proc.stdin is not None
    proc.stdin.close()  # what the kernel does for a parent that dies without cleaning up
    try:
        assert proc.wait(timeout=5) == 0
    finally:
        upstream.__exit__(None, None, None)


def test_an_upstream_that_never_reports_its_port_is_a_clear_error() -> None:
    false = shutil.which("false")
    if false is None:
        pytest.skip("no `false` on PATH")
    with pytest.raises(UpstreamError, match=r"did not report its port .*exit code 1"):
        UpstreamProcess(start_timeout=5, executable=false).__enter__()

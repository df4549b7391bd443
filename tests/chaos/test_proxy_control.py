"""The toxiproxy-compatible control API over real HTTP, and live toxic changes on an open connection."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_proxy_support import Upstream

from recoup.chaos.proxy import API_VERSION, BadRequest, ControlServer, ProxyServer
from recoup.chaos.proxy.config import ConfigError, load_config


@pytest.fixture
def control(proxies: ProxyServer) -> Iterator[ControlServer]:
    with ControlServer(proxies, "127.0.0.1:0") as server:
        yield server


def call(
    control: ControlServer, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(control.url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _roundtrip(sock: socket.socket, payload: bytes = b"ping") -> float:
    started = time.perf_counter()
    sock.sendall(payload)
    received = b""
    while len(received) < len(payload):
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        received += chunk
    assert received == payload
    return time.perf_counter() - started


def test_proxy_crud_and_error_codes(control: ControlServer, echo_upstream: Upstream) -> None:
    assert call(control, "GET", "/version") == (200, {"version": API_VERSION})
    status, created = call(control, "POST", "/proxies", {"name": "echo", "upstream": echo_upstream.address})
    assert status == 201
    assert created["name"] == "echo" and created["enabled"] is True and created["toxics"] == []
    assert created["listen"].startswith("127.0.0.1:") and not created["listen"].endswith(":0")
    assert call(control, "POST", "/proxies", {"name": "echo", "upstream": echo_upstream.address}) == (
        409,
        {"error": "proxy already exists", "status": 409},
    )
    assert call(control, "GET", "/proxies") == (200, {"echo": created})
    assert call(control, "GET", "/proxies/echo") == (200, created)
    assert call(control, "GET", "/proxies/nope") == (404, {"error": "proxy not found", "status": 404})
    status, error = call(control, "POST", "/proxies", {"name": "x"})
    assert (status, error["error"]) == (400, "missing required field: upstream")
    status, error = call(control, "POST", "/proxies", {"name": "y", "upstream": "nohostport"})
    assert status == 400 and "upstream must be 'host:port', got 'nohostport'" in error["error"]
    status, error = call(control, "POST", "/proxies", b"{broken")
    assert status == 400 and error["error"].startswith("bad request body")
    status, error = call(control, "PUT", "/proxies")
    assert status == 405

    status, updated = call(control, "POST", "/proxies/echo", {"enabled": False})
    assert status == 200 and updated["enabled"] is False
    host, port = created["listen"].split(":")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=2)
    assert call(control, "POST", "/reset")[0] == 204
    assert call(control, "GET", "/proxies/echo")[1]["enabled"] is True
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        _roundtrip(sock)
    assert call(control, "DELETE", "/proxies/echo") == (204, None)
    assert call(control, "DELETE", "/proxies/echo")[0] == 404


def test_toxic_crud_and_error_codes(control: ControlServer, echo_upstream: Upstream) -> None:
    call(control, "POST", "/proxies", {"name": "echo", "upstream": echo_upstream.address})
    toxic = {"type": "latency", "stream": "upstream", "attributes": {"latency": 100, "jitter": 5}}
    status, added = call(control, "POST", "/proxies/echo/toxics", toxic)
    assert status == 200
    assert added == {
        "name": "latency_upstream",
        "type": "latency",
        "stream": "upstream",
        "toxicity": 1.0,
        "attributes": {"latency": 100, "jitter": 5},
    }
    assert call(control, "POST", "/proxies/echo/toxics", toxic) == (
        409,
        {"error": "toxic already exists", "status": 409},
    )
    assert call(control, "GET", "/proxies/echo/toxics") == (200, [added])
    assert call(control, "GET", "/proxies/echo/toxics/latency_upstream") == (200, added)
    status, changed = call(control, "POST", "/proxies/echo/toxics/latency_upstream", {"attributes": {"latency": 7}})
    assert status == 200 and changed["attributes"] == {"latency": 7, "jitter": 5}
    status, changed = call(control, "PATCH", "/proxies/echo/toxics/latency_upstream", {"toxicity": 0.5})
    assert status == 200 and changed["toxicity"] == 0.5
    assert call(control, "GET", "/proxies/echo")[1]["toxics"] == [changed]
    for bad, message in (
        ({"type": "latncy"}, "invalid toxic type: 'latncy'"),
        ({"type": "latency", "stream": "both"}, "stream was invalid"),
        ({"type": "latency", "attributes": {"latency": -5}}, "latency.latency must be a number >= 0, got -5"),
        ({"type": "latency", "toxicity": 2}, "toxicity must be a number between 0 and 1"),
    ):
        status, error = call(control, "POST", "/proxies/echo/toxics", bad)
        assert status == 400 and message in error["error"], error
    assert call(control, "POST", "/proxies/nope/toxics", toxic)[0] == 404
    assert call(control, "GET", "/proxies/echo/toxics/nope") == (404, {"error": "toxic not found", "status": 404})
    assert call(control, "DELETE", "/proxies/echo/toxics/latency_upstream") == (204, None)
    assert call(control, "DELETE", "/proxies/echo/toxics/latency_upstream")[0] == 404
    call(control, "POST", "/proxies/echo/toxics", {"type": "timeout"})
    assert call(control, "POST", "/reset")[0] == 204
    assert call(control, "GET", "/proxies/echo/toxics") == (200, [])


def test_browsers_are_refused(control: ControlServer) -> None:
    status, error = call(control, "GET", "/proxies", headers={"User-Agent": "Mozilla/5.0"})
    assert status == 403 and error["error"] == "User agent not allowed"


def test_live_toxics_change_an_open_connection(control: ControlServer, echo_upstream: Upstream) -> None:
    _, created = call(control, "POST", "/proxies", {"name": "echo", "upstream": echo_upstream.address})
    host, port = created["listen"].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        assert _roundtrip(sock) < 0.2
        call(control, "POST", "/proxies/echo/toxics", {"type": "latency", "attributes": {"latency": 250}})
        assert _roundtrip(sock) >= 0.25
        call(control, "POST", "/proxies/echo/toxics/latency_downstream", {"attributes": {"latency": 0}})
        assert _roundtrip(sock) < 0.2
        call(control, "POST", "/proxies/echo/toxics", {"type": "timeout", "attributes": {"timeout": 0}})
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            _roundtrip(sock)  # data stops on the live connection
        call(control, "DELETE", "/proxies/echo/toxics/timeout_downstream")
        sock.settimeout(5)
        assert _roundtrip(sock, b"pong") < 0.2  # flows again (the swallowed "ping" echo stays lost)
        call(control, "POST", "/proxies/echo", {"enabled": False})
        assert sock.recv(10) == b""  # disabling closed it


def test_populate_creates_replaces_and_reports(control: ControlServer, echo_upstream: Upstream) -> None:
    entries = [{"name": "a", "listen": "127.0.0.1:0", "upstream": echo_upstream.address}]
    status, body = call(control, "POST", "/populate", entries)
    assert status == 201 and [proxy["name"] for proxy in body["proxies"]] == ["a"]
    first_listen = body["proxies"][0]["listen"]
    status, body = call(control, "POST", "/populate", [{"name": "a", "upstream": echo_upstream.address}])
    assert body["proxies"][0]["listen"] == first_listen  # unchanged proxy untouched
    status, body = call(control, "POST", "/populate", [{"name": "b"}])
    assert status == 400 and body["error"] == "proxy #0: missing required field: upstream"


def test_config_file_with_toxics(proxies: ProxyServer, echo_upstream: Upstream, tmp_path: Path) -> None:
    path = tmp_path / "proxies.json"
    path.write_text(
        json.dumps(
            [
                {
                    "name": "echo",
                    "listen": "127.0.0.1:0",
                    "upstream": echo_upstream.address,
                    "enabled": True,
                    "toxics": [{"type": "partial_write", "attributes": {"bytes": 2}}],
                },
                {"name": "off", "listen": "127.0.0.1:0", "upstream": echo_upstream.address, "enabled": False},
            ]
        )
    )
    loaded = load_config(proxies, path)
    assert [(proxy["name"], proxy["enabled"]) for proxy in loaded] == [("echo", True), ("off", False)]
    port = proxies.proxy("echo").port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"hello")
        assert sock.recv(100) == b"he"
    for content, message in (
        ("{", "is not valid JSON"),
        ('{"name": "x"}', "must be a JSON list of proxies, got dict"),
        ('[{"name": "x", "upstream": "127.0.0.1:1", "toxics": [{"type": "nope"}]}]', "invalid toxic type: 'nope'"),
    ):
        path.write_text(content)
        with pytest.raises(ConfigError, match=message):
            load_config(proxies, path)
    with pytest.raises(ConfigError, match="cannot read proxy config"):
        load_config(proxies, tmp_path / "missing.json")


def test_control_binds_loopback_only(proxies: ProxyServer) -> None:
    with pytest.raises(BadRequest, match="must be a loopback address"):
        ControlServer(proxies, "0.0.0.0:0")


def test_toxiproxys_own_python_client_drives_it(control: ControlServer, echo_upstream: Upstream) -> None:
    """toxiproxy-python (a real client written for toxiproxy) works against our API unchanged."""
    toxiproxy = pytest.importorskip("toxiproxy")
    host, port = control.address.split(":")
    server = toxiproxy.Toxiproxy()
    server.update_api_consumer(host, int(port))
    assert server.running() and b"recoup" in server.version()
    proxy = server.create(upstream=echo_upstream.address, name="echo")
    listen_host, listen_port = proxy.listen.split(":")
    with pytest.raises(toxiproxy.exceptions.ProxyExists):
        server.create(upstream=echo_upstream.address, name="echo")
    proxy.add_toxic(type="latency", attributes={"latency": 200})
    assert list(proxy.toxics()) == ["latency_downstream"]
    with socket.create_connection((listen_host, int(listen_port)), timeout=5) as sock:
        assert _roundtrip(sock) >= 0.2
        proxy.destroy_toxic("latency_downstream")
        assert _roundtrip(sock) < 0.2
    with proxy.down(), pytest.raises(ConnectionRefusedError):
        socket.create_connection((listen_host, int(listen_port)), timeout=2)
    with pytest.raises(toxiproxy.exceptions.InvalidToxic):
        proxy.add_toxic(type="no_such_toxic")
    assert server.reset()
    server.destroy_all()
    assert server.proxies() == {}


def test_address_errors_and_an_unreachable_upstream(control: ControlServer, echo_upstream: Upstream) -> None:
    _, first = call(control, "POST", "/proxies", {"name": "a", "upstream": echo_upstream.address})
    status, error = call(control, "POST", "/proxies", {"name": "b", "listen": first["listen"], "upstream": "x:1"})
    assert status == 409 and error["error"] == f"listen address {first['listen']} is already in use"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    _, dead = call(control, "POST", "/proxies", {"name": "dead", "upstream": f"127.0.0.1:{closed_port}"})
    host, port = dead["listen"].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        assert sock.recv(10) == b""  # accepted, upstream refused, so the client is closed
    status, moved = call(control, "POST", "/proxies/a", {"upstream": f"127.0.0.1:{closed_port}"})
    assert status == 200 and moved["upstream"] == f"127.0.0.1:{closed_port}"
    status, error = call(control, "POST", "/proxies/a", {"enabled": "yes"})
    assert status == 400 and error["error"] == "enabled must be true or false, got 'yes'"

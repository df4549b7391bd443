"""HttpTarget's clients (aiohttp, the default, and httpx) against a real server process: body framings,
keep-alive, closed sockets, statuses, refused connections, timeouts and TLS."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from load_server import LocalServer, running_server

from recoup.load.http import CLIENTS, HttpTarget
from recoup.load.profiles import ClosedModel, OpenModel
from recoup.load.result import LoadResult
from recoup.load.runner import run_load

both_clients = pytest.mark.parametrize("client", CLIENTS)


def _connections_used(server: LocalServer, action: Callable[[], LoadResult]) -> tuple[LoadResult, int]:
    """The action's result and how many connections it opened (each count request opens one of its own)."""
    before = server.connections()
    result = action()
    return result, server.connections() - before - 1


def test_aiohttp_is_the_default_and_is_not_imported_until_a_run_opens_a_target() -> None:
    assert HttpTarget("http://127.0.0.1/").client == "aiohttp" == CLIENTS[0]
    code = "import sys, recoup.load.http, recoup.load.runner; assert 'aiohttp' not in sys.modules; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@both_clients
def test_keep_alive_reuses_one_connection_and_connection_close_does_not(http_server: LocalServer,
                                                                        client: str) -> None:
    # 1 s, not less: a client's first request can take most of a second on a loaded 2-core machine (a CI run saw
    # httpx's take 0.76 s), and the test needs several requests on the one connection
    kept, used = _connections_used(http_server, lambda: run_load(
        HttpTarget(http_server.url + "/ok", client=client), ClosedModel(vus=1, duration=1.0)))
    assert kept.ok == kept.completed > 3 and used == 1
    closed, used = _connections_used(http_server, lambda: run_load(
        HttpTarget(http_server.url + "/close", client=client), ClosedModel(vus=1, duration=1.0)))
    assert closed.ok == closed.completed > 3 and used == closed.completed  # body read to the end, then closed


@both_clients
def test_chunked_bodies_with_extensions_and_trailers_are_read_to_the_end(http_server: LocalServer,
                                                                         client: str) -> None:
    result, used = _connections_used(http_server, lambda: run_load(
        HttpTarget(http_server.url + "/chunked", client=client), ClosedModel(vus=1, duration=1.0)))
    assert result.ok == result.completed > 3 and result.status_codes == {200: result.completed}
    assert used == 1  # the whole chunked body was consumed, so the connection could be reused


@both_clients
def test_a_keep_alive_connection_the_server_dropped_is_replaced(http_server: LocalServer, client: str) -> None:
    result = run_load(HttpTarget(http_server.url + "/drop", client=client), ClosedModel(vus=1, duration=1.0))
    assert result.ok > 3
    if client == "aiohttp":  # a GET on a connection found closed is sent again, on a new one
        assert result.errors == 0
        assert http_server.hits() == result.ok  # every request reached the server exactly once
    else:  # httpx does not retry: the request that met the closed socket fails, as a network error
        assert set(result.error_categories) <= {"network"}


@both_clients
def test_post_sends_its_body_and_headers(http_server: LocalServer, client: str) -> None:
    body = b'{"a": 1}'
    sent = run_load(HttpTarget(http_server.url + f"/expect/{len(body)}", method="post", body=body, client=client,
                               headers={"Content-Type": "application/json"}), OpenModel.constant(40, 0.25))
    assert sent.ok == 10 and sent.status_codes == {200: 10}
    short = run_load(HttpTarget(http_server.url + "/expect/99", method="POST", body=body, client=client),
                     OpenModel.constant(40, 0.25))
    assert short.errors == 10 and short.status_codes == {422: 10}


@both_clients
def test_statuses_are_counted_and_failures_classified(http_server: LocalServer, client: str) -> None:
    result = run_load(HttpTarget(http_server.url + "/status/404", client=client), OpenModel.constant(40, 0.5))
    assert result.errors == 20 and result.status_codes == {404: 20}
    unavailable = run_load(HttpTarget(http_server.url + "/status/503", client=client), OpenModel.constant(40, 0.25))
    assert unavailable.error_categories == {"service": 10}


@both_clients
def test_refused_and_unreadable_answers_are_network_failures(http_server: LocalServer, client: str) -> None:
    refused = run_load(HttpTarget("http://127.0.0.1:9/", client=client), OpenModel.constant(20, 0.25), op_timeout=2)
    assert refused.errors == 5 and refused.error_categories == {"network": 5} and refused.status_codes == {}
    garbage = run_load(HttpTarget(http_server.url + "/garbage", client=client), OpenModel.constant(20, 0.25),
                       op_timeout=2)
    assert garbage.errors == 5 and garbage.error_categories == {"network": 5}


@both_clients
def test_a_request_over_the_timeout_is_a_timeout(http_server: LocalServer, client: str) -> None:
    now = time.monotonic()
    http_server.stall(now, now + 5)
    result = run_load(HttpTarget(http_server.url + "/ok", client=client), OpenModel.constant(20, 0.25),
                      op_timeout=0.2)
    assert result.errors == 5 and result.error_categories == {"timeout": 5}
    assert 0.2 <= result.latency(50) < 1.0


def test_bad_target_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="'aiohttp' or 'httpx', got 'wire'"):
        HttpTarget("http://127.0.0.1/", client="wire")
    with pytest.raises(ValueError, match="http:// or https://"):
        HttpTarget("ftp://example.org/")
    with pytest.raises(ValueError, match="HTTP method must be a word"):
        HttpTarget("http://127.0.0.1/", method="GET /")


def test_a_client_that_is_not_installed_is_named_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # what Python records for a module that cannot be imported
    with pytest.raises(ValueError, match=r"'aiohttp' is not installed: pip install 'recoup\[load\]'"):
        HttpTarget("http://127.0.0.1/")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


@both_clients
def test_https_checks_the_certificate_unless_told_otherwise(tls_files: tuple[Path, Path], client: str) -> None:
    cert, _ = tls_files
    with running_server(tls=tls_files) as server:
        assert server.url.startswith("https://")
        five = OpenModel.constant(20, 0.25)
        trusted = run_load(HttpTarget(server.url + "/chunked", client=client, verify=str(cert)), five)
        assert trusted.ok == 5
        unknown = run_load(HttpTarget(server.url + "/ok", client=client), five)
        assert unknown.errors == 5 and unknown.error_categories == {"network": 5}  # self-signed: refused
        insecure = run_load(HttpTarget(server.url + "/ok", client=client, verify=False), five)
        assert insecure.ok == 5
        assert server.hits() == 10  # the refused ones never got past the handshake
    with pytest.raises(ValueError, match="is not a readable file"):
        HttpTarget("https://127.0.0.1/", verify=str(cert) + ".missing")

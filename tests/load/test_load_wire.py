"""recoup's lean HTTP/1.1 client against a real server process: body framings, keep-alive, closed sockets."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from load_server import LocalServer, running_server

from recoup.load.http import HttpTarget
from recoup.load.profiles import OpenModel
from recoup.load.runner import run_load
from recoup.load.wire import WireClient


def _send_times(url: str, times: int, **kwargs: object) -> tuple[list[int], int]:
    async def go() -> tuple[list[int], int]:
        client = WireClient(url, **kwargs)  # type: ignore[arg-type]
        try:
            statuses = [await client.send() for _ in range(times)]
            return statuses, len(client._idle)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_keep_alive_reuses_one_connection(http_server: LocalServer) -> None:
    statuses, idle = _send_times(http_server.url + "/ok", 5)
    assert statuses == [200] * 5 and idle == 1
    assert http_server.hits() == 5


def test_chunked_bodies_and_connection_close_are_read_to_the_end(http_server: LocalServer) -> None:
    assert _send_times(http_server.url + "/chunked", 3) == ([200] * 3, 1)
    assert _send_times(http_server.url + "/close", 3) == ([200] * 3, 0)


def test_a_connection_closed_while_idle_is_replaced_transparently(http_server: LocalServer) -> None:
    statuses, _ = _send_times(http_server.url + "/drop", 4)
    assert statuses == [200] * 4
    assert http_server.hits() == 4  # each request reached the server exactly once


def test_post_sends_its_body_and_status_errors_come_back(http_server: LocalServer) -> None:
    assert _send_times(http_server.url + "/status/500", 2, method="POST", body=b'{"a": 1}',
                       headers={"Content-Type": "application/json"}) == ([500, 500], 1)


def test_refused_connection_raises_a_network_error() -> None:
    with pytest.raises(OSError):
        _send_times("http://127.0.0.1:9/", 1)
    with pytest.raises(ValueError, match="http:// or https://"):
        WireClient("ftp://example.org/")


@pytest.mark.parametrize("client", ["wire", "httpx"])
def test_both_http_clients_give_the_same_counts(http_server: LocalServer, client: str) -> None:
    result = run_load(HttpTarget(http_server.url + "/status/404", client=client), OpenModel.constant(40, 0.5))
    assert result.errors == 20 and result.status_codes == {404: 20}
    with pytest.raises(ValueError, match="'wire' or 'httpx'"):
        HttpTarget(http_server.url, client="curl")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


@pytest.mark.parametrize("client", ["wire", "httpx"])
def test_https_checks_the_certificate_unless_told_otherwise(tls_files: tuple[Path, Path], client: str) -> None:
    cert, _ = tls_files
    with running_server(tls=tls_files) as server:
        assert server.url.startswith("https://")
        five = OpenModel.constant(20, 0.25)
        trusted = run_load(HttpTarget(server.url + "/ok", client=client, verify=str(cert)), five)
        assert trusted.ok == 5
        unknown = run_load(HttpTarget(server.url + "/ok", client=client), five)
        assert unknown.errors == 5  # a self-signed certificate is refused by default
        insecure = run_load(HttpTarget(server.url + "/ok", client=client, verify=False), five)
        assert insecure.ok == 5
    with pytest.raises(ValueError, match="is not a readable file"):
        HttpTarget("https://127.0.0.1/", verify=str(cert) + ".missing")

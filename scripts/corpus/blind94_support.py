"""Servers and a child runner for batch 94 (Python HTTP client stacks through proxies), all on 127.0.0.1.

- `socks5_server`: a small SOCKS5 proxy (RFC 1928/1929) that can demand a user name and password, refuse some
  target ports by its ruleset, and report a refused or unreachable target with the reply code a real proxy sends.
- `connect_proxy`: an HTTP proxy for CONNECT tunnels that can demand Proxy-Authorization (407) and answers
  502 Bad Gateway when its upstream refuses.
- `content_server`: an HTTP server with an HTML page (no JSON) and a large cacheable download.
- `child_records`: run a case in another interpreter (a venv of its own, or a process that gevent may patch) and
  turn the real exception it raised into the usual two records.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable
from typing import Any

from checked import problem
from common import Env, Record, _QuietServer, record
from servers import accept_loop

SOCKS_USER, SOCKS_PASSWORD = "app", "right-password"


def _relay(a: socket.socket, b: socket.socket) -> None:
    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=pump, args=(b, a), daemon=True)
    t.start()
    pump(a, b)
    t.join(10)
    a.close()
    b.close()


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


def _listen(env: Env, handler: Any) -> int:
    def start(conn: socket.socket) -> None:
        conn.settimeout(10)
        threading.Thread(target=_guard, args=(handler, conn), daemon=True).start()

    return accept_loop(env, start, backlog=32)


def _guard(handler: Any, conn: socket.socket) -> None:
    try:
        handler(conn)
    except Exception:  # a client that went away mid-handshake
        conn.close()


def socks5_server(env: Env, *, auth: bool = True, deny_ports: Iterable[int] = ()) -> int:
    """A SOCKS5 proxy; with `auth` only user/password `app`/`right-password` gets in."""
    denied = set(deny_ports)

    def reply(conn: socket.socket, code: int) -> None:
        conn.sendall(bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0]))

    def handle(conn: socket.socket) -> None:
        ver, nmethods = _recv_exact(conn, 2)
        methods = _recv_exact(conn, nmethods)
        wanted = 2 if auth else 0
        if ver != 5 or wanted not in methods:
            conn.sendall(b"\x05\xff")
            conn.close()
            return
        conn.sendall(bytes([5, wanted]))
        if auth:
            _, ulen = _recv_exact(conn, 2)
            user = _recv_exact(conn, ulen)
            (plen,) = _recv_exact(conn, 1)
            password = _recv_exact(conn, plen)
            ok = user.decode() == SOCKS_USER and password.decode() == SOCKS_PASSWORD
            conn.sendall(bytes([1, 0 if ok else 1]))
            if not ok:
                conn.close()
                return
        _, cmd, _, atyp = _recv_exact(conn, 4)
        if atyp == 1:
            host = socket.inet_ntoa(_recv_exact(conn, 4))
        elif atyp == 3:
            (n,) = _recv_exact(conn, 1)
            host = _recv_exact(conn, n).decode()
        else:
            host = socket.inet_ntop(socket.AF_INET6, _recv_exact(conn, 16))
        (port,) = struct.unpack("!H", _recv_exact(conn, 2))
        if cmd != 1:
            reply(conn, 7)
        elif port in denied:
            reply(conn, 2)
        else:
            try:
                upstream = socket.create_connection((host, port), timeout=3)
            except ConnectionRefusedError:
                reply(conn, 5)
            except socket.gaierror:
                reply(conn, 4)
            except TimeoutError:
                reply(conn, 6)
            except OSError:
                reply(conn, 1)
            else:
                reply(conn, 0)
                conn.settimeout(None)
                upstream.settimeout(None)
                _relay(conn, upstream)
                return
        conn.close()

    return _listen(env, handle)


def connect_proxy(env: Env, *, auth: bool = False) -> int:
    """An HTTP CONNECT proxy; with `auth` it wants `Proxy-Authorization: Basic app:right-password`."""
    expected = "Basic " + base64.b64encode(f"{SOCKS_USER}:{SOCKS_PASSWORD}".encode()).decode()

    def answer(conn: socket.socket, status: str, extra: str = "") -> None:
        body = f"<html><body><h1>{status}</h1></body></html>".encode()
        conn.sendall(f"HTTP/1.1 {status}\r\n{extra}Content-Type: text/html\r\nContent-Length: {len(body)}\r\n"
                     f"Connection: close\r\n\r\n".encode() + body)
        conn.close()

    def handle(conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            head += chunk
        lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        if auth and headers.get("proxy-authorization") != expected:
            answer(conn, "407 Proxy Authentication Required", 'Proxy-Authenticate: Basic realm="proxy94"\r\n')
            return
        if method != "CONNECT":
            answer(conn, "405 Method Not Allowed")
            return
        host, _, port = target.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=3)
        except OSError:
            answer(conn, "502 Bad Gateway")
            return
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        conn.settimeout(None)
        upstream.settimeout(None)
        _relay(conn, upstream)

    return _listen(env, handle)


class _ContentHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        if self.path.startswith("/big"):
            body = bytes(range(256)) * 1200  # ~300 KB
            ctype = "application/octet-stream"
        else:
            body = b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Back soon</body></html>"
            ctype = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "public, max-age=600")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def content_server(env: Env) -> str:
    server = _QuietServer(("127.0.0.1", 0), _ContentHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}"


_CHILD = r'''
import json, sys, traceback
{body}
try:
    main()
except BaseException as exc:
    klass = type(exc)
    name = klass.__qualname__ if klass.__module__ == "builtins" else f"{{klass.__module__}}.{{klass.__qualname__}}"
    print(json.dumps({{"tb": "".join(traceback.format_exception(exc)),
                      "line": traceback.format_exception_only(exc)[-1].strip(), "exc_type": name,
                      "mro": [k.__name__ for k in klass.__mro__]}}))
else:
    print(json.dumps(None))
'''

#: name, category, source, expected exception type names (`A|B`), code defining `main()`
ChildCase = tuple[str, str, str, str, str]


def child_records(python: str, cases: Iterable[ChildCase], cwd: str) -> list[Record]:
    """Run each case's `main()` under `python`; keep its real exception when its type (or a base) is expected."""
    out: list[Record] = []
    for name, category, source, expected, code in cases:
        try:
            proc = subprocess.run([python, "-c", _CHILD.format(body=code)], capture_output=True, text=True,
                                  timeout=90, cwd=cwd, check=False)
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        except Exception as harness:  # the child itself broke: a harness problem, not a record
            problem(name, f"child {type(harness).__name__}")
            continue
        if result is None:
            problem(name, "no failure")
        elif not set(expected.split("|")) & set(result["mro"]):
            problem(name, f"not the provoked cause (expected {expected})")
        else:
            out.append(record(result["tb"], category, source, "traceback", name, exc_type=result["exc_type"]))
            out.append(record(result["line"], category, source, "exception", name, exc_type=result["exc_type"]))
    return out


__all__ = ["SOCKS_PASSWORD", "SOCKS_USER", "ChildCase", "child_records", "connect_proxy", "content_server",
           "socks5_server"]

if __name__ == "__main__":  # pragma: no cover - imported only
    sys.exit("import this module")

"""A small asyncio HTTP/1.1 server for the load tests, run as its own process (no GIL shared with the runner).

Prints its port on the first line of stdout, then serves until killed; ``--tls CERT KEY`` serves HTTPS.
Paths: ``/ok`` 200; ``/status/NNN`` answers NNN; ``/chunked`` a chunked body; ``/close`` answers with
``Connection: close`` and closes; ``/drop`` answers, then closes the keep-alive connection unannounced;
``/expect/N`` 200 when the request body had N bytes, else 422; ``/garbage`` answers with something
that is not HTTP; ``/stall?start=S&end=E`` (monotonic seconds, the same clock in every process on Linux)
makes requests arriving in [S, E) wait until E; ``/hits`` returns how many non-control requests were
answered, ``/connections`` how many connections were accepted.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
import time
from urllib.parse import parse_qs, urlsplit

STATE = {"start": 0.0, "end": 0.0, "hits": 0, "connections": 0}
REASONS = {200: "OK", 404: "Not Found", 422: "Unprocessable Content", 500: "Internal Server Error",
           503: "Service Unavailable"}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    STATE["connections"] += 1
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            received = await reader.readexactly(length) if length else b""
            status, body = await answer(method, target, len(received))
            reason = REASONS.get(status, "Status")
            path = urlsplit(target).path
            if path == "/chunked":
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n")
            elif path == "/garbage":
                writer.write(b"NOT HTTP AT ALL\r\n\r\n")
                break
            elif path == "/close":
                writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until close")
            else:
                writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
            if path in ("/close", "/drop"):
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def answer(method: str, target: str, received: int) -> tuple[int, bytes]:
    parts = urlsplit(target)
    if parts.path == "/stall":
        query = parse_qs(parts.query)
        STATE["start"], STATE["end"] = float(query["start"][0]), float(query["end"][0])
        return 200, b"stall set\n"
    if parts.path in ("/hits", "/connections"):
        return 200, str(STATE[parts.path[1:]]).encode()
    STATE["hits"] += 1
    now = time.monotonic()
    if STATE["start"] <= now < STATE["end"]:
        await asyncio.sleep(STATE["end"] - now)
    if parts.path.startswith("/expect/"):
        return (200, b"ok\n") if received == int(parts.path.rsplit("/", 1)[1]) else (422, b"wrong length\n")
    if parts.path.startswith("/status/"):
        status = int(parts.path.rsplit("/", 1)[1])
        return status, b"failed\n" if status >= 400 else b"ok\n"
    return 200, b"ok\n"


async def main() -> None:
    tls = None
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":  # --tls CERT KEY
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(sys.argv[2], sys.argv[3])
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024, ssl=tls)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

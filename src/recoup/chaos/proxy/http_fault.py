"""The protocol-aware fault: answer chosen HTTP/1.x requests with a status code instead of forwarding them.

Raw TCP toxics can only break bytes; a client's retry logic is usually written against *responses*
(503 + Retry-After, 429). This splits the client's byte stream into requests (request line, headers,
Content-Length body) so each request is either forwarded untouched or answered here, and the connection
stays usable for the next request (keep-alive). Requests with a chunked body are forwarded and the rest of
the connection is passed through unparsed, since framing is lost; an answered chunked request closes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from http import HTTPStatus
from typing import Any

MAX_HEAD = 64 * 1024  # a request head larger than this is not HTTP we can parse: pass the connection through
MAX_MATCHED_BODY = 1 << 20  # with a `match`, a body up to this size is held so the regex sees all of it


@dataclass
class HttpVerdict:
    """What to do with the bytes just fed: forward some upstream, answer some requests, maybe close."""

    forward: bytes = b""
    responses: list[bytes] = field(default_factory=list)
    close: bool = False


@dataclass
class _Head:
    method: str
    path: str
    keep_alive: bool
    body_length: int  # -1 = chunked


class HttpStatusResponder:
    """Per-connection state of one http_status toxic (the request stream is parsed as it arrives)."""

    def __init__(self, attributes: dict[str, Any], match: re.Pattern[bytes] | None = None) -> None:
        self.attributes = attributes
        self.match = match
        self._buffer = b""
        self._body_left = 0  # bytes of the current request's body still to forward/drop
        self._dropping = False  # the current request is being answered here, so its body is dropped
        self._passthrough = False  # framing lost (chunked body, huge head, not HTTP): forward everything
        #: (method, path) of every request answered here, in order.
        self.answered: list[tuple[str, str]] = []

    def feed(self, data: bytes) -> HttpVerdict:
        """Split ``data`` into forwarded bytes and local answers.

        With a ``match`` regex, a request is answered only if the regex finds it in the request's head and
        body, so the body is held until it is complete (up to ``MAX_MATCHED_BODY`` bytes).
        """
        verdict = HttpVerdict()
        if self._passthrough:
            verdict.forward = data
            return verdict
        self._buffer += data
        forward = bytearray()
        while self._buffer and not verdict.close:
            if self._body_left:
                taken, self._buffer = self._buffer[: self._body_left], self._buffer[self._body_left :]
                self._body_left -= len(taken)
                if not self._dropping:
                    forward += taken
                continue
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    forward += self._buffer
                    self._buffer, self._passthrough = b"", True
                break
            head = _parse_head(self._buffer[: end + 4])
            if head is None:  # not an HTTP request: stop interpreting, forward as is
                forward += self._buffer
                self._buffer, self._passthrough = b"", True
                break
            held = min(max(head.body_length, 0), MAX_MATCHED_BODY) if self.match is not None else 0
            if len(self._buffer) < end + 4 + held:
                break  # wait for the rest of the body the regex must see
            raw_head, self._buffer = self._buffer[: end + 4], self._buffer[end + 4 :]
            found = self.match is None or self.match.search(raw_head + self._buffer[:held]) is not None
            if found and self._selects(head):
                self.answered.append((head.method, head.path))
                verdict.responses.append(self._response(head))
                self._dropping = True
                if head.body_length < 0 or not head.keep_alive:
                    verdict.close = True
                    self._buffer = b""
                else:
                    self._body_left = head.body_length
            else:
                forward += raw_head
                self._dropping = False
                if head.body_length < 0:
                    forward += self._buffer
                    self._buffer, self._passthrough = b"", True
                else:
                    self._body_left = head.body_length
        verdict.forward = bytes(forward)
        return verdict

    def _selects(self, head: _Head) -> bool:
        return fnmatchcase(head.method, self.attributes["method"].upper()) and fnmatchcase(
            head.path, self.attributes["path"]
        )

    def _response(self, head: _Head) -> bytes:
        status = int(self.attributes["status"])
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Fault"
        body = str(self.attributes["body"]).encode("utf-8")
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Content-Type: {self.attributes['content_type']}",
            f"Content-Length: {len(body)}",
            "X-Recoup-Fault: http_status",
        ]
        if self.attributes["retry_after"] is not None:
            lines.append(f"Retry-After: {int(self.attributes['retry_after'])}")
        if not head.keep_alive or head.body_length < 0:
            lines.append("Connection: close")
        payload = b"" if head.method == "HEAD" else body
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


def _parse_head(raw: bytes) -> _Head | None:
    try:
        text = raw.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[0].isalpha():
        return None
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            return None
        headers[key.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body_length = -1
    else:
        try:
            body_length = int(headers.get("content-length", "0"))
        except ValueError:
            return None
        if body_length < 0:
            return None
    path = target.split("?", 1)[0]
    if "://" in path:  # absolute-form (a request to a proxy): keep only the path
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return _Head(method.upper(), path, keep_alive, body_length)

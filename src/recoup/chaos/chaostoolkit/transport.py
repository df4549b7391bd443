"""JSON over HTTP for the activities, with the stdlib only (an extension that must import anywhere the
Chaos Toolkit runs should not pull an HTTP client in).

Every failure becomes one `ActivityError` whose message says which request failed and what the other side
answered, because that message is all an experiment's journal keeps of it."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

#: How much of a non-JSON error body a message quotes.
_QUOTE_LIMIT = 300


class ActivityError(Exception):
    """An activity that could not do its job; Chaos Toolkit records it as ``ActivityFailed``."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        """The decoded body; None when the body is empty (204 answers)."""
        if not self.body.strip():
            return None
        return json.loads(self.body)


def _reason(body: bytes) -> str:
    """What an error body says: recoup's ``detail``, toxiproxy's ``error``, or the text itself."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:_QUOTE_LIMIT] or "(empty body)"
    if isinstance(data, dict):
        for key in ("detail", "error", "message"):
            if data.get(key):
                return str(data[key])
    return text[:_QUOTE_LIMIT]


def call(
    method: str,
    url: str,
    *,
    what: str,
    payload: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    accept: tuple[int, ...] = (),
) -> Reply:
    """Send one request; a 2xx reply (or a status in ``accept``) is returned, anything else raises
    `ActivityError` starting with ``what`` (e.g. "proxy 'api': add toxic 'slow'")."""
    data = None
    sent = {"Accept": "application/json", **(headers or {})}
    if payload is not None:
        data = json.dumps(payload).encode()
        sent["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Reply(answer.status, answer.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        if exc.code in accept:
            return Reply(exc.code, body)
        raise ActivityError(f"{what}: {method} {url} answered {exc.code}: {_reason(body)}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise ActivityError(f"{what}: {method} {url} failed: {reason}") from None


def call_json(method: str, url: str, *, what: str, **options: Any) -> Any:
    """`call`, then the decoded JSON body; a body that is not JSON is an `ActivityError` too."""
    reply = call(method, url, what=what, **options)
    try:
        return reply.json()
    except ValueError:
        raise ActivityError(f"{what}: {method} {url} answered {reply.status} with a body that is not JSON: "
                            f"{reply.body[:_QUOTE_LIMIT]!r}") from None

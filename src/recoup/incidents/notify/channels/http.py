"""HTTP sends shared by the HTTP channels: one POST, its answer classified for the retry policy.

* 2xx: delivered.
* 408, 425, 429 and 5xx: retry; ``Retry-After`` (seconds or an HTTP date) is honoured when given.
* Connection errors and timeouts: retry (nothing reached the server, or we cannot tell).
* Any other status (400, 401, 403, 404, 410, 3xx...): failed for good, with the response text: retrying an
  invalid payload or a revoked key cannot succeed, so it goes to the dead letters at once for a human to fix.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from recoup.incidents.notify.result import SendResult

RETRYABLE_STATUS = frozenset({408, 425, 429})
_MAX_ERROR_TEXT = 500


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


def classify(response: httpx.Response, now: float) -> SendResult:
    """The outcome of an HTTP answer, per the rules above."""
    if 200 <= response.status_code < 300:
        return SendResult.delivered()
    text = response.text.strip().replace("\n", " ")[:_MAX_ERROR_TEXT]
    error = f"HTTP {response.status_code} from {response.request.url.host}: {text or response.reason_phrase}"
    if retryable_status(response.status_code):
        return SendResult.retry(error, parse_retry_after(response.headers.get("retry-after"), now))
    return SendResult.failed(error)


async def post(http: httpx.AsyncClient, url: str, *, now: float, request_timeout: float, **kwargs: Any) -> SendResult:
    """POST and classify; transport errors become retries naming the failure."""
    try:
        response = await http.post(url, timeout=request_timeout, **kwargs)
    except httpx.TimeoutException as exc:
        return SendResult.retry(f"timed out after {request_timeout:g}s: {type(exc).__name__}")
    except httpx.TransportError as exc:
        return SendResult.retry(f"could not reach {httpx.URL(url).host}: {type(exc).__name__}: {exc}")
    return classify(response, now)

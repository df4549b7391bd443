"""Webhook signatures: HMAC-SHA256 over ``"<timestamp>.<body>"`` so a receiver can tell our requests from
forged ones, and a timestamp tolerance so a captured request cannot be replayed later.

Headers sent with each webhook::

    X-Recoup-Timestamp: 1700000000
    X-Recoup-Signature: sha256=<hex digest>

A receiver verifies with `verify_signature` (or the same three lines in any language): recompute the HMAC of
the timestamp, a dot and the raw body bytes with the shared secret, compare in constant time, and reject
timestamps further than ``tolerance`` seconds from its own clock.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Recoup-Timestamp"
SIGNATURE_HEADER = "X-Recoup-Signature"
_PREFIX = "sha256="


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Recoup-Signature`` value for ``body`` sent at ``timestamp`` (epoch seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return _PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes,
    signature: str,
    tolerance: float = 300.0,
    *,
    now: float | None = None,
) -> bool:
    """True when ``signature`` is ours for ``body`` at ``timestamp`` and the timestamp is within ``tolerance``
    seconds of ``now`` (default: this machine's clock). Never raises on malformed input: it is just False."""
    try:
        sent_at = int(str(timestamp))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        return False
    if not isinstance(signature, str) or not signature.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, sent_at, body), signature)

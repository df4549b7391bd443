"""Microseconds per Sentry envelope for the CPU work of the ingest route before the pipeline: find the key in
``X-Sentry-Auth``, decompress (gzip), parse the envelope, decode each event item and convert it into a
validated `recoup.store.NewEvent` (whose ``payload_json`` is the text the store writes). No HTTP, no
database: this is the part of the per-envelope cost that lives in ``recoup.server.sentry``.

Two envelopes:

* ``load``: one of `benchmarks/ingest_load.py`'s envelopes (sentry-sdk 2.x shaped, 6-12 frames with vars and
  context lines, gzip level 1), what `benchmarks/ingest.py --only sentry` sends;
* ``sdk``: an envelope captured from the real sentry-sdk (``capture_exception`` of a 4-deep exception with
  locals, default integrations, so its ``modules`` list is the whole environment), gzip'd.

    .venv/bin/python benchmarks/sentry_parse.py                # best of 5 rounds of 2,000 envelopes each
    .venv/bin/python benchmarks/sentry_parse.py --rounds 7 --n 5000 --json out.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_load import SentryPayloads

from recoup.server.body import decompress
from recoup.server.sentry.auth import key_from_request
from recoup.server.sentry.envelope import parse_envelope
from recoup.server.sentry.event import decode_event, to_new_event
from recoup.store import NewEvent

KEY = "0123456789abcdef0123456789abcdef"
LIMIT = 10 * 1024 * 1024


def load_envelopes(count: int) -> tuple[dict[str, str], list[bytes]]:
    """``count`` distinct gzip'd envelopes from the load generator, and its request headers."""
    payloads = SentryPayloads(KEY, 1, "http://127.0.0.1:9000")
    return {k.lower(): v for k, v in payloads.headers.items()}, [payloads.next().body for _ in range(count)]


def _checkout(order: int, amount: float) -> None:
    customer = {"id": order % 97, "tier": "pro", "email": f"c{order}@example.com"}
    _charge(order, amount, customer)


def _charge(order: int, amount: float, customer: dict[str, Any]) -> None:
    attempts = [0.5, 1.0, 2.0]
    _call_gateway(order, amount * 100, attempts)


def _call_gateway(order: int, cents: float, attempts: list[float]) -> None:
    headers = {"Idempotency-Key": f"order-{order}", "Content-Type": "application/json"}
    raise ValueError(f"order {order} could not be charged ({len(headers)} headers, {len(attempts)} attempts)")


def sdk_envelope() -> bytes:
    """One envelope as sentry-sdk serialises it for ``capture_exception`` (uncompressed)."""
    import sentry_sdk
    from sentry_sdk.envelope import Envelope
    from sentry_sdk.transport import Transport

    captured: list[bytes] = []

    class Capture(Transport):
        def capture_envelope(self, envelope: Envelope) -> None:
            if any(item.type == "event" for item in envelope.items):
                captured.append(envelope.serialize())

    sentry_sdk.init(dsn=f"http://{KEY}@127.0.0.1:9000/1", transport=Capture, release="shop@1.4.2",
                    environment="production", traces_sample_rate=0.0, include_local_variables=True)
    sentry_sdk.set_tag("region", "eu-west-1")
    sentry_sdk.set_user({"id": "42", "email": "someone@example.com"})
    sentry_sdk.add_breadcrumb(category="http", message="POST https://api.example.com/v1/charges", level="info")
    try:
        _checkout(1001, 12.5)
    except ValueError as exc:
        sentry_sdk.capture_exception(exc)
    sentry_sdk.flush()
    sentry_sdk.get_client().close()
    if not captured:
        raise SystemExit("sentry-sdk produced no event envelope")
    return captured[0]


def ingest_cpu(headers: dict[str, str], body: bytes, received_at: datetime) -> list[NewEvent]:
    """What the route does to one envelope before the pipeline, minus HTTP and the key lookup."""
    if key_from_request(headers, {}) is None:
        raise SystemExit("no key found")
    envelope = parse_envelope(decompress(body, headers.get("content-encoding", ""), LIMIT))
    out = []
    for item in envelope.items:
        if item.type == "event":
            data = decode_event(item.payload, "items[0]")
            out.append(to_new_event(data, received_at=received_at, size=len(item.payload),
                                    fallback_event_id=envelope.event_id))
    return out


def measure(headers: dict[str, str], bodies: list[bytes], n: int, rounds: int) -> float:
    """Best-of-``rounds`` µs per envelope over ``n`` envelopes (cycling through ``bodies``)."""
    received_at = datetime.now(UTC)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for i in range(n):
            ingest_cpu(headers, bodies[i % len(bodies)], received_at)
        best = min(best, (time.perf_counter() - started) / n * 1e6)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="envelopes per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best is reported (default 5)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)

    load_headers, load_bodies = load_envelopes(256)
    raw_sdk = sdk_envelope()
    sdk_headers = {"content-encoding": "gzip", "x-sentry-auth": f"Sentry sentry_key={KEY}, sentry_version=7"}
    sdk_bodies = [gzip.compress(raw_sdk, 1)]
    received_at = datetime.now(UTC)
    rows = []
    for name, headers, bodies in (("load", load_headers, load_bodies), ("sdk", sdk_headers, sdk_bodies)):
        plain = decompress(bodies[0], "gzip", LIMIT)
        event = ingest_cpu(headers, bodies[0], received_at)[0]
        stored = len(event.payload_json or "")
        us = measure(headers, bodies, args.n, args.rounds)
        rows.append({"envelope": name, "gzip_bytes": len(bodies[0]), "envelope_bytes": len(plain),
                     "stored_payload_bytes": stored, "us_per_envelope": round(us, 1),
                     "envelopes_per_s": round(1e6 / us)})
    print(f"{'envelope':<9} {'gzip B':>8} {'raw B':>8} {'stored B':>9} {'µs/envelope':>12} {'envelopes/s':>12}")
    for row in rows:
        print(f"{row['envelope']:<9} {row['gzip_bytes']:>8,} {row['envelope_bytes']:>8,} "
              f"{row['stored_payload_bytes']:>9,} {row['us_per_envelope']:>12,.1f} {row['envelopes_per_s']:>12,}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Toxic validation, the CLI spec syntax, the shaping schedules and the HTTP request splitter (no sockets)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from recoup.chaos.proxy import Toxic, ToxicError, parse_toxic_spec
from recoup.chaos.proxy.http_fault import HttpStatusResponder
from recoup.chaos.proxy.shaping import bandwidth_schedule, latency_delay, slice_sizes
from recoup.chaos.proxy.toxics import TOXIC_DEFAULTS


def test_defaults_follow_toxiproxy() -> None:
    toxic = Toxic.create("latency", latency=100)
    assert toxic.to_json() == {
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
        "attributes": {"latency": 100, "jitter": 0},
    }
    assert Toxic.from_json(toxic.to_json()) == toxic


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "lag"}, "invalid toxic type: 'lag'"),
        ({"type": "latency", "stream": "sideways"}, "stream was invalid: 'sideways'"),
        ({"type": "latency", "toxicity": 1.5}, "toxicity must be a number between 0 and 1, got 1.5"),
        ({"type": "latency", "latency": -1}, "latency.latency must be a number >= 0, got -1"),
        ({"type": "latency", "latency": "fast"}, "latency.latency must be a number >= 0, got 'fast'"),
        ({"type": "latency", "delay": 5}, "unknown attribute(s) for latency toxic: delay"),
        ({"type": "bandwidth", "rate": 0}, "bandwidth.rate must be > 0 KB/s"),
        ({"type": "slicer", "average_size": 10, "size_variation": 10}, "size_variation (10) must be smaller"),
        ({"type": "limit_data", "bytes": 1.5}, "limit_data.bytes must be a whole number of bytes, got 1.5"),
        ({"type": "http_status", "stream": "downstream"}, "its stream must be 'upstream'"),
        ({"type": "http_status", "stream": "upstream", "status": 99}, "http_status.status must be an integer"),
        ({"type": "latency", "match": "("}, "latency.match is not a valid regular expression"),
        ({"type": "latency", "match_stream": "both"}, "match_stream must be 'upstream' or 'downstream'"),
        ({"type": "latency", "name": "a b"}, "toxic name 'a b' must be"),
    ],
)
def test_bad_toxics_name_the_field(kwargs: dict[str, object], message: str) -> None:
    kind = kwargs.pop("type")
    with pytest.raises(ToxicError) as caught:
        Toxic.create(str(kind), **kwargs)  # type: ignore[arg-type]
    assert message in str(caught.value)
    assert caught.value.status == 400


def test_from_json_rejects_unknown_fields_and_missing_type() -> None:
    with pytest.raises(ToxicError, match="missing required field: type"):
        Toxic.from_json({"attributes": {}})
    with pytest.raises(ToxicError, match="unknown toxic field"):
        Toxic.from_json({"type": "latency", "colour": "red"})


def test_update_merges_attributes_and_keeps_identity_fields() -> None:
    toxic = Toxic.create("latency", latency=100, jitter=5)
    updated = toxic.updated({"attributes": {"latency": 300}, "toxicity": 0.5})
    assert updated.attributes["latency"] == 300 and updated.attributes["jitter"] == 5
    assert updated.toxicity == 0.5 and updated.name == toxic.name
    with pytest.raises(ToxicError, match="type cannot change"):
        toxic.updated({"type": "timeout"})


def test_match_appears_in_json_only_when_set() -> None:
    toxic = Toxic.create("reset_peer", stream="upstream", match="UPDATE")
    assert toxic.to_json()["attributes"] == {"timeout": 0, "match": "UPDATE"}
    assert Toxic.create("reset_peer").to_json()["attributes"] == {"timeout": 0}
    beside = Toxic.from_json({"type": "reset_peer", "stream": "upstream", "match": "UPDATE"})  # a field, too
    assert beside == toxic and beside.to_json() == toxic.to_json()
    assert toxic.match is not None and toxic.match.search(b"UPDATE t SET x=1")


def test_spec_syntax() -> None:
    toxic = parse_toxic_spec("latency:latency=100,jitter=10,stream=upstream,toxicity=0.25,name=slow")
    assert (toxic.name, toxic.type, toxic.stream, toxic.toxicity) == ("slow", "latency", "upstream", 0.25)
    assert toxic.attributes["latency"] == 100 and toxic.attributes["jitter"] == 10
    # a regex may contain commas as long as none is followed by word=
    matched = parse_toxic_spec(r"timeout:stream=upstream,match=UPDATE\s+(a|b),c")
    assert matched.attributes["match"] == r"UPDATE\s+(a|b),c"
    assert parse_toxic_spec("blackhole").type == "blackhole"
    http = parse_toxic_spec("http_status:stream=upstream,status=503,retry_after=7,path=/api/*")
    assert http.attributes["status"] == 503 and http.attributes["path"] == "/api/*"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "must start with a type"),
        ("latency:100", "'100' is not key=value"),
        ("latency:latency=fast", "latency.latency must be a number >= 0, got 'fast'"),
        ("nope:x=1", "invalid toxic type: 'nope'"),
    ],
)
def test_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(ToxicError, match=message.replace("(", r"\(")):
        parse_toxic_spec(spec)


def test_every_type_builds_with_its_defaults() -> None:
    required: dict[str, dict[str, Any]] = {"bandwidth": {"rate": 1}, "slicer": {"average_size": 10}}
    for kind in TOXIC_DEFAULTS:
        stream = "upstream" if kind == "http_status" else "downstream"
        assert Toxic.create(kind, stream=stream, **required.get(kind, {})).type == kind


def test_latency_jitter_is_uniform_around_latency_and_reproducible() -> None:
    draws = [latency_delay(100, 10, random.Random(1)) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]
    rng, expected = random.Random(2), random.Random(2)
    for _ in range(50):
        assert latency_delay(100, 10, rng) == pytest.approx((100 + expected.uniform(-10, 10)) / 1000)
    assert latency_delay(5, 50, random.Random(0)) >= 0.0
    assert latency_delay(100, 0, random.Random(0)) == 0.1


def test_slice_sizes_cover_the_chunk_within_the_variation() -> None:
    sizes = slice_sizes(10_000, 100, 20, random.Random(3))
    assert sum(sizes) == 10_000
    assert all(80 <= size <= 120 for size in sizes[:-1]) and 1 <= sizes[-1] <= 120
    assert slice_sizes(5, 100, 0, random.Random(0)) == [5]


def test_bandwidth_schedule_takes_length_over_rate() -> None:
    plan = bandwidth_schedule(204_800, 100)  # 100 KB/s -> 10,000-byte slices of 0.1 s
    assert sum(size for size, _ in plan) == 204_800
    assert sum(wait for _, wait in plan) == pytest.approx(2.048)
    assert max(size for size, _ in plan) == 10_000


def _responder(**attributes: Any) -> HttpStatusResponder:
    toxic = Toxic.create("http_status", stream="upstream", **attributes)
    return HttpStatusResponder(dict(toxic.attributes))


def test_http_responder_answers_matching_requests_and_forwards_the_rest() -> None:
    responder = _responder(status=503, retry_after=7, path="/api/pay*", body="busy")
    verdict = responder.feed(b"GET /api/pay?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")
    assert verdict.forward == b"" and len(verdict.responses) == 1 and not verdict.close
    head, _, body = verdict.responses[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable") and b"Retry-After: 7" in head and body == b"busy"
    passed = b"POST /other HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
    assert responder.feed(passed).forward == passed
    # a matching request's body is dropped, even when it arrives in pieces, and framing continues after it
    first = responder.feed(b"POST /api/pay HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234")
    second = responder.feed(b"56789GET /x HTTP/1.1\r\n\r\n")
    assert first.forward == b"" and len(first.responses) == 1
    assert second.forward == b"GET /x HTTP/1.1\r\n\r\n" and second.responses == []
    assert responder.answered == [("GET", "/api/pay"), ("POST", "/api/pay")]


def test_http_responder_method_glob_close_and_non_http() -> None:
    responder = _responder(status=429, method="POST")
    assert responder.feed(b"GET / HTTP/1.1\r\n\r\n").responses == []
    closing = responder.feed(b"POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
    assert closing.close and b"Connection: close" in closing.responses[0]
    raw = _responder()
    assert raw.feed(b"\x00\x01binary\r\n\r\nmore").forward == b"\x00\x01binary\r\n\r\nmore"
    assert raw.feed(b"GET / HTTP/1.1\r\n\r\n").forward == b"GET / HTTP/1.1\r\n\r\n"  # passed through from now on


def test_http_responder_match_sees_the_whole_request_body() -> None:
    toxic = Toxic.create("http_status", stream="upstream", match="card=4242")
    responder = HttpStatusResponder(dict(toxic.attributes), toxic.match)
    head = b"POST /pay HTTP/1.1\r\nContent-Length: 9\r\n\r\n"
    assert responder.feed(head).forward == b""  # held until the body is there
    assert len(responder.feed(b"card=4242").responses) == 1
    other = responder.feed(head + b"card=")
    assert other.forward == b"" and other.responses == []
    assert responder.feed(b"1111").forward == head + b"card=1111"


def test_match_sees_a_pattern_split_across_chunks_and_anchors_at_chunk_start() -> None:
    from recoup.chaos.proxy.link import ToxicState

    state = ToxicState(Toxic.create("latency", match="UPDATE"), active=True)
    for chunk, expected in ((b"SELECT 1; UPD", False), (b"ATE t SET x = 1", True), (b"SELECT 2", False)):
        state.observe(chunk)
        assert state.matched is expected, chunk
    anchored = ToxicState(Toxic.create("latency", match="^GET /pay"), active=True)
    for chunk, expected in ((b"GET /home HTTP/1.1\r\n\r\n", False), (b"GET /pay HTTP/1.1\r\n\r\n", True)):
        anchored.observe(chunk)
        assert anchored.matched is expected

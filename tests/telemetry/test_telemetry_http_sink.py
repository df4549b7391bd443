"""HttpSink against a real HTTP server on loopback: batching, auth, retries, a dead server, draining.

Nothing here measures elapsed time to prove non-blocking: the app thread emits thousands of events while
the sender is stuck (server down or holding the request), and the counts must add up exactly.
"""

from __future__ import annotations

import os
import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recoup.telemetry.events import CheckpointEvent, event_from_dict
from recoup.telemetry.http_sink import EVENTS_PATH, BatchPolicy, HttpSink
from recoup.telemetry.sinks import Sink

if TYPE_CHECKING:
    from conftest import RecordingServer


def _event(i: int) -> CheckpointEvent:
    return CheckpointEvent(workflow="wf", run_id="run", step=f"s{i}", status="saved")


def _sink(url: str, **kwargs: object) -> HttpSink:
    options: dict[str, object] = {"api_key": "k-123", "flush_interval": 3600.0, "close_at_exit": None}
    options.update(kwargs)
    return HttpSink(url, **options)  # type: ignore[arg-type]


# -- pure parts -------------------------------------------------------------------------------


def test_batch_policy_sends_full_batches_at_once_and_partial_ones_after_the_interval() -> None:
    policy = BatchPolicy(batch_size=10, interval=2.0)
    assert policy.wait_time(0, None, 100.0) is None
    assert policy.wait_time(10, 100.0, 100.0) == 0.0
    assert policy.wait_time(3, 100.0, 100.5) == 1.5
    assert policy.wait_time(3, 100.0, 102.0) == 0.0
    assert policy.wait_time(3, 100.0, 100.5, urgent=True) == 0.0


# -- against the server -----------------------------------------------------------------------


def test_batches_by_size_with_auth_header_and_documented_payload(server: RecordingServer) -> None:
    sink = _sink(server.url, batch_size=10)
    assert isinstance(sink, Sink)
    events = [_event(i) for i in range(25)]
    for event in events:
        sink.emit(event)
    server.wait_for(events=20)  # two full batches go without waiting for the interval
    assert sink.flush(10.0) is True  # the partial batch goes on flush
    sink.close(5.0)

    assert [len(r.events) for r in server.requests] == [10, 10, 5]
    for request in server.requests:
        assert request.path == EVENTS_PATH
        assert request.headers["authorization"] == "Bearer k-123"
        assert request.headers["content-type"] == "application/json"
    assert [event_from_dict(e) for e in server.all_events()] == events
    stats = sink.stats
    assert (stats.sent, stats.dropped, stats.failed, stats.retried, stats.queued) == (25, 0, 0, 0, 0)


def test_partial_batch_goes_after_the_interval(server: RecordingServer) -> None:
    sink = _sink(server.url, batch_size=1000, flush_interval=0.05)
    for i in range(3):
        sink.emit(_event(i))
    server.wait_for(events=3)
    sink.close(5.0)
    assert [len(r.events) for r in server.requests] == [3]


def test_url_path_prefix_is_kept(server: RecordingServer) -> None:
    sink = _sink(server.url + "/recoup/", api_key=None)
    sink.emit(_event(1))
    sink.close(5.0)
    assert server.requests[0].path == "/recoup" + EVENTS_PATH
    assert "authorization" not in server.requests[0].headers


def test_retries_503_honouring_retry_after(server: RecordingServer) -> None:
    server.script = [(503, {"Retry-After": "1"})]
    sink = _sink(server.url, backoff_initial=0.001, backoff_max=0.001)
    sink.emit(_event(1))
    assert sink.flush(10.0) is True
    sink.close(5.0)

    first, second = server.requests
    assert first.body == second.body  # the same batch, same event ids: the server can deduplicate
    # the backoff alone would have waited 1 ms; only Retry-After explains a pause of about a second
    assert second.received_at - first.received_at >= 0.9
    stats = sink.stats
    assert (stats.sent, stats.failed, stats.retried) == (1, 0, 1)


def test_gives_up_a_batch_after_max_attempts_and_counts_it(server: RecordingServer) -> None:
    server.default = (500, {})
    sink = _sink(server.url, max_attempts=3, backoff_initial=0.001, backoff_max=0.001, batch_size=2)
    for i in range(2):
        sink.emit(_event(i))
    server.wait_for(requests=3)
    assert sink.flush(10.0) is True
    server.default = (200, {})
    sink.emit(_event(3))
    sink.close(5.0)
    stats = sink.stats
    assert (stats.sent, stats.failed, stats.retried, stats.dropped) == (1, 2, 2, 0)
    assert len(server.requests) == 4


def test_client_errors_are_not_retried(server: RecordingServer) -> None:
    server.script = [(401, {})]
    sink = _sink(server.url, backoff_initial=0.001)
    sink.emit(_event(1))
    assert sink.flush(10.0) is True
    sink.close(5.0)
    assert len(server.requests) == 1
    assert (sink.stats.failed, sink.stats.retried) == (1, 0)


def test_server_down_never_blocks_the_app_thread_and_counts_every_drop(closed_port: int) -> None:
    emitted = 10_000
    # after the first refused connection the sender waits out a long backoff, so the queue fills up
    sink = _sink(
        f"http://127.0.0.1:{closed_port}", max_queue=100, batch_size=10, max_attempts=100, backoff_initial=60.0
    )
    for i in range(emitted):
        sink.emit(_event(i))  # would deadlock (and hit the test timeout) if emit ever waited
    stats = sink.stats
    assert stats.sent == 0
    assert stats.dropped >= emitted - 100 - 10  # at most a queue plus one batch in flight kept
    assert stats.dropped + stats.queued + stats.failed == emitted

    assert sink.flush(0.05) is False  # cannot drain: the server is away
    sink.close(0.1)  # gives up at its deadline instead of waiting out the backoff
    stats = sink.stats
    assert stats.queued == 0
    assert stats.dropped + stats.failed == emitted
    assert stats.failed <= 10
    sink.emit(_event(-1))
    assert sink.stats.dropped + sink.stats.failed == emitted + 1


@pytest.mark.parametrize(("overflow", "kept"), [("drop_newest", range(1, 6)), ("drop_oldest", range(95, 100))])
def test_full_queue_drops_the_documented_end(server: RecordingServer, overflow: str, kept: range) -> None:
    sink = _sink(server.url, batch_size=1, max_queue=5, overflow=overflow)
    server.gate.clear()  # the server holds every request until released
    sink.emit(_event(0))
    server.wait_for(requests=1)  # event 0 is in flight, the sender blocked in I/O
    for i in range(1, 100):
        sink.emit(_event(i))
    assert sink.stats.dropped == 94
    assert sink.stats.queued == 6  # five queued + one in flight
    server.gate.set()
    assert sink.flush(10.0) is True
    sink.close(5.0)
    assert [e["step"] for e in server.all_events()] == ["s0", *(f"s{i}" for i in kept)]
    assert sink.stats.sent == 6


def test_close_drains_what_is_queued(server: RecordingServer) -> None:
    sink = _sink(server.url, batch_size=20)
    for i in range(50):
        sink.emit(_event(i))
    sink.close(10.0)
    assert server.event_count() == 50
    assert [len(r.events) for r in server.requests] == [20, 20, 10]
    assert sink.stats.sent == 50
    assert sink.stats.queued == 0


def test_many_app_threads_emit_concurrently(server: RecordingServer) -> None:
    sink = _sink(server.url, batch_size=50, flush_interval=0.05)
    threads, per_thread = 8, 250

    def work(t: int) -> None:
        for i in range(per_thread):
            sink.emit(_event(t * per_thread + i))

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    sink.close(10.0)
    steps = sorted(e["step"] for e in server.all_events())
    assert steps == sorted(f"s{i}" for i in range(threads * per_thread))
    assert sink.stats.sent == threads * per_thread
    assert all(len(r.events) <= 50 for r in server.requests)


def test_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError, match="URL"):
        HttpSink("ftp://example", close_at_exit=None)
    with pytest.raises(ValueError, match="overflow"):
        HttpSink("http://127.0.0.1:1", overflow="drop_random", close_at_exit=None)  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_sender(server: RecordingServer) -> None:
    sink = _sink(server.url)
    sink.emit(_event(0))  # queued in the parent, sent by the parent
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 2
        try:
            assert sink.stats.queued == 0
            sink.emit(_event(1))
            sink.close(5.0)
            code = 0 if sink.stats.sent == 1 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    sink.close(5.0)
    assert sink.stats.sent == 1
    assert sorted(e["step"] for e in server.all_events()) == ["s0", "s1"]


def test_an_unserialisable_event_fails_alone_and_the_sender_survives(server: RecordingServer) -> None:
    sink = _sink(server.url, batch_size=1)
    sink.emit(CheckpointEvent(workflow=object(), run_id="r", step="bad", status="saved"))  # type: ignore[arg-type]
    sink.emit(_event(1))
    assert sink.flush(10.0) is True
    sink.close(5.0)
    assert [e["step"] for e in server.all_events()] == ["s1"]
    assert (sink.stats.sent, sink.stats.failed) == (1, 1)


def test_a_batch_too_large_for_the_server_is_split(server: RecordingServer) -> None:
    server.script = [(413, {}), (413, {})]  # refuses 4 events, then 2, then accepts everything
    sink = _sink(server.url, batch_size=4)
    for i in range(4):
        sink.emit(_event(i))
    assert sink.flush(10.0) is True
    sink.close(5.0)
    assert [len(r.events) for r in server.requests] == [4, 2, 1, 1, 2]
    assert [e["step"] for e in server.all_events()[6:]] == ["s0", "s1", "s2", "s3"]
    assert (sink.stats.sent, sink.stats.failed, sink.stats.retried) == (4, 0, 0)


def test_https_with_a_private_ca(tls_server: RecordingServer, self_signed: tuple[Path, Path]) -> None:
    url = tls_server.url.replace("http://", "https://")
    trusted = _sink(url, ssl_context=ssl.create_default_context(cafile=str(self_signed[0])))
    trusted.emit(_event(1))
    trusted.close(5.0)
    assert trusted.stats.sent == 1
    assert tls_server.requests[0].headers["authorization"] == "Bearer k-123"

    untrusted = _sink(url, backoff_initial=0.001)  # the system CA store does not know this certificate
    untrusted.emit(_event(2))
    untrusted.close(5.0)
    assert (untrusted.stats.sent, untrusted.stats.failed, untrusted.stats.retried) == (0, 1, 0)
    assert len(tls_server.requests) == 1

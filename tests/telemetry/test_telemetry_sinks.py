"""The in-process bus and the JSON-lines file sink, with real threads and a real file."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from recoup.telemetry.events import CheckpointEvent, TelemetryEvent, event_from_dict
from recoup.telemetry.sinks import EventBus, JsonLinesSink, Sink
from recoup.testing import FakeClock


def _event(i: int, thread: int = 0) -> CheckpointEvent:
    return CheckpointEvent(workflow="wf", run_id=f"t{thread}", step=f"step-{i}", status="saved")


class _Exploding:
    def emit(self, event: TelemetryEvent) -> None:
        raise RuntimeError("broken sink")

    def flush(self, timeout: float | None = None) -> bool:
        raise RuntimeError("broken sink")

    def close(self, timeout: float | None = None) -> None:
        raise RuntimeError("broken sink")


def test_bus_fans_out_survives_a_broken_sink_and_unsubscribes() -> None:
    bus = EventBus()
    assert not bus
    first: list[TelemetryEvent] = []
    second: list[TelemetryEvent] = []
    bus.subscribe(_Exploding())
    stop_first = bus.subscribe(first.append)
    bus.subscribe(second.append)
    assert bus
    assert isinstance(bus, Sink)

    bus.emit(_event(1))
    stop_first()
    bus.emit(_event(2))

    assert [e.step for e in first] == ["step-1"]
    assert [e.step for e in second] == ["step-1", "step-2"]  # type: ignore[attr-defined]
    assert bus.flush(1.0) is False  # the broken sink could not flush
    bus.close(1.0)
    assert not bus


def test_jsonl_many_threads_every_line_valid_and_none_lost(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path, flush_every=7)
    threads, per_thread = 8, 400
    start = threading.Barrier(threads)
    emitted: list[list[str]] = [[] for _ in range(threads)]

    def work(t: int) -> None:
        start.wait()
        for i in range(per_thread):
            event = _event(i, t)
            emitted[t].append(event.id)
            sink.emit(event)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    sink.close()

    lines = path.read_text(encoding="utf-8").splitlines()
    events = [event_from_dict(json.loads(line)) for line in lines]
    assert len(events) == threads * per_thread
    assert sorted(e.id for e in events) == sorted(i for ids in emitted for i in ids)
    for t in range(threads):  # each thread's own order is kept
        assert [e.id for e in events if e.run_id == f"t{t}"] == emitted[t]  # type: ignore[attr-defined]
    assert sink.stats.sent == threads * per_thread
    assert sink.stats.failed == 0


def test_jsonl_appends_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"type":"checkpoint","schema":1,"workflow":"w","run_id":"r","step":"old","status":"saved"}\n')
    sink = JsonLinesSink(path)
    sink.emit(_event(1))
    sink.close()
    steps = [event_from_dict(json.loads(line)).step for line in path.read_text().splitlines()]  # type: ignore[attr-defined]
    assert steps == ["old", "step-1"]


def test_jsonl_flush_policy_by_count_and_by_interval(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path, flush_every=3, flush_interval=10.0, clock=clock)

    def on_disk() -> int:
        return len(path.read_bytes().splitlines()) if path.exists() else 0

    sink.emit(_event(1))
    sink.emit(_event(2))
    assert on_disk() == 0  # still in the buffer
    sink.emit(_event(3))
    assert on_disk() == 3  # flush_every reached
    sink.emit(_event(4))
    assert on_disk() == 3
    clock.advance(10.0)
    sink.emit(_event(5))
    assert on_disk() == 5  # flush_interval passed
    sink.emit(_event(6))
    assert sink.flush() is True
    assert on_disk() == 6
    sink.close()


def test_jsonl_rotates_by_size_and_keeps_every_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    total = 23
    # Fixed timestamps and same-width steps: every line has the same length (a float timestamp's repr does
    # not, which made the file count depend on the clock).
    events = [
        CheckpointEvent(workflow="wf", run_id="t0", step=f"step-{i:02d}", status="saved", timestamp=1.5e9 + i)
        for i in range(total)
    ]
    line_size = len(json.dumps(events[0].to_dict(), separators=(",", ":")).encode()) + 1
    sink = JsonLinesSink(path, max_bytes=line_size * 5 + 10, backups=10)
    for event in events:
        sink.emit(event)
    sink.close()
    files = [path, *sorted(tmp_path.glob("events.jsonl.*"), key=lambda p: -int(p.suffix[1:]))]
    assert len(files) == 5  # 5+5+5+5+3
    # oldest backup first, live file last
    files_in_age_order = files[1:] + files[:1]
    steps = [json.loads(line)["step"] for f in files_in_age_order for line in f.read_text().splitlines()]
    assert steps == [f"step-{i:02d}" for i in range(total)]
    assert all(f.stat().st_size <= line_size * 5 + 10 for f in files)


def test_jsonl_counts_write_failures_and_drops_after_close(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    sink = JsonLinesSink(blocked / "events.jsonl")  # parent is a file: every write fails
    sink.emit(_event(1))
    sink.emit(_event(2))
    assert sink.stats.failed == 2
    sink.close()
    sink.emit(_event(3))
    assert sink.stats.dropped == 1


def test_default_bus_is_one_per_process() -> None:
    from recoup import telemetry

    bus = telemetry.default_bus()
    assert bus is telemetry.default_bus()
    seen: list[TelemetryEvent] = []
    stop = bus.subscribe(seen.append)
    try:
        bus.emit(_event(1))
    finally:
        stop()
    assert len(seen) == 1

"""How ingest writes values: the payload's JSON text as `NewEvent` made it (never serialised again),
arrays sent to PostgreSQL in binary form (no text escaping to get wrong), SQLite times in exactly the form
SQLAlchemy's own DATETIME writes, and lz4 compression of payloads where PostgreSQL offers it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from store_support import T0, error

from recoup.store import EventKind, NewEvent, Project, Store

AWKWARD = ['"quoted"', "back\\slash", "{braces}", "a,b", "NULL", "", " spaced ", "ünïcødé ✓ 😀", "tab\tnew\nline"]


def test_a_given_payload_json_is_stored_as_is_and_read_back_as_the_object(store: Store, project: Project) -> None:
    payload = {"b": [1, 2.5, None, True], "a": {"nested": "ünï 😀"}}
    # Formatting of the producer's own (orjson-like: compact, UTF-8 unescaped) JSON text.
    given = '{"b":[1,2.5,null,true],"a":{"nested":"ünï 😀"}}'
    event = NewEvent(
        event_id="given", kind=EventKind.ERROR, occurred_at=T0, fingerprint="fp", payload=payload, payload_json=given
    )
    assert store.ingest_events(project.id, [event]).inserted == ("given",)
    stored = store.get_event(project.id, "given")
    assert stored is not None and stored.payload == payload
    if store.dialect == "sqlite":
        with store.engine.connect() as conn:
            raw = conn.execute(text("SELECT payload FROM events WHERE event_id = 'given'")).scalar_one()
        assert raw == given


def test_values_that_need_escaping_in_text_arrays_round_trip(store: Store, project: Project) -> None:
    batch = [
        NewEvent(
            event_id=f"odd-{i}",
            kind=EventKind.ERROR,
            occurred_at=T0 + timedelta(seconds=i),
            message=value,
            exception_type=value or None,
            category=None,
            fingerprint=None,
            title=None,
            payload={"value": value, value: [value]},
        )
        for i, value in enumerate(AWKWARD)
    ]
    result = store.ingest_events(project.id, batch)
    assert len(result.inserted) == len(AWKWARD) and result.groups == {}
    for i, value in enumerate(AWKWARD):
        stored = store.get_event(project.id, f"odd-{i}")
        assert stored is not None
        assert stored.message == value
        assert stored.exception_type == (value or None)
        assert stored.category is None and stored.fingerprint is None and stored.group_id is None
        assert stored.payload == {"value": value, value: [value]}


def test_fingerprints_and_titles_that_need_escaping_make_their_groups(store: Store, project: Project) -> None:
    batch = [error(f"g-{i}", value or "empty", seconds=i, message=value) for i, value in enumerate(AWKWARD)]
    result = store.ingest_events(project.id, [*batch, *batch])
    assert set(result.groups) == {value or "empty" for value in AWKWARD}
    groups = {g.fingerprint: g for g in store.list_groups(project.id, limit=100)}
    assert {fp: g.count for fp, g in groups.items()} == {value or "empty": 1 for value in AWKWARD}
    assert groups['"quoted"'].title == 'ConnectionError: "quoted"'


def test_times_in_other_zones_are_stored_as_utc(store: Store, project: Project) -> None:
    plus_two = timezone(timedelta(hours=2))
    event = NewEvent(event_id="tz", kind=EventKind.ERROR, occurred_at=datetime(2026, 3, 1, 14, 0, tzinfo=plus_two))
    received = datetime(2026, 3, 1, 9, 30, 0, 1, tzinfo=timezone(timedelta(hours=-3)))
    store.ingest_events(project.id, [event], received_at=received)
    stored = store.get_event(project.id, "tz")
    assert stored is not None
    assert stored.occurred_at == T0 and stored.occurred_at.tzinfo == UTC
    assert stored.received_at == received and stored.received_at.tzinfo == UTC


def test_sqlite_times_are_written_in_sqlalchemys_datetime_form(store: Store, project: Project) -> None:
    """The fast insert formats times itself: it must write the very text SQLAlchemy would (reads parse it,
    and SQLite compares and sorts times as text)."""
    if store.dialect != "sqlite":
        return
    times = [
        T0,
        T0 + timedelta(microseconds=123),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    for i, at in enumerate(times):
        store.ingest_events(project.id, [error(f"t{i}", seconds=0)], received_at=at)
    process = sqlite.DATETIME().bind_processor(sqlite.dialect())
    assert process is not None
    with store.engine.connect() as conn:
        raw = {eid: at for eid, at in conn.execute(text("SELECT event_id, received_at FROM events"))}
    assert raw == {f"t{i}": process(at.replace(tzinfo=None)) for i, at in enumerate(times)}
    assert [store.get_event(project.id, f"t{i}").received_at for i in range(len(times))] == times  # type: ignore[union-attr]


def test_postgresql_compresses_payloads_with_lz4_when_it_can(store: Store, project: Project) -> None:
    if store.dialect != "postgresql":
        return
    with store.engine.connect() as conn:
        offered = conn.execute(
            text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        ).scalar()
        method = conn.execute(
            text(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = CAST('events' AS regclass) "
                "AND attname = 'payload'"
            )
        ).scalar_one()
    if offered is None or "lz4" not in offered:
        assert method == ""  # the migration left the default alone
        return
    assert method == "l"
    big = {"frames": [{"context_line": f"line {i} " + "x" * 40, "lineno": i} for i in range(400)]}
    store.ingest_events(project.id, [NewEvent(event_id="big", kind=EventKind.ERROR, occurred_at=T0, payload=big)])
    with store.engine.connect() as conn:
        used = conn.execute(text("SELECT pg_column_compression(payload) FROM events WHERE event_id = 'big'")).scalar()
    assert used == "lz4"
    stored = store.get_event(project.id, "big")
    assert stored is not None and stored.payload == big

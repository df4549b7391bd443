"""Silences: "do not notify about alerts matching these labels until then", as in Alertmanager. A silence is
*pending* before ``starts_at``, *active* until ``ends_at`` and *expired* after; expiring one early sets
``ends_at`` to now. Silenced alerts stay visible (routing marks them ``silenced_by``); only their
notifications stop.

Two stores with one protocol: `InMemorySilenceStore` (tests, embedded use) and `SqlSilenceStore` on
`recoup.store.Store`, which keeps the silences that have not ended in memory so the routing hot path never
queries the database.
"""

from __future__ import annotations

import builtins
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recoup.incidents.model import Labels, Matcher
from recoup.store import Store
from recoup.store.models_silences import SilenceRow

_log = logging.getLogger(__name__)

MAX_MATCHERS = 32
MAX_MATCHER_LENGTH = 1000
MAX_CREATED_BY = 200
MAX_COMMENT = 2000


class SilenceState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


class SilenceError(ValueError):
    """A silence that cannot be created; ``field`` names the offending field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class UnknownSilence(LookupError):
    """No silence has this id."""


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    created_by: str
    comment: str
    created_at: float
    updated_at: float

    def state(self, now: float) -> SilenceState:
        if now < self.starts_at:
            return SilenceState.PENDING
        if now < self.ends_at:
            return SilenceState.ACTIVE
        return SilenceState.EXPIRED

    def is_active(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, labels: Labels) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def to_dict(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "matchers": [str(m) for m in self.matchers],
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "created_by": self.created_by,
            "comment": self.comment,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "state": self.state(now).value,
        }


def parse_matchers(matchers: Iterable[str | Matcher]) -> tuple[Matcher, ...]:
    """Validated silence matchers; `SilenceError` naming ``matchers[i]`` for the first bad one."""
    items = list(matchers)
    if not items:
        raise SilenceError("matchers", "a silence needs at least one matcher")
    if len(items) > MAX_MATCHERS:
        raise SilenceError("matchers", f"at most {MAX_MATCHERS} matchers, got {len(items)}")
    parsed: list[Matcher] = []
    for i, item in enumerate(items):
        if isinstance(item, Matcher):
            parsed.append(item)
            continue
        if not isinstance(item, str):
            raise SilenceError(f"matchers[{i}]", f"expected a matcher like severity=\"warning\", got {item!r}")
        if len(item) > MAX_MATCHER_LENGTH:
            raise SilenceError(f"matchers[{i}]", f"longer than {MAX_MATCHER_LENGTH} characters")
        try:
            parsed.append(Matcher.parse(item))
        except ValueError as exc:
            raise SilenceError(f"matchers[{i}]", str(exc)) from None
    if all(m.matches({}) for m in parsed):
        # Such a silence would also mute alerts that lack every label it names: in effect, every alert.
        raise SilenceError("matchers", "at least one matcher must not match an empty or missing label "
                           "(these would silence every alert)")
    return tuple(parsed)


def new_silence(
    matchers: Iterable[str | Matcher],
    *,
    ends_at: float,
    created_by: str,
    comment: str = "",
    starts_at: float | None = None,
    now: float,
) -> Silence:
    """A validated new silence with a fresh id. A start in the past becomes now, as in Alertmanager."""
    parsed = parse_matchers(matchers)
    if not isinstance(created_by, str) or not created_by.strip():
        raise SilenceError("created_by", "say who creates the silence")
    if len(created_by) > MAX_CREATED_BY:
        raise SilenceError("created_by", f"longer than {MAX_CREATED_BY} characters")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise SilenceError("comment", f"expected text of at most {MAX_COMMENT} characters")
    start = now if starts_at is None else _time("starts_at", starts_at)
    start = max(start, now)
    end = _time("ends_at", ends_at)
    if end <= start:
        raise SilenceError("ends_at", "must be after starts_at (and after now)")
    return Silence(str(uuid.uuid4()), parsed, start, end, created_by.strip(), comment, now, now)


def _time(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value in (
        float("inf"), float("-inf")
    ):
        raise SilenceError(field, f"expected a time in epoch seconds, got {value!r}")
    return float(value)


class SilenceStore(Protocol):
    """Where silences live. ``silenced_by`` is on routing's hot path and must not do I/O."""

    def create(
        self,
        matchers: Sequence[str | Matcher],
        *,
        ends_at: float,
        created_by: str,
        comment: str = "",
        starts_at: float | None = None,
    ) -> Silence: ...

    def expire(self, silence_id: str) -> Silence: ...

    def get(self, silence_id: str) -> Silence | None: ...

    def list(self, state: SilenceState | str | None = None) -> builtins.list[Silence]: ...

    def silenced_by(self, labels: Labels, now: float) -> builtins.list[str]: ...


def _state_filter(state: SilenceState | str | None) -> SilenceState | None:
    if state is None:
        return None
    try:
        return SilenceState(state)
    except ValueError:
        raise SilenceError("state", f"expected one of pending, active, expired; got {state!r}") from None


def _ordered(silences: Iterable[Silence]) -> builtins.list[Silence]:
    """Active and pending first (soonest to end first), then expired (most recently ended first)."""
    return sorted(silences, key=lambda s: (s.ends_at, s.id))


class InMemorySilenceStore:
    """Silences in a dict: for tests and for running without a database. Thread-safe."""

    def __init__(self, *, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._silences: dict[str, Silence] = {}
        self._lock = threading.Lock()

    def create(
        self,
        matchers: Sequence[str | Matcher],
        *,
        ends_at: float,
        created_by: str,
        comment: str = "",
        starts_at: float | None = None,
    ) -> Silence:
        silence = new_silence(matchers, ends_at=ends_at, created_by=created_by, comment=comment,
                              starts_at=starts_at, now=self._clock())
        with self._lock:
            self._silences[silence.id] = silence
        return silence

    def expire(self, silence_id: str) -> Silence:
        now = self._clock()
        with self._lock:
            silence = self._silences.get(silence_id)
            if silence is None:
                raise UnknownSilence(f"no silence {silence_id!r}")
            if silence.state(now) is SilenceState.EXPIRED:
                return silence
            expired = _expired(silence, now)
            self._silences[silence_id] = expired
            return expired

    def get(self, silence_id: str) -> Silence | None:
        with self._lock:
            return self._silences.get(silence_id)

    def list(self, state: SilenceState | str | None = None) -> builtins.list[Silence]:
        wanted = _state_filter(state)
        now = self._clock()
        with self._lock:
            return _ordered(s for s in self._silences.values() if wanted is None or s.state(now) is wanted)

    def silenced_by(self, labels: Labels, now: float) -> builtins.list[str]:
        with self._lock:
            return sorted(s.id for s in self._silences.values() if s.is_active(now) and s.matches(labels))

    def purge(self, ended_before: float) -> int:
        """Forget silences that ended before ``ended_before``; returns how many."""
        with self._lock:
            old = [sid for sid, s in self._silences.items() if s.ends_at < ended_before]
            for sid in old:
                del self._silences[sid]
            return len(old)


def _expired(silence: Silence, now: float) -> Silence:
    """``silence`` ended at ``now`` (a pending one never started: it starts and ends now)."""
    return Silence(silence.id, silence.matchers, min(silence.starts_at, now), now, silence.created_by,
                   silence.comment, silence.created_at, now)


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _row_to_silence(row: SilenceRow) -> Silence:
    return Silence(
        id=row.id,
        matchers=tuple(Matcher.parse(str(text)) for text in row.matchers),
        starts_at=row.starts_at.timestamp(),
        ends_at=row.ends_at.timestamp(),
        created_by=row.created_by,
        comment=row.comment,
        created_at=row.created_at.timestamp(),
        updated_at=row.updated_at.timestamp(),
    )


class SqlSilenceStore:
    """Silences in the store's ``silences`` table. The silences that have not ended are cached in memory:
    reloaded after every write through this object, and at most ``refresh_every`` seconds old otherwise (so
    silences written by another server process take effect within that time). A failed reload keeps the
    previous cache and is logged: silences keep working on the last known set while the database is away."""

    def __init__(
        self, store: Store, *, clock: Callable[[], float], refresh_every: float = 15.0, load: bool = True
    ) -> None:
        self._store = store
        self._clock = clock
        self._refresh_every = refresh_every
        self._lock = threading.Lock()
        self._cache: dict[str, Silence] = {}
        self._loaded_at = float("-inf")
        if load:  # a server starts with load=False: the first lookup loads, so a database outage cannot block start-up
            self.refresh()

    def refresh(self) -> None:
        """Reload the cache of silences that have not ended yet (raises `StoreUnavailable` if it cannot)."""
        now = self._clock()

        def work(session: Session) -> builtins.list[Silence]:
            rows = session.scalars(select(SilenceRow).where(SilenceRow.ends_at > _dt(now))).all()
            return [_row_to_silence(row) for row in rows]

        current = self._store.transaction(work, write=False)
        with self._lock:
            self._cache = {s.id: s for s in current}
            self._loaded_at = now

    def create(
        self,
        matchers: Sequence[str | Matcher],
        *,
        ends_at: float,
        created_by: str,
        comment: str = "",
        starts_at: float | None = None,
    ) -> Silence:
        silence = new_silence(matchers, ends_at=ends_at, created_by=created_by, comment=comment,
                              starts_at=starts_at, now=self._clock())

        def work(session: Session) -> None:
            session.add(SilenceRow(
                id=silence.id,
                matchers=[str(m) for m in silence.matchers],
                starts_at=_dt(silence.starts_at),
                ends_at=_dt(silence.ends_at),
                created_by=silence.created_by,
                comment=silence.comment,
                created_at=_dt(silence.created_at),
                updated_at=_dt(silence.updated_at),
            ))

        self._store.transaction(work)
        self._after_write(silence)
        return silence

    def expire(self, silence_id: str) -> Silence:
        now = self._clock()

        def work(session: Session) -> Silence:
            row = session.get(SilenceRow, silence_id, with_for_update=True)
            if row is None:
                raise UnknownSilence(f"no silence {silence_id!r}")
            silence = _row_to_silence(row)
            if silence.state(now) is SilenceState.EXPIRED:
                return silence
            expired = _expired(silence, now)
            row.starts_at = _dt(expired.starts_at)
            row.ends_at = _dt(expired.ends_at)
            row.updated_at = _dt(now)
            return expired

        expired = self._store.transaction(work)
        self._after_write(expired)
        return expired

    def _after_write(self, changed: Silence) -> None:
        """Make the write visible to ``silenced_by`` at once, then pick up other processes' writes too."""
        with self._lock:
            self._cache[changed.id] = changed
        try:
            self.refresh()
        except Exception:
            _log.warning("silences: reloading the cache after a write failed; it has this write, and will "
                         "reload later", exc_info=True)

    def get(self, silence_id: str) -> Silence | None:
        def work(session: Session) -> Silence | None:
            row = session.get(SilenceRow, silence_id)
            return None if row is None else _row_to_silence(row)

        return self._store.transaction(work, write=False)

    def list(self, state: SilenceState | str | None = None, *, limit: int = 1000) -> builtins.list[Silence]:
        """Silences in ``state`` (all when None), from the database; expired ones most recent first."""
        wanted = _state_filter(state)
        now = _dt(self._clock())

        def work(session: Session) -> builtins.list[Silence]:
            query = select(SilenceRow)
            if wanted is SilenceState.PENDING:
                query = query.where(SilenceRow.starts_at > now, SilenceRow.ends_at > now)
            elif wanted is SilenceState.ACTIVE:
                query = query.where(SilenceRow.starts_at <= now, SilenceRow.ends_at > now)
            elif wanted is SilenceState.EXPIRED:
                query = query.where(SilenceRow.ends_at <= now)
            query = query.order_by(SilenceRow.ends_at.desc(), SilenceRow.id).limit(limit)
            return [_row_to_silence(row) for row in session.scalars(query)]

        found = self._store.transaction(work, write=False)
        ended = [s for s in found if s.ends_at <= now.timestamp()]
        return _ordered(s for s in found if s.ends_at > now.timestamp()) + ended

    def silenced_by(self, labels: Labels, now: float) -> builtins.list[str]:
        """The ids of the active silences matching ``labels``, from the cache (no query unless the cache is
        older than ``refresh_every``)."""
        if self._clock() - self._loaded_at > self._refresh_every:
            try:
                self.refresh()
            except Exception:
                _log.warning("silences: cannot reload from the database; using the %d cached", len(self._cache),
                             exc_info=True)
                self._loaded_at = self._clock()  # retry after another refresh_every, not on every alert
        with self._lock:
            return sorted(s.id for s in self._cache.values() if s.is_active(now) and s.matches(labels))

    def purge(self, ended_before: float) -> int:
        """Delete silences that ended before ``ended_before``; returns how many."""

        def work(session: Session) -> int:
            result = session.execute(delete(SilenceRow).where(SilenceRow.ends_at < _dt(ended_before)))
            return int(getattr(result, "rowcount", 0) or 0)

        return self._store.transaction(work)


"""`Store`: the small, typed, synchronous API the server calls. One session (one transaction) per call.

Why these shapes:

* Ingest is one transaction per batch: make sure the batch's groups exist and lock them (sorted by
  fingerprint), insert the events with ``ON CONFLICT (project_id, event_id) DO NOTHING ... RETURNING``,
  then add only the events that really went in to their groups' counters. A redelivered event therefore
  never counts twice, even when two processes ingest the same batch at once (PostgreSQL makes the second
  insert of a key wait for the first transaction, then skip it). Every ingest takes its locks in the same
  order (groups by fingerprint, then events by id), so concurrent batches queue instead of deadlocking;
  a deadlock or serialisation failure is retried anyway. Statements never depend on a join plan, so
  ingest cost stays flat as the tables grow.
* The hot path is cheap per event: the events insert is fixed driver-level SQL (on PostgreSQL one
  statement with one BINARY array per column, and one statement per step for all of a batch's groups; on
  SQLite multi-row VALUES with values already in stored form), and payloads go in as the JSON text that
  `NewEvent` made once (``payload_json``), never serialised again. See benchmarks/store_ingest.py.
* Group counters are maintained at ingest, never recomputed from events, so retention can delete old
  events and the counts stay true.
* Ingest runs on a plain Core connection, not an ORM session, and does not look its project up first: the
  project's foreign key refuses the first row of a project that does not exist, and only then is the
  missing project looked up to raise `NotFound`. That halves the Python cost of a small commit (a Sentry
  envelope's: ~0.97 ms to ~0.49 ms of CPU for one event on PostgreSQL) and saves a round trip.
* Connection loss surfaces as `StoreUnavailable` (nothing committed; the server spools and retries);
  bad input as `InvalidInput` naming the field, before any write.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Engine,
    Table,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from recoup.store.engine import BEGIN_MODE_OPTION, create_store_engine
from recoup.store.migrate import migrate as run_migrations
from recoup.store.models import AdminTokenRow, AlertRow, ErrorGroupRow, EventRow, ProjectKeyRow, ProjectRow, UTCDateTime
from recoup.store.values import (
    NAME_MAX,
    AdminToken,
    Alert,
    AlertStatus,
    ErrorGroup,
    EventKind,
    GroupStatus,
    IngestResult,
    InvalidInput,
    Level,
    NewAlert,
    NewEvent,
    NotFound,
    Project,
    ProjectKey,
    StoredEvent,
    StoreUnavailable,
    positive_int,
    utcnow,
)

T = TypeVar("T")
_log = logging.getLogger(__name__)

_EVENTS = cast(Table, EventRow.__table__)
_GROUPS = cast(Table, ErrorGroupRow.__table__)
_ALERTS = cast(Table, AlertRow.__table__)

#: Admin tokens look like ``rcp_<43 url-safe chars>``: 256 random bits, recognisable in logs and scanners.
TOKEN_PREFIX = "rcp_"
_TOKEN_DISPLAY = 8
MIN_SUPPLIED_TOKEN = 24
MAX_PAGE = 1000
#: Items per IN (...) list: well under SQLite's 32766 bound variables and PostgreSQL's 65535.
_CHUNK = 500
_RETRIES = 5
# PostgreSQL deadlock_detected and serialization_failure: the transaction was rolled back, so retrying is safe.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def _to_project(row: ProjectRow) -> Project:
    return Project(id=row.id, name=row.name, slug=row.slug, created_at=row.created_at)


def _to_group(row: ErrorGroupRow) -> ErrorGroup:
    return ErrorGroup(
        id=row.id,
        project_id=row.project_id,
        fingerprint=row.fingerprint,
        title=row.title,
        category=row.category,
        status=GroupStatus(row.status),
        count=row.count,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


def _to_event(row: EventRow) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        project_id=row.project_id,
        event_id=row.event_id,
        kind=EventKind(row.kind),
        level=Level(row.level),
        received_at=row.received_at,
        occurred_at=row.occurred_at,
        group_id=row.group_id,
        category=row.category,
        fingerprint=row.fingerprint,
        message=row.message,
        exception_type=row.exception_type,
        payload=row.payload,
    )


def _to_alert(row: AlertRow) -> Alert:
    return Alert(
        id=row.id,
        project_id=row.project_id,
        fingerprint=row.fingerprint,
        status=AlertStatus(row.status),
        labels=row.labels,
        annotations=row.annotations,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        generator_url=row.generator_url,
        updated_at=row.updated_at,
    )


def _to_token(row: AdminTokenRow) -> AdminToken:
    return AdminToken(id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at, revoked_at=row.revoked_at)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def slugify(name: str) -> str:
    """``"My API (prod)"`` → ``"my-api-prod"``: ASCII, lowercase, dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "project"


def _like_pattern(text_: str) -> str:
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Store:
    """The service's durable store. Thread-safe: every method opens and closes its own session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self._read = sessionmaker(engine, expire_on_commit=False)
        # On SQLite, write transactions take the write lock up front (BEGIN IMMEDIATE); see engine.py.
        self._write_engine = engine.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"})
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)
        self._build_statements()

    def _build_statements(self) -> None:
        """The hot upserts, built once per store (their compiled forms are then cached by SQLAlchemy)."""
        self._insert_groups = self._insert(_GROUPS).on_conflict_do_nothing(index_elements=["project_id", "fingerprint"])
        created = bindparam("created", type_=Boolean())
        self._count_groups = (
            update(_GROUPS)
            .where(_GROUPS.c.id == bindparam("gid"))
            .values(
                count=_GROUPS.c.count + bindparam("n", type_=BigInteger()),
                first_seen=case(
                    (created, bindparam("first", type_=UTCDateTime())),
                    else_=self._least(_GROUPS.c.first_seen, bindparam("first", type_=UTCDateTime())),
                ),
                last_seen=case(
                    (created, bindparam("last", type_=UTCDateTime())),
                    else_=self._greatest(_GROUPS.c.last_seen, bindparam("last", type_=UTCDateTime())),
                ),
                # A resolved group that receives a new event has regressed: reopen it.
                status=func.coalesce(
                    func.nullif(_GROUPS.c.status, GroupStatus.RESOLVED.value), GroupStatus.UNRESOLVED.value
                ),
            )
        )
        alerts = self._insert(_ALERTS)
        self._upsert_alerts = alerts.on_conflict_do_update(
            index_elements=["scope", "fingerprint", "starts_at"],
            set_={
                # Resolved is final for an episode: a late "firing" copy does not reopen it.
                "status": func.coalesce(
                    func.nullif(alerts.excluded.status, AlertStatus.FIRING.value),
                    func.nullif(_ALERTS.c.status, AlertStatus.FIRING.value),
                    AlertStatus.FIRING.value,
                ),
                "ends_at": case(
                    (_ALERTS.c.status == AlertStatus.RESOLVED.value, _ALERTS.c.ends_at),
                    else_=alerts.excluded.ends_at,
                ),
                "labels": alerts.excluded.labels,
                "annotations": alerts.excluded.annotations,
                "generator_url": alerts.excluded.generator_url,
                "updated_at": alerts.excluded.updated_at,
            },
        ).returning(_ALERTS.c.id)

    # -- plumbing -------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _transaction(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """Run ``work`` in one transaction, retrying deadlocks and serialisation failures; map connection loss to
        `StoreUnavailable`."""
        factory = self._write if write else self._read

        def in_session() -> T:
            with factory() as session, session.begin():
                return work(session)

        return self._retrying(in_session)

    def _core_transaction(self, work: Callable[[Connection], T]) -> T:
        """A write transaction on a plain Core connection: the ingest hot path, which needs no ORM session
        (a session costs a few hundred µs of Python per commit, as much as 16 Sentry events' parsing)."""

        def on_connection() -> T:
            with self._write_engine.begin() as conn:
                return work(conn)

        return self._retrying(on_connection)

    def _retrying(self, attempt_once: Callable[[], T]) -> T:
        """Run one transaction attempt, retrying deadlocks and serialisation failures; map connection loss to
        `StoreUnavailable` and values the database refuses to `InvalidInput`."""
        for attempt in range(_RETRIES):
            try:
                return attempt_once()
            except DataError as exc:
                # A value the database refuses (out of range, bad encoding) is the caller's input, not a fault.
                raise InvalidInput("input", f"rejected by the database: {exc.orig}") from exc
            except (OperationalError, InterfaceError, DBAPIError) as exc:
                if isinstance(exc, IntegrityError):
                    raise
                if self._retryable(exc) and attempt < _RETRIES - 1:
                    _log.info("retrying a transaction after %s (attempt %d)", exc.orig, attempt + 1)
                    time.sleep(0.01 * 2**attempt + secrets.randbelow(10) / 1000)
                    continue
                if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
                    raise StoreUnavailable(f"database unavailable: {exc.orig!r}") from exc
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def transaction(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """Public form of the store's transaction runner, for repositories that live in their own modules
        (notifications, incidents): same retries, same `StoreUnavailable` and `InvalidInput` mapping."""
        return self._transaction(work, write=write)

    @staticmethod
    def _retryable(exc: DBAPIError) -> bool:
        # SQLite's "database is locked" is not retried: busy_timeout already waited that long, and the
        # caller (the server) should rather spool than hold the request any longer.
        return getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES

    def _insert(self, table: Table) -> Any:
        """The dialect's INSERT, which knows ``ON CONFLICT``."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def _greatest(self, a: Any, b: Any) -> Any:
        return func.greatest(a, b) if self.dialect == "postgresql" else func.max(a, b)

    def _least(self, a: Any, b: Any) -> Any:
        return func.least(a, b) if self.dialect == "postgresql" else func.min(a, b)

    def ping(self) -> None:
        """Readiness: return when the database answers a query, raise `StoreUnavailable` when not."""
        self._transaction(lambda s: s.execute(sql_text("SELECT 1")).scalar_one(), write=False)

    # -- projects and keys ------------------------------------------------------------------------------

    def create_project(self, name: str, *, rate_limit_per_minute: int | None = None) -> tuple[Project, ProjectKey]:
        """Create a project and its first ingest key. The slug derives from the name and is made unique
        with a numeric suffix."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name", "must be a non-empty string")
        name = name.strip()
        if len(name) > NAME_MAX:
            raise InvalidInput("name", f"is {len(name)} characters long, at most {NAME_MAX} allowed")
        if rate_limit_per_minute is not None:
            positive_int("rate_limit_per_minute", rate_limit_per_minute)
        base = slugify(name)

        def work(session: Session) -> tuple[Project, ProjectKey]:
            taken = set(session.scalars(select(ProjectRow.slug).where(ProjectRow.slug.like(f"{base}%"))))
            slug, n = base, 1
            while slug in taken:
                n += 1
                slug = f"{base}-{n}"
            project = ProjectRow(name=name, slug=slug, created_at=utcnow())
            session.add(project)
            session.flush()
            key = self._new_key(session, project, rate_limit_per_minute)
            return _to_project(project), key

        try:
            return self._transaction(work)
        except IntegrityError:
            # Two creators raced for the same slug; the retry sees the winner's and picks the next one.
            return self._transaction(work)

    def create_key(self, project_id: int, *, rate_limit_per_minute: int | None = None) -> ProjectKey:
        """Another ingest key for a project (keys can be rotated: create, then deactivate the old one)."""
        if rate_limit_per_minute is not None:
            positive_int("rate_limit_per_minute", rate_limit_per_minute)

        def work(session: Session) -> ProjectKey:
            project = session.get(ProjectRow, project_id)
            if project is None:
                raise NotFound(f"project {project_id} does not exist")
            return self._new_key(session, project, rate_limit_per_minute)

        return self._transaction(work)

    @staticmethod
    def _new_key(session: Session, project: ProjectRow, rate_limit: int | None) -> ProjectKey:
        # 128 random bits as 32 hex digits: the shape Sentry SDKs expect of a DSN's public key.
        row = ProjectKeyRow(
            project_id=project.id,
            public_key=secrets.token_hex(16),
            secret_hash=None,
            active=True,
            rate_limit_per_minute=rate_limit,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return ProjectKey(
            id=row.id,
            project=_to_project(project),
            public_key=row.public_key,
            active=row.active,
            rate_limit_per_minute=row.rate_limit_per_minute,
            created_at=row.created_at,
        )

    def set_key_active(self, public_key: str, active: bool) -> bool:
        """Enable or disable an ingest key; False when there is no such key."""

        def work(session: Session) -> bool:
            result = session.execute(
                update(ProjectKeyRow).where(ProjectKeyRow.public_key == public_key).values(active=active)
            )
            return bool(getattr(result, "rowcount", 0))

        return self._transaction(work)

    def get_project_by_key(self, public_key: str, *, include_inactive: bool = False) -> ProjectKey | None:
        """The active key ``public_key`` with its project, or None (unknown or disabled key). With
        ``include_inactive`` a disabled key is returned too (``active=False``), so callers can tell a
        revoked key from an unknown one."""

        def work(session: Session) -> ProjectKey | None:
            query = (
                select(ProjectKeyRow, ProjectRow)
                .join(ProjectRow, ProjectRow.id == ProjectKeyRow.project_id)
                .where(ProjectKeyRow.public_key == public_key)
            )
            if not include_inactive:
                query = query.where(ProjectKeyRow.active.is_(True))
            found = session.execute(query).first()
            if found is None:
                return None
            key, project = found
            return ProjectKey(
                id=key.id,
                project=_to_project(project),
                public_key=key.public_key,
                active=key.active,
                rate_limit_per_minute=key.rate_limit_per_minute,
                created_at=key.created_at,
            )

        if not isinstance(public_key, str) or not public_key or len(public_key) > 64:
            return None
        return self._transaction(work, write=False)

    def get_project(self, project_id: int) -> Project | None:
        """The project with this id, or None."""

        def work(session: Session) -> Project | None:
            row = session.get(ProjectRow, project_id)
            return None if row is None else _to_project(row)

        return self._transaction(work, write=False)

    def list_projects(self) -> list[Project]:
        """All projects, oldest first."""
        return self._transaction(
            lambda s: [_to_project(r) for r in s.scalars(select(ProjectRow).order_by(ProjectRow.id))], write=False
        )

    def list_keys(self, project_id: int) -> list[ProjectKey]:
        """A project's ingest keys, active or not, oldest first."""

        def work(session: Session) -> list[ProjectKey]:
            project = session.get(ProjectRow, project_id)
            if project is None:
                raise NotFound(f"project {project_id} does not exist")
            rows = session.scalars(
                select(ProjectKeyRow).where(ProjectKeyRow.project_id == project_id).order_by(ProjectKeyRow.id)
            )
            return [
                ProjectKey(
                    id=r.id,
                    project=_to_project(project),
                    public_key=r.public_key,
                    active=r.active,
                    rate_limit_per_minute=r.rate_limit_per_minute,
                    created_at=r.created_at,
                )
                for r in rows
            ]

        return self._transaction(work, write=False)

    # -- admin tokens ------------------------------------------------------------------------------------

    def create_admin_token(self, name: str = "", *, token: str | None = None) -> tuple[str, AdminToken]:
        """Issue an admin token and return ``(plaintext, record)``; only the sha256 and a display prefix
        are stored, so the plaintext is shown once. ``token`` registers a token chosen elsewhere (e.g. from
        an environment variable); it must be long enough to be unguessable."""
        if token is None:
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        elif not isinstance(token, str) or len(token) < MIN_SUPPLIED_TOKEN or not token.isprintable():
            raise InvalidInput("token", f"must be a printable string of at least {MIN_SUPPLIED_TOKEN} characters")
        if not isinstance(name, str) or len(name) > NAME_MAX:
            raise InvalidInput("name", f"must be a string of at most {NAME_MAX} characters")
        plaintext = token
        digest = _hash_token(plaintext)

        def work(session: Session) -> AdminToken:
            existing = session.scalars(select(AdminTokenRow).where(AdminTokenRow.token_hash == digest)).first()
            if existing is not None:  # registering the same env-var token on every start is a no-op
                return _to_token(existing)
            row = AdminTokenRow(
                name=name, prefix=plaintext[:_TOKEN_DISPLAY], token_hash=digest, created_at=utcnow(), revoked_at=None
            )
            session.add(row)
            session.flush()
            return _to_token(row)

        return plaintext, self._transaction(work)

    def verify_admin_token(self, token: str) -> bool:
        """True when ``token`` is a live admin token. Rows are found by the non-secret prefix and the
        hashes compared in constant time, so response time does not reveal how much of a guess matched."""
        if not isinstance(token, str) or len(token) < _TOKEN_DISPLAY:
            return False
        digest = _hash_token(token)

        def work(session: Session) -> bool:
            candidates = session.scalars(
                select(AdminTokenRow.token_hash).where(
                    AdminTokenRow.prefix == token[:_TOKEN_DISPLAY], AdminTokenRow.revoked_at.is_(None)
                )
            ).all()
            matched = False
            for candidate in candidates:
                matched |= hmac.compare_digest(candidate, digest)
            return matched

        return self._transaction(work, write=False)

    def revoke_admin_token(self, token_id: int) -> bool:
        """Revoke a token by id; False when there is no such live token."""

        def work(session: Session) -> bool:
            result = session.execute(
                update(AdminTokenRow)
                .where(AdminTokenRow.id == token_id, AdminTokenRow.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            return bool(getattr(result, "rowcount", 0))

        return self._transaction(work)

    def list_admin_tokens(self) -> list[AdminToken]:
        """Every admin token record (never a plaintext)."""
        return self._transaction(
            lambda s: [_to_token(r) for r in s.scalars(select(AdminTokenRow).order_by(AdminTokenRow.id))],
            write=False,
        )

    # -- ingest ------------------------------------------------------------------------------------------

    def ingest_events(
        self, project_id: int, events: Sequence[NewEvent], *, received_at: datetime | None = None
    ) -> IngestResult:
        """Store a batch in one transaction, exactly once per (project, event_id), counting new events
        into their groups. ``received_at`` defaults to now (tests and spool replay pass their own)."""
        for index, item in enumerate(events):
            if not isinstance(item, NewEvent):
                raise InvalidInput(f"events[{index}]", f"must be a NewEvent, got {type(item).__name__}")
        if received_at is not None and (received_at.tzinfo is None or received_at.utcoffset() is None):
            raise InvalidInput("received_at", "must be timezone-aware")
        # One batch of the group commit: same transaction, locks and results (first occurrence of an id wins
        # within a batch; later copies are duplicates like a redelivery's).
        return self.ingest_many([(project_id, events, received_at)])[0]

    def _insert_event_rows(
        self,
        conn: Connection,
        project_id: int,
        received_at: datetime,
        events: Sequence[NewEvent],
        groups: dict[str, int],
    ) -> set[str]:
        """Insert ``events`` (distinct ids, sorted by id: the lock order) with ``ON CONFLICT DO NOTHING``;
        returns the ids that went in. The statements are fixed driver-level SQL: no per-call compilation, no
        per-row parameter dicts or bind processing, and each payload goes in as the JSON text `NewEvent`
        already made (``payload_json``) instead of being serialised again."""
        if self.dialect == "postgresql":
            params = {
                "project_id": project_id,
                "received_at": received_at,
                "event_id": [e.event_id for e in events],
                "kind": [e.kind.value for e in events],
                "level": [e.level.value for e in events],
                "occurred_at": [e.occurred_at for e in events],
                "group_id": [groups[e.fingerprint] if e.fingerprint else None for e in events],
                "category": [e.category for e in events],
                "fingerprint": [e.fingerprint for e in events],
                "message": [e.message for e in events],
                "exception_type": [e.exception_type for e in events],
                "payload": [e.payload_json for e in events],
            }
            return set(conn.exec_driver_sql(_PG_INSERT_EVENTS, params).scalars())
        received = _sqlite_time(received_at)
        inserted: set[str] = set()
        for chunk in _chunks(events, _SQLITE_ROWS):
            flat: list[Any] = []
            for e in chunk:
                flat += (
                    project_id,
                    e.event_id,
                    e.kind.value,
                    e.level.value,
                    received,
                    _sqlite_time(e.occurred_at),
                    groups[e.fingerprint] if e.fingerprint else None,
                    e.category,
                    e.fingerprint,
                    e.message,
                    e.exception_type,
                    e.payload_json,
                )
            inserted.update(conn.exec_driver_sql(_sqlite_insert_events(len(chunk)), tuple(flat)).scalars())
        return inserted

    def _lock_groups(
        self, conn: Connection, project_id: int, batch: Sequence[NewEvent]
    ) -> tuple[dict[str, int], set[str], dict[str, int]]:
        """Make sure a group exists for every fingerprint in the batch and lock those rows, in fingerprint
        order, for the rest of the transaction. Returns fingerprint → id of the group its events go to (the
        merge target for a merged group, also locked), the fingerprints created here, and fingerprint → its
        own group's id for the merged ones (whose own counters still count their events, for a later split).

        Locking groups *before* inserting events gives every ingest the same lock order (groups sorted,
        then event ids sorted), so concurrent batches queue instead of deadlocking, and lets each event
        row be written with its group id at once instead of being updated afterwards."""
        first: dict[str, NewEvent] = {}
        for e in sorted(batch, key=_time_and_id):
            if e.fingerprint and e.fingerprint not in first:
                first[e.fingerprint] = e
        if not first:
            return {}, set(), {}
        fingerprints = sorted(first)
        groups: dict[str, int] = {}
        created: set[str] = set()
        merged: dict[str, int] = {}
        if self.dialect == "postgresql":
            # One statement per step whatever the number of fingerprints; the insert takes the rows in the
            # order of the (Python-sorted) arrays, as the former one-row-per-fingerprint executemany did.
            conn.exec_driver_sql(
                _PG_INSERT_GROUPS,
                {
                    "project_id": project_id,
                    "fingerprint": fingerprints,
                    "title": [first[fp].group_title() for fp in fingerprints],
                    "category": [first[fp].category for fp in fingerprints],
                    "seen": [first[fp].occurred_at for fp in fingerprints],
                },
            )
            locked: Any = conn.exec_driver_sql(
                _PG_LOCK_GROUPS, {"project_id": project_id, "fingerprint": fingerprints}
            )
            for gid, fp, count, into in locked:
                groups[fp] = gid
                if count == 0:
                    created.add(fp)
                if into is not None:
                    merged[fp] = into
            if not merged:
                return groups, created, {}
            own = {fp: groups[fp] for fp in merged}
            return self._follow_merges(conn, groups, merged), created, own
        conn.execute(
            self._insert_groups,
            [
                {
                    "project_id": project_id,
                    "fingerprint": fp,
                    "title": first[fp].group_title(),
                    "category": first[fp].category,
                    "status": GroupStatus.UNRESOLVED.value,
                    # count 0 marks "created by this transaction": committed groups always count >= 1.
                    "count": 0,
                    "first_seen": first[fp].occurred_at,
                    "last_seen": first[fp].occurred_at,
                }
                for fp in fingerprints
            ],
        )
        for chunk in _chunks(fingerprints):
            locked = conn.execute(
                select(_GROUPS.c.id, _GROUPS.c.fingerprint, _GROUPS.c.count, _GROUPS.c.merged_into)
                .where(_GROUPS.c.project_id == project_id, _GROUPS.c.fingerprint.in_(chunk))
                .order_by(_GROUPS.c.fingerprint)
                .with_for_update()
            )
            for gid, fp, count, into in locked:
                groups[fp] = gid
                if count == 0:
                    created.add(fp)
                if into is not None:
                    merged[fp] = into
        if not merged:
            return groups, created, {}
        own = {fp: groups[fp] for fp in merged}
        return self._follow_merges(conn, groups, merged), created, own

    def _follow_merges(self, conn: Connection, groups: dict[str, int], merged: dict[str, int]) -> dict[str, int]:
        """``groups`` with each merged fingerprint sent to its target, whose rows are locked too (in id
        order). Merges are flat (a target is never merged itself), so one hop is enough."""
        targets = sorted(set(merged.values()))
        conn.execute(select(_GROUPS.c.id).where(_GROUPS.c.id.in_(targets)).order_by(_GROUPS.c.id).with_for_update())
        return {**groups, **merged}

    def _add_to_groups(
        self, conn: Connection, groups: dict[str, int], created: set[str], new_events: Sequence[NewEvent],
        own: dict[str, int] | None = None,
    ) -> set[str]:
        """Count the events that really went in into their (locked) groups (a merged fingerprint's events
        into both its target and its own group, see `_lock_groups`); drop groups created for a batch whose
        events all turned out to be duplicates. Returns the created groups that were kept."""
        counts: dict[str, int] = {}
        first_seen: dict[str, datetime] = {}
        last_seen: dict[str, datetime] = {}
        for e in new_events:
            fp = e.fingerprint or ""
            at = e.occurred_at
            if fp in counts:
                counts[fp] += 1
                if at < first_seen[fp]:
                    first_seen[fp] = at
                if at > last_seen[fp]:
                    last_seen[fp] = at
            else:
                counts[fp] = 1
                first_seen[fp] = last_seen[fp] = at
        if own:
            # Sum per group id: a target may get events of several fingerprints in one batch.
            per_gid: dict[str, tuple[int, datetime, datetime, bool]] = {}
            for fp, n in counts.items():
                for gid in (groups[fp], own[fp]) if fp in own else (groups[fp],):
                    key = str(gid)
                    if key in per_gid:
                        m, f, la, c = per_gid[key]
                        per_gid[key] = (m + n, min(f, first_seen[fp]), max(la, last_seen[fp]), c and fp in created)
                    else:
                        per_gid[key] = (n, first_seen[fp], last_seen[fp], fp in created)
            gids = {key: int(key) for key in per_gid}
            self._count(conn, gids, {k: v[0] for k, v in per_gid.items()}, {k: v[1] for k, v in per_gid.items()},
                        {k: v[2] for k, v in per_gid.items()}, {k for k, v in per_gid.items() if v[3]})
        elif counts:
            self._count(conn, groups, counts, first_seen, last_seen, created)
        empty = sorted(groups[fp] for fp in created if fp not in counts)
        if empty:
            conn.execute(delete(_GROUPS).where(_GROUPS.c.id.in_(empty)))
        return {fp for fp in created if fp in counts}

    def _count(self, conn: Connection, groups: dict[str, int], counts: dict[str, int],
               first_seen: dict[str, datetime], last_seen: dict[str, datetime], created: set[str]) -> None:
        """Add ``counts`` (by key, ``groups`` maps a key to its group id) to the groups' counters."""
        if counts:
            ordered = sorted(counts)
            if self.dialect == "postgresql":
                conn.exec_driver_sql(
                    _PG_COUNT_GROUPS,
                    {
                        "gid": [groups[fp] for fp in ordered],
                        "n": [counts[fp] for fp in ordered],
                        "first": [first_seen[fp] for fp in ordered],
                        "last": [last_seen[fp] for fp in ordered],
                        "created": [fp in created for fp in ordered],
                    },
                )
            else:
                conn.execute(
                    self._count_groups,
                    [
                        {
                            "gid": groups[fp],
                            "n": counts[fp],
                            "first": first_seen[fp],
                            "last": last_seen[fp],
                            "created": fp in created,
                        }
                        for fp in ordered
                    ],
                )

    def ingest_many(self, batches: Sequence[tuple[int, Sequence[NewEvent], datetime | None]]) -> list[IngestResult]:
        """Several ``(project_id, events, received_at)`` batches in ONE transaction: the server's group commit
        (many requests share one fsync) and its spool replay (each batch keeps its original ``received_at``;
        None means now). Exactly-once as in `ingest_events`: an id repeated across batches of one project is
        inserted for the first batch and a duplicate for the later ones. Returns one result per batch, in
        input order. Projects are taken in id order, and within each the same lock order as `ingest_events`,
        so concurrent writers queue instead of deadlocking. Raises (nothing committed) if any batch is bad."""
        for b, batch in enumerate(batches):
            if not isinstance(batch, tuple) or len(batch) != 3:
                raise InvalidInput(f"batches[{b}]", "must be a (project_id, events, received_at) tuple")
            _, events, received = batch
            for index, item in enumerate(events):
                if not isinstance(item, NewEvent):
                    problem = f"must be a NewEvent, got {type(item).__name__}"
                    raise InvalidInput(f"batches[{b}].events[{index}]", problem)
            if received is not None and (not isinstance(received, datetime) or received.utcoffset() is None):
                raise InvalidInput(f"batches[{b}].received_at", "must be a timezone-aware datetime or None")
        # Per project: event id -> (first event with that id, index of its batch).
        owners: dict[int, dict[str, tuple[NewEvent, int]]] = {}
        for b, (project_id, events, _) in enumerate(batches):
            unique = owners.setdefault(project_id, {})
            for item in events:
                unique.setdefault(item.event_id, (item, b))

        def work(conn: Connection) -> list[IngestResult]:
            now = utcnow()
            inserted: dict[int, set[str]] = {}
            kept_groups: dict[int, dict[str, int]] = {}
            created_kept: dict[int, set[str]] = {}
            for project_id in sorted(owners):
                unique = owners[project_id]
                # No separate lookup of the project: its foreign key refuses the first row written for a
                # project that does not exist, and `_missing_project` turns that into `NotFound`.
                groups, created, own = self._lock_groups(conn, project_id, [e for e, _ in unique.values()])
                by_time: dict[datetime, list[NewEvent]] = {}
                for e, b in sorted(unique.values(), key=lambda pair: pair[0].event_id):
                    by_time.setdefault(batches[b][2] or now, []).append(e)
                went_in: set[str] = set()
                for at, rows in by_time.items():
                    went_in.update(self._insert_event_rows(conn, project_id, at, rows, groups))
                new_groups = self._add_to_groups(
                    conn, groups, created, [unique[i][0] for i in went_in if unique[i][0].fingerprint], own
                )
                inserted[project_id] = went_in
                kept_groups[project_id] = {
                    fp: gid for fp, gid in groups.items() if fp not in created or fp in new_groups
                }
                created_kept[project_id] = new_groups
            results: list[IngestResult] = []
            claimed: set[tuple[int, str]] = set()
            for b, (project_id, events, _) in enumerate(batches):
                mine = [
                    e.event_id
                    for e in events
                    if e.event_id in inserted[project_id] and owners[project_id][e.event_id][1] == b
                ]
                accepted = tuple(dict.fromkeys(mine))
                taken = set(accepted)
                fingerprints = {e.fingerprint for e in events if e.fingerprint}
                new = sorted(
                    fp
                    for fp in {owners[project_id][i][0].fingerprint for i in taken} & created_kept[project_id]
                    if fp is not None and (project_id, fp) not in claimed
                )
                claimed.update((project_id, fp) for fp in new)
                results.append(
                    IngestResult(
                        inserted=accepted,
                        duplicates=_duplicates(events, taken),
                        groups={fp: gid for fp, gid in kept_groups[project_id].items() if fp in fingerprints},
                        new_groups=tuple(new),
                    )
                )
            return results

        if not any(events for _, events, _ in batches):
            return [IngestResult(inserted=(), duplicates=(), groups={}, new_groups=()) for _ in batches]
        try:
            return self._core_transaction(work)
        except IntegrityError as exc:
            missing = self._missing_project(sorted(owners))
            if missing is None:
                raise
            raise NotFound(f"project {missing} does not exist") from exc

    def _missing_project(self, project_ids: Sequence[int]) -> int | None:
        """The first of ``project_ids`` that does not exist (after an ingest refused by a foreign key)."""

        def work(session: Session) -> int | None:
            found = set(session.scalars(select(ProjectRow.id).where(ProjectRow.id.in_(project_ids))))
            return next((p for p in project_ids if p not in found), None)

        return self._transaction(work, write=False)

    def record_alerts(self, alerts: Sequence[NewAlert], *, project_id: int | None = None) -> list[Alert]:
        """Upsert Alertmanager alerts by (fingerprint, starts_at), the identity of one firing episode, within
        ``project_id`` (None: the admin scope, alerts sent with an admin token). Two projects sending the same
        episode get an alert each. A resolved alert stays resolved when a late "firing" copy of the same
        episode arrives."""
        for index, item in enumerate(alerts):
            if not isinstance(item, NewAlert):
                raise InvalidInput(f"alerts[{index}]", f"must be a NewAlert, got {type(item).__name__}")
        if not alerts:
            return []
        scope = 0 if project_id is None else project_id  # the stored scope; see AlertRow.scope
        # One call has one scope, so (fingerprint, starts_at) identifies an episode within the batch.
        latest: dict[tuple[str, datetime], NewAlert] = {}
        for item in alerts:  # last copy of an episode in the batch wins, as Alertmanager's latest view
            latest[(item.fingerprint, item.starts_at)] = item

        def work(session: Session) -> list[Alert]:
            if project_id is not None and session.get(ProjectRow, project_id) is None:
                raise NotFound(f"project {project_id} does not exist")
            now = utcnow()
            values = [
                {
                    "project_id": project_id,
                    "scope": scope,
                    "fingerprint": a.fingerprint,
                    "status": a.status.value,
                    "labels": dict(a.labels),
                    "annotations": dict(a.annotations),
                    "starts_at": a.starts_at,
                    "ends_at": a.ends_at,
                    "generator_url": a.generator_url,
                    "received_at": now,
                    "updated_at": now,
                }
                for _, a in sorted(latest.items(), key=lambda kv: kv[0])
            ]
            ids = list(session.connection().execute(self._upsert_alerts, values).scalars())
            rows = session.scalars(select(AlertRow).where(AlertRow.id.in_(ids)).order_by(AlertRow.id))
            return [_to_alert(r) for r in rows]

        return self._transaction(work)

    # -- reads -----------------------------------------------------------------------------------------

    def list_groups(
        self,
        project_id: int,
        *,
        category: str | None = None,
        status: GroupStatus | str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: Literal["count", "recent"] = "count",
        limit: int = 50,
        offset: int = 0,
    ) -> list[ErrorGroup]:
        """A project's groups seen within [since, until] (a group overlaps the window when its first and
        last sighting bracket part of it), sorted by count or by most recent sighting."""
        positive_int("limit", limit, maximum=MAX_PAGE)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput("offset", f"must be a non-negative integer, got {offset!r}")
        if sort not in ("count", "recent"):
            raise InvalidInput("sort", f"must be 'count' or 'recent', got {sort!r}")
        # merged groups live on inside their target: listing them too would count their events twice
        query = select(ErrorGroupRow).where(ErrorGroupRow.project_id == project_id, ErrorGroupRow.merged_into.is_(None))
        if category is not None:
            query = query.where(ErrorGroupRow.category == category)
        if status is not None:
            try:
                query = query.where(ErrorGroupRow.status == GroupStatus(status).value)
            except ValueError:
                raise InvalidInput("status", f"{status!r} is not a group status") from None
        for name, bound in (("since", since), ("until", until)):
            if bound is not None and (not isinstance(bound, datetime) or bound.tzinfo is None):
                raise InvalidInput(name, "must be a timezone-aware datetime")
        if since is not None:
            query = query.where(ErrorGroupRow.last_seen >= since)
        if until is not None:
            query = query.where(ErrorGroupRow.first_seen <= until)
        if sort == "count":
            query = query.order_by(ErrorGroupRow.count.desc(), ErrorGroupRow.id.desc())
        else:
            query = query.order_by(ErrorGroupRow.last_seen.desc(), ErrorGroupRow.id.desc())
        query = query.limit(limit).offset(offset)
        return self._transaction(lambda s: [_to_group(r) for r in s.scalars(query)], write=False)

    def get_group(self, group_id: int) -> ErrorGroup | None:
        """One group, or None."""

        def work(session: Session) -> ErrorGroup | None:
            row = session.get(ErrorGroupRow, group_id)
            return None if row is None else _to_group(row)

        return self._transaction(work, write=False)

    def group_events(self, group_id: int, *, limit: int = 50) -> list[StoredEvent]:
        """The group's stored events, newest first (older ones may have been pruned)."""
        positive_int("limit", limit, maximum=MAX_PAGE)
        query = (
            select(EventRow)
            .where(EventRow.group_id == group_id)
            .order_by(EventRow.occurred_at.desc(), EventRow.id.desc())
            .limit(limit)
        )
        return self._transaction(lambda s: [_to_event(r) for r in s.scalars(query)], write=False)

    def get_event(self, project_id: int, event_id: str) -> StoredEvent | None:
        """One event by the producer's id, or None."""

        def work(session: Session) -> StoredEvent | None:
            row = session.scalars(
                select(EventRow).where(EventRow.project_id == project_id, EventRow.event_id == event_id)
            ).first()
            return None if row is None else _to_event(row)

        return self._transaction(work, write=False)

    def search_events(self, project_id: int, text: str, *, limit: int = 50, offset: int = 0) -> list[StoredEvent]:
        """Events whose message or exception type contains ``text`` (case-insensitive), newest first."""
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput("offset", f"must be a non-negative integer, got {offset!r}")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("text", "must be a non-empty string")
        if len(text) > 500 or "\x00" in text:
            raise InvalidInput("text", "must be at most 500 characters, without NUL")
        positive_int("limit", limit, maximum=MAX_PAGE)
        pattern = _like_pattern(text)
        query = (
            select(EventRow)
            .where(
                EventRow.project_id == project_id,
                or_(
                    EventRow.message.ilike(pattern, escape="\\"),
                    EventRow.exception_type.ilike(pattern, escape="\\"),
                ),
            )
            .order_by(EventRow.occurred_at.desc(), EventRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return self._transaction(lambda s: [_to_event(r) for r in s.scalars(query)], write=False)

    def list_events(self, project_id: int, *, limit: int = 50, offset: int = 0) -> list[StoredEvent]:
        """A project's stored events, newest first (the read API's listing when no search text is given)."""
        positive_int("limit", limit, maximum=MAX_PAGE)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput("offset", f"must be a non-negative integer, got {offset!r}")
        query = (
            select(EventRow)
            .where(EventRow.project_id == project_id)
            .order_by(EventRow.occurred_at.desc(), EventRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return self._transaction(lambda s: [_to_event(r) for r in s.scalars(query)], write=False)

    def count_events(self, project_id: int | None = None) -> int:
        """How many events are stored (in one project, or in all)."""
        query = select(func.count()).select_from(EventRow)
        if project_id is not None:
            query = query.where(EventRow.project_id == project_id)
        return self._transaction(lambda s: int(s.execute(query).scalar_one()), write=False)

    def list_alerts(self, *, status: AlertStatus | str | None = None, limit: int = 100) -> list[Alert]:
        """Alerts, most recently updated first."""
        positive_int("limit", limit, maximum=MAX_PAGE)
        query = select(AlertRow).order_by(AlertRow.updated_at.desc(), AlertRow.id.desc()).limit(limit)
        if status is not None:
            try:
                query = query.where(AlertRow.status == AlertStatus(status).value)
            except ValueError:
                raise InvalidInput("status", f"{status!r} is not an alert status") from None
        return self._transaction(lambda s: [_to_alert(r) for r in s.scalars(query)], write=False)

    # -- management and retention -------------------------------------------------------------------

    def set_group_status(self, group_id: int, status: GroupStatus | str) -> ErrorGroup:
        """Triage a group; raises `NotFound` for an unknown group."""
        try:
            new_status = GroupStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in GroupStatus)
            raise InvalidInput("status", f"{status!r} is not one of: {allowed}") from None

        def work(session: Session) -> ErrorGroup:
            row = session.get(ErrorGroupRow, group_id, with_for_update=self.dialect == "postgresql")
            if row is None:
                raise NotFound(f"group {group_id} does not exist")
            row.status = new_status.value
            session.flush()
            return _to_group(row)

        return self._transaction(work)

    # -- merge and split ----------------------------------------------------------------------------------

    def _locked_groups(self, session: Session, ids: Sequence[int]) -> dict[int, ErrorGroupRow]:
        """The rows of ``ids``, locked in id order (the same order everywhere: no deadlock between merges)."""
        query = (
            select(ErrorGroupRow)
            .where(ErrorGroupRow.id.in_(sorted(set(ids))))
            .order_by(ErrorGroupRow.id)
            # rows read before the lock are in the session already: take the locked values, not those
            .execution_options(populate_existing=True)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update()
        return {row.id: row for row in session.scalars(query)}

    def merge_groups(self, group_id: int, into: int) -> ErrorGroup:
        """Merge group ``group_id`` (and whatever was merged into it) into group ``into``: its events move,
        its counters are added, and new events of its fingerprints land in ``into`` from now on. Returns
        the target. The merged group keeps its row (and own counters) so `split_group` can undo it."""
        positive_int("into", into, maximum=2**63 - 1)
        if group_id == into:
            raise InvalidInput("into", "cannot merge a group into itself")

        def work(session: Session) -> ErrorGroup:
            rows = self._locked_groups(session, [group_id, into])
            source, target = rows.get(group_id), rows.get(into)
            if source is None:
                raise NotFound(f"group {group_id} does not exist")
            if target is None:
                raise NotFound(f"group {into} does not exist")
            if source.project_id != target.project_id:
                raise InvalidInput("into", f"group {into} belongs to another project than group {group_id}")
            if source.merged_into is not None:
                raise InvalidInput("id", f"group {group_id} is already merged into group {source.merged_into}")
            if target.merged_into is not None:
                raise InvalidInput("into", f"group {into} is merged into group {target.merged_into}; "
                                           f"merge into {target.merged_into} instead")
            children = list(session.scalars(select(ErrorGroupRow).where(ErrorGroupRow.merged_into == source.id)))
            target.count += source.count
            target.first_seen = min(target.first_seen, source.first_seen)
            target.last_seen = max(target.last_seen, source.last_seen)
            # the source's counters become its own fingerprint's only: its children's move on with them
            source.count -= sum(child.count for child in children)
            for row in [source, *children]:
                row.merged_into = target.id
            session.execute(update(EventRow).where(EventRow.group_id == source.id).values(group_id=target.id))
            session.flush()
            return _to_group(target)

        return self._transaction(work)

    def group_fingerprints(self, group_id: int) -> dict[str, int]:
        """Fingerprint → own group id of every fingerprint feeding group ``group_id`` (its own and those
        merged into it); raises `NotFound` for an unknown group."""

        def work(session: Session) -> dict[str, int]:
            row = session.get(ErrorGroupRow, group_id)
            if row is None:
                raise NotFound(f"group {group_id} does not exist")
            merged = session.execute(
                select(ErrorGroupRow.fingerprint, ErrorGroupRow.id).where(ErrorGroupRow.merged_into == group_id)
            )
            return {row.fingerprint: row.id, **{fp: gid for fp, gid in merged}}

        return self._transaction(work, write=False)

    def merge_target(self, group_id: int) -> int | None:
        """The group ``group_id`` is merged into (where its events are), None when it is not merged; raises
        `NotFound` for an unknown group."""

        def work(session: Session) -> int | None:
            row = session.get(ErrorGroupRow, group_id)
            if row is None:
                raise NotFound(f"group {group_id} does not exist")
            return row.merged_into

        return self._transaction(work, write=False)

    def split_group(
        self, group_id: int, *, fingerprints: Sequence[str] = (), event_ids: Sequence[str] = ()
    ) -> list[ErrorGroup]:
        """Undo merges: each fingerprint (given, or of the given events) that was merged into group
        ``group_id`` gets its own group back, with its events and counters. Returns the restored groups.
        The group's own fingerprint cannot be split off (it *is* the group)."""
        if isinstance(fingerprints, str) or isinstance(event_ids, str):
            raise InvalidInput("fingerprints", "must be a list of strings, not one string")
        if not fingerprints and not event_ids:
            raise InvalidInput("fingerprints", "give fingerprints or event_ids to split off")
        for name, values in (("fingerprints", fingerprints), ("event_ids", event_ids)):
            for index, value in enumerate(values):
                if not isinstance(value, str) or not value:
                    raise InvalidInput(f"{name}[{index}]", "must be a non-empty string")

        def work(session: Session) -> list[ErrorGroup]:
            group = session.get(ErrorGroupRow, group_id)
            if group is None:
                raise NotFound(f"group {group_id} does not exist")
            wanted = dict.fromkeys(fingerprints)
            if event_ids:
                found: dict[str, str | None] = {
                    event_id: fp
                    for event_id, fp in session.execute(
                        select(EventRow.event_id, EventRow.fingerprint).where(
                            EventRow.project_id == group.project_id, EventRow.event_id.in_(list(event_ids)))
                    )
                }
                for index, event_id in enumerate(event_ids):
                    fp = found.get(event_id)
                    if event_id not in found:
                        raise InvalidInput(f"event_ids[{index}]", f"no event {event_id!r} in this project")
                    if fp is None:
                        raise InvalidInput(f"event_ids[{index}]", f"event {event_id!r} has no fingerprint")
                    wanted.setdefault(fp)
            if group.fingerprint in wanted:
                raise InvalidInput("fingerprints", f"{group.fingerprint!r} is group {group_id}'s own fingerprint: "
                                                   "it cannot be split off")
            children = {row.fingerprint: row for row in session.scalars(
                select(ErrorGroupRow).where(ErrorGroupRow.merged_into == group_id,
                                            ErrorGroupRow.fingerprint.in_(list(wanted))))}
            for index, fp in enumerate(wanted):
                if fp not in children:
                    raise InvalidInput(f"fingerprints[{index}]", f"{fp!r} is not merged into group {group_id}")
            rows = self._locked_groups(session, [group_id, *(row.id for row in children.values())])
            target = rows[group_id]
            if target.merged_into is not None:  # merged by a concurrent request before we locked
                raise InvalidInput("id", f"group {group_id} is now merged into group {target.merged_into}; "
                                         "split from that group")
            restored: list[ErrorGroupRow] = []
            for fp, child in sorted(children.items()):
                row = rows[child.id]
                if row.merged_into != group_id:  # changed by a concurrent split before we locked
                    raise InvalidInput("fingerprints", f"{fp!r} is no longer merged into group {group_id}")
                row.merged_into = None
                target.count = max(0, target.count - row.count)
                session.execute(
                    update(EventRow)
                    .where(EventRow.group_id == group_id, EventRow.fingerprint == fp)
                    .values(group_id=row.id)
                )
                restored.append(row)
            session.flush()
            return [_to_group(row) for row in restored]

        return self._transaction(work)

    def prune_events(self, older_than: datetime, *, batch_size: int = 5000) -> int:
        """Delete events received before ``older_than``, ``batch_size`` rows per transaction so that
        ingest is never blocked for long; returns how many were deleted. Group counters are untouched."""
        if not isinstance(older_than, datetime) or older_than.tzinfo is None:
            raise InvalidInput("older_than", "must be a timezone-aware datetime")
        positive_int("batch_size", batch_size, maximum=100_000)

        def one_batch(session: Session) -> int:
            victims = (
                select(EventRow.id).where(EventRow.received_at < older_than).order_by(EventRow.id).limit(batch_size)
            )
            result = session.execute(
                delete(EventRow).where(EventRow.id.in_(victims.scalar_subquery())),
                execution_options={"synchronize_session": False},
            )
            return int(getattr(result, "rowcount", 0))

        total = 0
        while True:
            deleted = self._transaction(one_batch)
            total += deleted
            if deleted < batch_size:
                return total


#: PostgreSQL batch insert: one statement of fixed text whatever the batch size, so psycopg parses and
#: prepares it once, and the rows travel as one array per column (several times faster than multi-row
#: VALUES, whose text grows with the batch and is re-parsed on every call). Driver-level SQL with psycopg's
#: ``%(name)b`` placeholders: the arrays go in BINARY format. In text format psycopg quotes and escapes every
#: element in Python (regular expressions over each payload), which cost more than everything else in ingest.
_PG_EVENT_ARRAYS = {
    "event_id": "text[]",
    "kind": "text[]",
    "level": "text[]",
    "occurred_at": "timestamptz[]",
    "group_id": "bigint[]",
    "category": "text[]",
    "fingerprint": "text[]",
    "message": "text[]",
    "exception_type": "text[]",
    "payload": "text[]",
}
_PG_INSERT_EVENTS = (
    "INSERT INTO events (project_id, received_at, "
    + ", ".join(_PG_EVENT_ARRAYS)
    + ") SELECT CAST(%(project_id)b AS bigint), CAST(%(received_at)b AS timestamptz), "
    + ", ".join(f"u.{name}" if name != "payload" else "CAST(u.payload AS jsonb)" for name in _PG_EVENT_ARRAYS)
    + " FROM unnest("
    + ", ".join(f"CAST(%({name})b AS {kind})" for name, kind in _PG_EVENT_ARRAYS.items())
    + ") AS u("
    + ", ".join(_PG_EVENT_ARRAYS)
    + ") ORDER BY u.event_id ON CONFLICT (project_id, event_id) DO NOTHING RETURNING event_id"
)
#: The batch's groups, created in the order of the arrays (sorted by fingerprint in Python); ``count`` 0
#: marks a group created by this transaction (committed groups always count >= 1).
_PG_INSERT_GROUPS = (
    "INSERT INTO error_groups (project_id, fingerprint, title, category, status, count, first_seen, last_seen) "
    f"SELECT CAST(%(project_id)b AS bigint), u.fingerprint, u.title, u.category, '{GroupStatus.UNRESOLVED.value}', "
    "0, u.seen, u.seen FROM unnest(CAST(%(fingerprint)b AS text[]), CAST(%(title)b AS text[]), "
    "CAST(%(category)b AS text[]), CAST(%(seen)b AS timestamptz[])) WITH ORDINALITY AS u(fingerprint, title, "
    "category, seen, n) ORDER BY u.n ON CONFLICT (project_id, fingerprint) DO NOTHING"
)
_PG_LOCK_GROUPS = (
    "SELECT id, fingerprint, count, merged_into FROM error_groups WHERE project_id = CAST(%(project_id)b AS bigint) "
    "AND fingerprint = ANY(CAST(%(fingerprint)b AS text[])) ORDER BY fingerprint FOR UPDATE"
)
#: The counters of every group of the batch in one statement (their rows are locked already). A resolved
#: group that receives a new event has regressed: it is reopened.
_PG_COUNT_GROUPS = (
    "UPDATE error_groups AS g SET count = g.count + u.n, "
    "first_seen = CASE WHEN u.created THEN u.first ELSE LEAST(g.first_seen, u.first) END, "
    "last_seen = CASE WHEN u.created THEN u.last ELSE GREATEST(g.last_seen, u.last) END, "
    f"status = COALESCE(NULLIF(g.status, '{GroupStatus.RESOLVED.value}'), '{GroupStatus.UNRESOLVED.value}') "
    "FROM unnest(CAST(%(gid)b AS bigint[]), CAST(%(n)b AS bigint[]), CAST(%(first)b AS timestamptz[]), "
    "CAST(%(last)b AS timestamptz[]), CAST(%(created)b AS boolean[])) AS u(gid, n, first, last, created) "
    "WHERE g.id = u.gid"
)

#: SQLite batch insert: multi-row VALUES of at most this many rows (x 12 parameters, well under SQLite's
#: bound-variable limit), executed through the driver with values already in their stored form.
_SQLITE_ROWS = 500
_SQLITE_EVENT_COLUMNS = (
    "project_id, event_id, kind, level, received_at, occurred_at, group_id, category, fingerprint, message, "
    "exception_type, payload"
)


@functools.lru_cache(maxsize=64)
def _sqlite_insert_events(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows)
    return (
        f"INSERT INTO events ({_SQLITE_EVENT_COLUMNS}) VALUES {values} "
        "ON CONFLICT (project_id, event_id) DO NOTHING RETURNING event_id"
    )


def _sqlite_time(value: datetime) -> str:
    """An aware datetime as `UTCDateTime` stores it on SQLite: naive UTC in SQLAlchemy's DATETIME text form
    (``YYYY-MM-DD HH:MM:SS.ffffff``, microseconds always written)."""
    if value.tzinfo is UTC:  # NewEvent's times are UTC already: drop the "+00:00" rather than convert
        return value.isoformat(" ", "microseconds")[:-6]
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _time_and_id(event: NewEvent) -> tuple[datetime, str]:
    return event.occurred_at, event.event_id


def _duplicates(events: Sequence[NewEvent], inserted: set[str]) -> tuple[str, ...]:
    """Ids not inserted by this call, plus every repeat of an id within the batch, in input order."""
    seen: set[str] = set()
    out: list[str] = []
    for e in events:
        if e.event_id not in inserted or e.event_id in seen:
            out.append(e.event_id)
        seen.add(e.event_id)
    return tuple(out)


def open_store(url: str | URL, *, migrate: bool = True, **engine_kwargs: Any) -> Store:
    """Open the store at ``url`` (``sqlite:///FILE`` or ``postgresql://...``), upgrading its schema to
    head first unless ``migrate=False``."""
    engine = create_store_engine(url, **engine_kwargs)
    if migrate:
        try:
            run_migrations(engine)
        except (OperationalError, InterfaceError) as exc:
            engine.dispose()
            raise StoreUnavailable(f"database unavailable: {exc.orig!r}") from exc
    return Store(engine)

"""The publish state store: what each push target has received, and the operations to get there.

One SQLAlchemy database (by default a SQLite file, ``state: sqlite:///.syndicate/state.db``)
holds, for every posting × target:

- a **delivery** (`Delivery`): the content hash and kind of the last operation the target
  accepted, its remote id, a ``state`` (pending, published, failed, closed), the attempts of the
  work in progress, when to try again, the last error, and the posting's source file (so that a
  posting whose file fails to load is recognised and never closed);
- its **operations** (`Operation`): each CREATE / UPDATE / CLOSE / RENEW planned, from the
  moment it is planned (``pending``) through retries (``queued`` until ``next_attempt_at``) to
  its end (``succeeded``, ``failed``, or ``superseded`` by a newer plan), which is also the
  history shown to people.

Plus a per target, per UTC day count of notifications (`quota_used` / `use_quota`), the runs of
``publish`` (`begin_run` / `finish_run`), and a lock that lets one publish at a time work on a
store (`StateStore.publish_lock`).

How a publish uses it::

    store = StateStore(settings.state_url)
    with store.publish_lock(wait=False):
        run = store.begin_run()
        ids = store.enqueue(plan, run_id=run)          # the plan, durable before any push
        for op in store.pending(target="linkedin"):     # also what a killed run left behind
            op = store.start_attempt(op.id)             # counts the attempt before sending
            ...push...
            store.succeed(op.id, remote_id=...)         # or store.fail(op.id, error, retry_at)
        store.finish_run(run, "ok")

Every write is its own short transaction, so a process killed at any moment leaves the store as
it was after the last recorded step.  An operation with ``attempts > 0`` that is still
``pending`` was sent by a run that did not live to record the answer: the board may have
applied it.  Errors are passed through `syndicate.secret.mask` before they are stored.

SQLite files are opened in WAL mode (readers never block the writer) with foreign keys on and a
busy timeout; ``synchronous=NORMAL`` keeps every committed step across a killed process (a power
cut may lose the last few).  PostgreSQL works too, for stores shared by several machines.
Times go in as timezone-aware datetimes and come back in UTC.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from syndicate.adapters.base import OperationKind
from syndicate.errors import SyndicateError
from syndicate.secret import mask

SCHEMA_VERSION = 2
"""The schema this code writes; older stores are migrated by `MIGRATIONS` when opened."""

_MAX_ERROR = 4000  # characters of an error message kept in the store
_CHUNK = 500  # keys per IN (...) clause
_BUSY_TIMEOUT_MS = 30_000
_PG_LOCK_KEY = 0x73796E6469636174  # "syndicat": the advisory lock key of the publish lock
_WRITE = "syndicate_write"  # execution option: this SQLite transaction will write


class StateError(SyndicateError):
    """The state store cannot be opened, read or written, or was used out of order."""


class StateLockedError(StateError):
    """Another publish holds the store's lock."""


class DeliveryState(StrEnum):
    """Where a posting stands on a target."""

    PENDING = "pending"  # an operation is planned or waiting for its retry
    PUBLISHED = "published"  # the target has the content last planned
    FAILED = "failed"  # the last operation failed for good; retried once the posting changes
    CLOSED = "closed"  # the target has closed (or never listed) the posting


class OperationStatus(StrEnum):
    """Where an operation is in its life."""

    PENDING = "pending"  # planned, or sent without its answer recorded yet
    QUEUED = "queued"  # failed, to be retried at ``next_attempt_at``
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # failed for good
    SUPERSEDED = "superseded"  # replaced by a newer plan for the same posting × target

    @property
    def open(self) -> bool:
        """True while the operation is still to be done."""
        return self in (OperationStatus.PENDING, OperationStatus.QUEUED)


_OPEN = (OperationStatus.PENDING, OperationStatus.QUEUED)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware datetimes stored in UTC; on SQLite as fixed-width ISO text, which sorts by time."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True
    _FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(32))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the state store needs aware datetimes")
        value = value.astimezone(UTC)
        return value.strftime(self._FORMAT) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            # Written by process_bind_param: fixed-width ISO 8601 ending in Z, which
            # fromisoformat reads many times faster than strptime (whole tables are read).
            try:
                return datetime.fromisoformat(value).astimezone(UTC)
            except ValueError:
                return datetime.strptime(value, self._FORMAT).replace(tzinfo=UTC)
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _enum(enum: type[StrEnum]) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


metadata = sa.MetaData()

meta_table = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

runs_table = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("outcome", sa.String(64)),
)

deliveries_table = sa.Table(
    "deliveries",
    metadata,
    sa.Column("posting_id", sa.String(200), primary_key=True),
    sa.Column("target", sa.String(64), primary_key=True),
    sa.Column("state", _enum(DeliveryState), nullable=False),
    sa.Column("content_hash", sa.String(128)),
    sa.Column("planned_hash", sa.String(128)),
    sa.Column("remote_id", sa.Text),
    sa.Column("delivered_kind", _enum(OperationKind)),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("last_attempt_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("source_path", sa.Text),
    sa.Column("first_published_at", UTCDateTime),
    sa.Column("delivered_at", UTCDateTime),  # when the target last accepted an operation
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

operations_table = sa.Table(
    "operations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id")),
    sa.Column("posting_id", sa.String(200), nullable=False),
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("kind", _enum(OperationKind), nullable=False),
    sa.Column("content_hash", sa.String(128)),
    sa.Column("payload", sa.JSON(none_as_null=True)),
    sa.Column("status", _enum(OperationStatus), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("last_attempt_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("remote_id", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Index("ix_operations_status_target", "status", "target"),
    sa.Index("ix_operations_posting_target", "posting_id", "target", "id"),
)

quota_table = sa.Table(
    "quota",
    metadata,
    sa.Column("target", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),  # ISO date, UTC
    sa.Column("used", sa.Integer, nullable=False),
)


def _add_delivered_at(conn: Connection) -> None:
    """Version 2: deliveries remember when the target last accepted something (for RENEW).

    Stores of version 1 take the last change of a settled delivery as the best known time.
    """
    column_type = UTCDateTime().dialect_impl(conn.dialect).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE deliveries ADD COLUMN delivered_at {column_type}"))
    conn.execute(
        sa.update(deliveries_table)
        .where(deliveries_table.c.delivered_kind.is_not(None))
        .values(delivered_at=deliveries_table.c.updated_at)
    )


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _add_delivered_at}
"""``{n: function(connection)}`` upgrades a store from schema version n to n + 1."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A posting on a target: what it last accepted and where the work on it stands."""

    posting_id: str
    target: str
    state: DeliveryState
    content_hash: str | None  # of the last operation the target accepted
    planned_hash: str | None  # of the newest operation planned
    remote_id: str | None
    delivered_kind: OperationKind | None  # of the last operation the target accepted
    version: int  # operations accepted so far
    attempts: int  # attempts of the work in progress
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    source_path: str | None
    first_published_at: datetime | None
    delivered_at: datetime | None  # when the target last accepted an operation
    updated_at: datetime

    @property
    def live(self) -> bool:
        """True when the target shows the posting: it accepted something other than a CLOSE."""
        return self.delivered_kind not in (None, OperationKind.CLOSE)


@dataclass(frozen=True, slots=True)
class NewOperation:
    """One step of a plan, for `StateStore.enqueue`.

    ``content_hash`` is the posting's content this operation delivers (a CLOSE may carry it
    too); ``payload`` is any JSON-ready value the publisher wants back when it pushes;
    ``source_path`` is the posting's file, remembered on the delivery.
    """

    posting_id: str
    target: str
    kind: OperationKind
    content_hash: str | None = None
    payload: Any = None
    source_path: str | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    """A planned operation as recorded, with its outcome so far."""

    id: int
    run_id: int | None
    posting_id: str
    target: str
    kind: OperationKind
    content_hash: str | None
    payload: Any
    status: OperationStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    remote_id: str | None
    created_at: datetime
    finished_at: datetime | None

    @property
    def key(self) -> tuple[str, str]:
        """``(posting_id, target)``, the key of its delivery."""
        return (self.posting_id, self.target)


@dataclass(frozen=True, slots=True)
class Succeeded:
    """The target accepted operation ``op_id`` (for `StateStore.record`)."""

    op_id: int
    remote_id: str | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """Operation ``op_id`` failed: retried at ``retry_at``, or never when it is None."""

    op_id: int
    error: str | BaseException
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """One ``publish`` run."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None


_Row = TypeVar("_Row", Delivery, Operation, Run)


def _from_row(cls: type[_Row], row: sa.Row[Any]) -> _Row:
    values = row._mapping
    return cls(**{f.name: values[f.name] for f in fields(cls)})


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware datetime")
    return now.astimezone(UTC)


def utc_day(now: datetime | None = None) -> date:
    """The UTC calendar day of ``now`` (default: the current time), the unit of daily quotas."""
    return _now(now).date()


def _error_text(error: str | BaseException) -> str:
    return mask(str(error))[:_MAX_ERROR]


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class StateStore:
    """The publish state at a SQLAlchemy URL, created or migrated when opened.

    Use it as a context manager, or call `close` when done.  Raises `StateError` when the
    database cannot be opened or has a newer schema than this code knows.
    """

    def __init__(self, url: str | URL) -> None:
        try:
            self._url = make_url(url)
        except sa.exc.ArgumentError as error:
            raise StateError(
                f"state store URL {str(url)!r} is not a SQLAlchemy URL: {error}"
            ) from None
        self._lock_path: Path | None = None
        self._memory_lock = threading.Lock()
        # Writers of this process take turns here rather than in SQLite, whose busy handler
        # sleeps in steps of up to 100 ms when several threads want to write at once.
        self._write_turn = threading.Lock()
        self._engine = self._create_engine()
        try:
            self._prepare_schema()
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def url(self) -> str:
        """The store's URL, password hidden."""
        return self._url.render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for tools that read the store (status reports, tests)."""
        return self._engine

    def close(self) -> None:
        """Close every connection to the database."""
        self._engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- opening ---------------------------------------------------------------------------------

    def _create_engine(self) -> Engine:
        if self._url.get_backend_name() != "sqlite":
            try:
                return sa.create_engine(self._url, pool_pre_ping=True)
            except (ImportError, sa.exc.SQLAlchemyError) as error:
                raise StateError(f"cannot open state store {self.url}: {error}") from None
        database = self._url.database or ""
        if database in ("", ":memory:") or "mode=memory" in database:
            engine = sa.create_engine(
                self._url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            path = Path(database.removeprefix("file:").split("?", 1)[0]).absolute()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StateError(f"cannot create the state store's folder: {error}") from None
            self._lock_path = path.with_name(path.name + ".lock")
            if not database.startswith("file:"):
                self._url = self._url.set(database=str(path))
            engine = sa.create_engine(self._url)
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine

    def _prepare_schema(self) -> None:
        with self._write() as conn:
            if not sa.inspect(conn).has_table(meta_table.name):
                metadata.create_all(conn)
                conn.execute(
                    sa.insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION))
                )
                return
            found = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar()
            if found is None or not found.isdigit():
                raise StateError(
                    f"state store {self.url} has no schema version; is it syndicate's?"
                )
            version = int(found)
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"state store {self.url} has schema version {version}, newer than this "
                    f"syndicate knows ({SCHEMA_VERSION}): upgrade syndicate to use it"
                )
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](conn)
            if version != SCHEMA_VERSION:
                conn.execute(
                    sa.update(meta_table)
                    .where(meta_table.c.key == "schema_version")
                    .values(value=str(SCHEMA_VERSION))
                )

    def schema_version(self) -> int:
        """The schema version recorded in the store."""
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
                ).scalar_one()
            )

    # -- transactions ----------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._errors(), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._write_turn, self._errors(), self._engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.SQLAlchemyError as error:
            original = getattr(error, "orig", None) or error
            raise StateError(
                f"state store {self.url}: {mask(str(original))}",
                retryable=isinstance(error, sa.exc.OperationalError),
            ) from error

    # -- deliveries ------------------------------------------------------------------------------

    def deliveries(self, target: str | None = None) -> dict[tuple[str, str], Delivery]:
        """Every delivery (of one target), keyed by ``(posting_id, target)``."""
        names = [f.name for f in fields(Delivery)]  # posting_id and target first
        query = sa.select(*(deliveries_table.c[name] for name in names))
        if target is not None:
            query = query.where(deliveries_table.c.target == target)
        with self._read() as conn:
            if self._url.get_backend_name() == "sqlite":
                return _sqlite_deliveries(conn, query, names)
            return {
                (row.posting_id, row.target): _from_row(Delivery, row)
                for row in conn.execute(query)
            }

    def delivery(self, posting_id: str, target: str) -> Delivery | None:
        """The delivery of one posting on one target, if anything was ever planned for it."""
        query = sa.select(deliveries_table).where(
            deliveries_table.c.posting_id == posting_id, deliveries_table.c.target == target
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _from_row(Delivery, row)

    def update_source_paths(self, paths: Mapping[str, str]) -> None:
        """Remember where each posting's file now is (``{posting_id: path}``), on every target.

        Only rows whose path differs are written.
        """
        if not paths:
            return
        table = deliveries_table
        statement = (
            sa.update(table)
            .where(
                table.c.posting_id == sa.bindparam("k_posting"),
                sa.or_(
                    table.c.source_path.is_(None), table.c.source_path != sa.bindparam("v_path")
                ),
            )
            .values(source_path=sa.bindparam("v_path"))
        )
        with self._write() as conn:
            conn.execute(statement, [{"k_posting": p, "v_path": path} for p, path in paths.items()])

    # -- planning --------------------------------------------------------------------------------

    def enqueue(
        self,
        ops: Sequence[NewOperation],
        *,
        run_id: int | None = None,
        now: datetime | None = None,
    ) -> list[int]:
        """Record a plan durably, in one transaction; the ids of its operations, in order.

        Each operation supersedes the open (pending or queued) operations of its posting ×
        target, and puts the delivery in state ``pending``.  Planning again what is already
        open (same kind, content hash and payload) records nothing new and returns the open
        operation's id, so a run that re-plans after a killed one does not duplicate work.

        An open operation with ``attempts > 0`` may already have reached the board (its answer
        was lost); `Delivery.attempts` and ``last_attempt_at`` say so to the planner.  At most
        one operation per posting × target in one call (`ValueError` otherwise).
        """
        now = _now(now)
        keys = [(op.posting_id, op.target) for op in ops]
        if len(set(keys)) != len(keys):
            raise ValueError("enqueue: at most one operation per posting × target per call")
        if not ops:
            return []
        with self._write() as conn:
            open_ops = self._open_operations(conn, keys)
            known = self._known_keys(conn, keys)
            ids: list[int | None] = []
            fresh: list[NewOperation] = []
            superseded: list[int] = []
            for op in ops:
                same = [o for o in open_ops.get((op.posting_id, op.target), []) if _same(o, op)]
                if same:
                    ids.append(same[-1].id)
                    continue
                superseded.extend(o.id for o in open_ops.get((op.posting_id, op.target), []))
                ids.append(None)
                fresh.append(op)
            self._supersede(conn, superseded, now)
            new_ids = self._insert_operations(conn, fresh, run_id, now)
            self._plan_deliveries(conn, ops, fresh, known, now)
        iterator = iter(new_ids)
        return [i if i is not None else next(iterator) for i in ids]

    def cancel(self, keys: Iterable[tuple[str, str]], *, now: datetime | None = None) -> int:
        """Drop the open operations of these ``(posting_id, target)``; how many were dropped.

        Each delivery goes back to what its target last accepted (``published``, or ``closed``
        when that was a CLOSE or nothing), attempts and error cleared: for a posting that came
        back to its delivered content, or was withdrawn before it was ever sent.
        """
        now = _now(now)
        keys = list(dict.fromkeys(keys))
        if not keys:
            return 0
        table = deliveries_table
        with self._write() as conn:
            open_ops = self._open_operations(conn, keys)
            dropped = [o.id for ops in open_ops.values() for o in ops]
            self._supersede(conn, dropped, now)
            settled_state = sa.case(
                (
                    (table.c.delivered_kind == OperationKind.CLOSE)
                    | table.c.delivered_kind.is_(None),
                    DeliveryState.CLOSED.value,
                ),
                else_=DeliveryState.PUBLISHED.value,
            )
            conn.execute(
                sa.update(table)
                .where(
                    table.c.posting_id == sa.bindparam("k_posting"),
                    table.c.target == sa.bindparam("k_target"),
                )
                .values(
                    state=settled_state,
                    planned_hash=table.c.content_hash,
                    attempts=0,
                    next_attempt_at=None,
                    last_error=None,
                    updated_at=now,
                ),
                [{"k_posting": p, "k_target": t} for p, t in keys],
            )
        return len(dropped)

    # -- doing -----------------------------------------------------------------------------------

    def pending(
        self,
        target: str | None = None,
        *,
        now: datetime | None = None,
        limit: int | None = None,
        after_id: int = 0,
    ) -> list[Operation]:
        """Operations to do now, oldest first: pending ones, and queued ones whose time came.

        ``limit`` and ``after_id`` (the last id of the previous page) read them page by page.
        """
        table = operations_table
        due = sa.or_(
            table.c.status == OperationStatus.PENDING,
            sa.and_(table.c.status == OperationStatus.QUEUED, table.c.next_attempt_at <= _now(now)),
        )
        query = sa.select(table).where(due, table.c.id > after_id).order_by(table.c.id).limit(limit)
        if target is not None:
            query = query.where(table.c.target == target)
        with self._read() as conn:
            return [_from_row(Operation, row) for row in conn.execute(query)]

    def open_count(self, target: str | None = None) -> int:
        """How many operations (of one target) are still to be done, due now or later."""
        table = operations_table
        query = sa.select(sa.func.count()).where(table.c.status.in_(_OPEN))
        if target is not None:
            query = query.where(table.c.target == target)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def next_retry_at(self, target: str | None = None) -> datetime | None:
        """When the earliest queued operation (of one target) is due, or None if none is."""
        table = operations_table
        query = sa.select(sa.func.min(table.c.next_attempt_at)).where(
            table.c.status == OperationStatus.QUEUED
        )
        if target is not None:
            query = query.where(table.c.target == target)
        with self._read() as conn:
            return conn.execute(query).scalar()

    def operation(self, op_id: int) -> Operation:
        """One operation by id (`StateError` when there is none)."""
        with self._read() as conn:
            return self._operation(conn, op_id)

    def start_attempt(self, op_id: int, *, now: datetime | None = None) -> Operation:
        """Count an attempt of an open operation, just before it is sent; the updated operation."""
        self.start_attempts([op_id], now=now)
        return self.operation(op_id)

    def start_attempts(self, op_ids: Sequence[int], *, now: datetime | None = None) -> None:
        """`start_attempt` for a batch, in one transaction (e.g. one board request)."""
        now = _now(now)
        ops_t, dels_t = operations_table, deliveries_table
        with self._write() as conn:
            ops = self._operation_heads(conn, op_ids)
            for op in ops:
                if not op.status.open:
                    raise StateError(
                        f"operation {op.id} is {op.status}, not open",
                        target=op.target,
                        posting_id=op.posting_id,
                    )
            if not ops:
                return
            conn.execute(
                sa.update(ops_t)
                .where(ops_t.c.id == sa.bindparam("k_id"))
                .values(
                    attempts=ops_t.c.attempts + 1,
                    status=OperationStatus.PENDING,
                    next_attempt_at=None,
                    last_attempt_at=now,
                ),
                [{"k_id": op.id} for op in ops],
            )
            conn.execute(
                sa.update(dels_t)
                .where(
                    dels_t.c.posting_id == sa.bindparam("k_posting"),
                    dels_t.c.target == sa.bindparam("k_target"),
                )
                .values(attempts=dels_t.c.attempts + 1, last_attempt_at=now, updated_at=now),
                [{"k_posting": op.posting_id, "k_target": op.target} for op in ops],
            )

    def succeed(
        self, op_id: int, remote_id: str | None = None, *, now: datetime | None = None
    ) -> None:
        """Record that the target accepted the operation (see `record`)."""
        self.record([Succeeded(op_id, remote_id)], now=now)

    def fail(
        self,
        op_id: int,
        error: str | BaseException,
        retry_at: datetime | None = None,
        *,
        now: datetime | None = None,
    ) -> None:
        """Record that the operation failed (see `record`)."""
        self.record([Failed(op_id, error, retry_at)], now=now)

    def record(
        self, outcomes: Iterable[Succeeded | Failed], *, now: datetime | None = None
    ) -> None:
        """Record outcomes, in one transaction.

        `Succeeded`: the operation is ``succeeded``; its delivery takes the operation's content
        hash, kind and remote id (kept when None), one more version, state ``published`` (or
        ``closed`` for a CLOSE) unless a newer operation is open, attempts and error cleared.

        `Failed` with ``retry_at``: the operation is ``queued`` until then and the delivery
        ``pending``.  Without: the operation and the delivery are ``failed``, and nothing is
        retried until a new plan (a changed posting) comes.  Errors are masked before storing.

        An operation superseded meanwhile still updates what the delivery last accepted when it
        succeeds; when it fails, only its own row records the error.
        """
        now = _now(now)
        outcomes = list(outcomes)
        with self._write() as conn:
            heads = {op.id: op for op in self._operation_heads(conn, [o.op_id for o in outcomes])}
            open_ids = self._open_ids(conn, list({op.key for op in heads.values()}))
            updates = _OutcomeUpdates()
            for outcome in outcomes:
                op = heads.get(outcome.op_id)
                if op is None:
                    raise StateError(f"no operation {outcome.op_id} in the state store")
                if op.status not in (*_OPEN, OperationStatus.SUPERSEDED) or op.id in updates.done:
                    raise StateError(
                        f"operation {op.id} is already {op.status}",
                        target=op.target,
                        posting_id=op.posting_id,
                    )
                waiting = open_ids.setdefault(op.key, set())
                if isinstance(outcome, Succeeded):
                    waiting.discard(op.id)
                    updates.success(op, outcome.remote_id, newer_open=bool(waiting), now=now)
                else:
                    retry_at = None if outcome.retry_at is None else _now(outcome.retry_at)
                    if retry_at is None:
                        waiting.discard(op.id)
                    updates.failure(op, _error_text(outcome.error), retry_at, now=now)
            updates.execute(conn)

    def await_task(
        self, op_id: int, task_id: str, retry_at: datetime, *, now: datetime | None = None
    ) -> None:
        """Record that the board accepted operation ``op_id`` as task ``task_id``, still running.

        The operation stays open (``queued`` until ``retry_at``) with the task as its remote id,
        so the next attempt polls the task instead of sending the operation again.
        """
        now = _now(now)
        message = f"waiting for the board's task {task_id}"
        with self._write() as conn:
            op = self._operation(conn, op_id)
            if not op.status.open:
                return  # superseded meanwhile: the newer operation will be sent instead
            conn.execute(
                sa.update(operations_table)
                .where(operations_table.c.id == op_id)
                .values(
                    status=OperationStatus.QUEUED,
                    remote_id=task_id,
                    next_attempt_at=_now(retry_at),
                    last_error=message,
                )
            )
            conn.execute(
                sa.update(deliveries_table)
                .where(
                    deliveries_table.c.posting_id == op.posting_id,
                    deliveries_table.c.target == op.target,
                )
                .values(next_attempt_at=_now(retry_at), last_error=message, updated_at=now)
            )

    # -- reading the past ------------------------------------------------------------------------

    def history(
        self, posting_id: str | None = None, target: str | None = None, *, limit: int = 100
    ) -> list[Operation]:
        """Recorded operations, newest first (of one posting and/or target)."""
        table = operations_table
        query = sa.select(table).order_by(table.c.id.desc()).limit(limit)
        if posting_id is not None:
            query = query.where(table.c.posting_id == posting_id)
        if target is not None:
            query = query.where(table.c.target == target)
        with self._read() as conn:
            return [_from_row(Operation, row) for row in conn.execute(query)]

    # -- runs ------------------------------------------------------------------------------------

    def begin_run(self, *, now: datetime | None = None) -> int:
        """Record the start of a publish run; its id."""
        with self._write() as conn:
            result = conn.execute(sa.insert(runs_table).values(started_at=_now(now)))
            return int(result.inserted_primary_key[0])

    def finish_run(self, run_id: int, outcome: str, *, now: datetime | None = None) -> None:
        """Record how run ``run_id`` ended (``ok``, ``queued``, ``failed``…)."""
        with self._write() as conn:
            conn.execute(
                sa.update(runs_table)
                .where(runs_table.c.id == run_id)
                .values(finished_at=_now(now), outcome=outcome)
            )

    def runs(self, *, limit: int = 20) -> list[Run]:
        """The latest runs, newest first."""
        query = sa.select(runs_table).order_by(runs_table.c.id.desc()).limit(limit)
        with self._read() as conn:
            return [_from_row(Run, row) for row in conn.execute(query)]

    # -- quota -----------------------------------------------------------------------------------

    def quota_used(self, target: str, day: date | None = None) -> int:
        """Notifications sent to ``target`` on UTC ``day`` (default: today, UTC)."""
        day = day or utc_day()
        query = sa.select(quota_table.c.used).where(
            quota_table.c.target == target, quota_table.c.day == day.isoformat()
        )
        with self._read() as conn:
            return conn.execute(query).scalar() or 0

    def use_quota(self, target: str, day: date | None = None, n: int = 1) -> int:
        """Count ``n`` more notifications to ``target`` on UTC ``day``; the day's new total."""
        day_text = (day or utc_day()).isoformat()
        table = quota_table
        where = (table.c.target == target, table.c.day == day_text)
        with self._write() as conn:
            updated = conn.execute(sa.update(table).where(*where).values(used=table.c.used + n))
            if updated.rowcount == 0:
                conn.execute(sa.insert(table).values(target=target, day=day_text, used=n))
            return int(conn.execute(sa.select(table.c.used).where(*where)).scalar_one())

    # -- the publish lock ------------------------------------------------------------------------

    @contextmanager
    def publish_lock(self, *, wait: bool = False, timeout: float | None = None) -> Iterator[None]:
        """Hold the store's publish lock: one publish at a time per store, across processes.

        ``wait=False`` raises `StateLockedError` at once when another publish holds it;
        ``wait=True`` waits for it, at most ``timeout`` seconds when given.  A SQLite file is
        locked with ``flock`` on ``<file>.lock`` (released by the system if the holder dies);
        PostgreSQL with a session advisory lock; an in-memory store within this process.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._lock_path is not None:
            lock = _file_lock(self._lock_path, wait, deadline)
        elif self._url.get_backend_name() == "sqlite":
            lock = _thread_lock(self._memory_lock, wait, timeout)
        elif self._url.get_backend_name() == "postgresql":
            lock = self._advisory_lock(wait, deadline)
        else:
            raise StateError(
                f"the publish lock needs SQLite or PostgreSQL, not {self._url.get_backend_name()}"
            )
        with lock:
            yield

    @contextmanager
    def _advisory_lock(self, wait: bool, deadline: float | None) -> Iterator[None]:
        with self._errors(), self._engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            try_lock = sa.text("SELECT pg_try_advisory_lock(:key)")
            while not conn.execute(try_lock, {"key": _PG_LOCK_KEY}).scalar():
                if not wait or (deadline is not None and time.monotonic() >= deadline):
                    raise StateLockedError(
                        f"another publish is running on state store {self.url}; "
                        "try again once it has finished"
                    )
                time.sleep(0.2)
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _operation(conn: Connection, op_id: int) -> Operation:
        row = conn.execute(
            sa.select(operations_table).where(operations_table.c.id == op_id)
        ).first()
        if row is None:
            raise StateError(f"no operation {op_id} in the state store")
        return _from_row(Operation, row)

    @staticmethod
    def _open_operations(
        conn: Connection, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[Operation]]:
        table = operations_table
        found: dict[tuple[str, str], list[Operation]] = {}
        for chunk in _chunks(keys):
            query = (
                sa.select(table)
                .where(sa.tuple_(table.c.posting_id, table.c.target).in_(chunk))
                .where(table.c.status.in_(_OPEN))
                .order_by(table.c.id)
            )
            for row in conn.execute(query):
                found.setdefault((row.posting_id, row.target), []).append(_from_row(Operation, row))
        return found

    @staticmethod
    def _known_keys(conn: Connection, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        table = deliveries_table
        known: set[tuple[str, str]] = set()
        for chunk in _chunks(keys):
            query = sa.select(table.c.posting_id, table.c.target).where(
                sa.tuple_(table.c.posting_id, table.c.target).in_(chunk)
            )
            known.update((row.posting_id, row.target) for row in conn.execute(query))
        return known

    @staticmethod
    def _supersede(conn: Connection, op_ids: Sequence[int], now: datetime) -> None:
        table = operations_table
        for chunk in _chunks(op_ids):
            conn.execute(
                sa.update(table)
                .where(table.c.id.in_(chunk))
                .values(status=OperationStatus.SUPERSEDED, finished_at=now)
            )

    @staticmethod
    def _insert_operations(
        conn: Connection, ops: Sequence[NewOperation], run_id: int | None, now: datetime
    ) -> list[int]:
        if not ops:
            return []
        table = operations_table
        rows = [
            {
                "run_id": run_id,
                "posting_id": op.posting_id,
                "target": op.target,
                "kind": op.kind,
                "content_hash": op.content_hash,
                "payload": op.payload,
                "status": OperationStatus.PENDING,
                "attempts": 0,
                "created_at": now,
            }
            for op in ops
        ]
        result = conn.execute(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        )
        return [row.id for row in result]

    @staticmethod
    def _plan_deliveries(
        conn: Connection,
        ops: Sequence[NewOperation],
        fresh: Sequence[NewOperation],
        known: set[tuple[str, str]],
        now: datetime,
    ) -> None:
        table = deliveries_table
        new_rows = [
            {
                "posting_id": op.posting_id,
                "target": op.target,
                "state": DeliveryState.PENDING,
                "planned_hash": op.content_hash,
                "version": 0,
                "attempts": 0,
                "source_path": op.source_path,
                "updated_at": now,
            }
            for op in fresh
            if (op.posting_id, op.target) not in known
        ]
        if new_rows:
            conn.execute(sa.insert(table), new_rows)
        where = (
            table.c.posting_id == sa.bindparam("k_posting"),
            table.c.target == sa.bindparam("k_target"),
        )
        replanned = [
            {"k_posting": op.posting_id, "k_target": op.target, "v_hash": op.content_hash}
            for op in fresh
            if (op.posting_id, op.target) in known
        ]
        if replanned:
            conn.execute(
                sa.update(table)
                .where(*where)
                .values(
                    state=DeliveryState.PENDING,
                    planned_hash=sa.bindparam("v_hash"),
                    attempts=0,
                    next_attempt_at=None,
                    updated_at=now,
                ),
                replanned,
            )
        moved = [
            {"k_posting": op.posting_id, "k_target": op.target, "v_path": op.source_path}
            for op in ops
            if op.source_path is not None
        ]
        if moved:
            conn.execute(
                sa.update(table).where(*where).values(source_path=sa.bindparam("v_path")), moved
            )

    @staticmethod
    def _operation_heads(conn: Connection, op_ids: Sequence[int]) -> list[_OperationHead]:
        """What recording outcomes needs of operations (not their payloads), in ``op_ids``
        order; ids that do not exist are left out."""
        table = operations_table
        columns = [table.c[name] for name in _OperationHead._fields]
        found: dict[int, _OperationHead] = {}
        for chunk in _chunks(list(op_ids)):
            for row in conn.execute(sa.select(*columns).where(table.c.id.in_(chunk))):
                found[row.id] = _OperationHead(*row)
        return [found[op_id] for op_id in op_ids if op_id in found]

    @staticmethod
    def _open_ids(
        conn: Connection, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], set[int]]:
        table = operations_table
        found: dict[tuple[str, str], set[int]] = {}
        for chunk in _chunks(keys):
            query = (
                sa.select(table.c.id, table.c.posting_id, table.c.target)
                .where(sa.tuple_(table.c.posting_id, table.c.target).in_(chunk))
                .where(table.c.status.in_(_OPEN))
            )
            for row in conn.execute(query):
                found.setdefault((row.posting_id, row.target), set()).add(row.id)
        return found


class _OperationHead(NamedTuple):
    id: int
    posting_id: str
    target: str
    kind: OperationKind
    content_hash: str | None
    status: OperationStatus

    @property
    def key(self) -> tuple[str, str]:
        return (self.posting_id, self.target)


_OPS = operations_table.c
_DELS = deliveries_table.c
_WHERE_OP = _OPS.id == sa.bindparam("k_id")
_WHERE_DELIVERY = sa.and_(
    _DELS.posting_id == sa.bindparam("k_posting"), _DELS.target == sa.bindparam("k_target")
)
_SUCCEED_OPERATION = (
    sa.update(operations_table)
    .where(_WHERE_OP)
    .values(
        status=OperationStatus.SUCCEEDED,
        remote_id=sa.bindparam("v_remote"),
        next_attempt_at=None,
        finished_at=sa.bindparam("v_now"),
    )
)
# A delivery takes what the board accepted; content hash and remote id are kept when the
# outcome has none, and the first publication time is set by the first accepted non-CLOSE.
_SUCCEED_DELIVERY = (
    sa.update(deliveries_table)
    .where(_WHERE_DELIVERY)
    .values(
        state=sa.bindparam("v_state"),
        delivered_kind=sa.bindparam("v_kind"),
        version=_DELS.version + 1,
        delivered_at=sa.bindparam("v_now"),
        attempts=0,
        next_attempt_at=None,
        last_error=None,
        updated_at=sa.bindparam("v_now"),
        content_hash=sa.func.coalesce(sa.bindparam("v_hash", type_=sa.String), _DELS.content_hash),
        remote_id=sa.func.coalesce(sa.bindparam("v_remote", type_=sa.Text), _DELS.remote_id),
        first_published_at=sa.case(
            (sa.bindparam("v_closing", type_=sa.Boolean), _DELS.first_published_at),
            else_=sa.func.coalesce(
                _DELS.first_published_at, sa.bindparam("v_now", type_=UTCDateTime())
            ),
        ),
    )
)
_FAIL_SUPERSEDED = (
    sa.update(operations_table).where(_WHERE_OP).values(last_error=sa.bindparam("v_error"))
)
_FAIL_OPERATION = (
    sa.update(operations_table)
    .where(_WHERE_OP)
    .values(
        status=sa.bindparam("v_status"),
        next_attempt_at=sa.bindparam("v_retry"),
        last_error=sa.bindparam("v_error"),
        finished_at=sa.bindparam("v_finished"),
    )
)
_FAIL_DELIVERY = (
    sa.update(deliveries_table)
    .where(_WHERE_DELIVERY)
    .values(
        state=sa.bindparam("v_state"),
        next_attempt_at=sa.bindparam("v_retry"),
        last_error=sa.bindparam("v_error"),
        updated_at=sa.bindparam("v_now"),
    )
)


@dataclass(slots=True)
class _OutcomeUpdates:
    """The rows that recording a set of outcomes changes, written by a few executemany calls.

    Each operation row changes once; delivery rows change in outcome order, so that two
    outcomes for one delivery apply as if recorded one after the other.
    """

    done: set[int] = field(default_factory=set)
    operations: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    deliveries: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)

    def success(
        self, op: _OperationHead, remote_id: str | None, *, newer_open: bool, now: datetime
    ) -> None:
        closing = op.kind is OperationKind.CLOSE
        settled = DeliveryState.CLOSED if closing else DeliveryState.PUBLISHED
        self.done.add(op.id)
        self.operations.append(
            (_SUCCEED_OPERATION, {"k_id": op.id, "v_remote": remote_id, "v_now": now})
        )
        self.deliveries.append(
            (
                _SUCCEED_DELIVERY,
                {
                    "k_posting": op.posting_id,
                    "k_target": op.target,
                    "v_state": DeliveryState.PENDING if newer_open else settled,
                    "v_kind": op.kind,
                    "v_now": now,
                    "v_hash": op.content_hash,
                    "v_remote": remote_id,
                    "v_closing": closing,
                },
            )
        )

    def failure(
        self, op: _OperationHead, error: str, retry_at: datetime | None, *, now: datetime
    ) -> None:
        self.done.add(op.id)
        if op.status is OperationStatus.SUPERSEDED:
            self.operations.append((_FAIL_SUPERSEDED, {"k_id": op.id, "v_error": error}))
            return
        retry = retry_at is not None
        self.operations.append(
            (
                _FAIL_OPERATION,
                {
                    "k_id": op.id,
                    "v_status": OperationStatus.QUEUED if retry else OperationStatus.FAILED,
                    "v_retry": retry_at,
                    "v_error": error,
                    "v_finished": None if retry else now,
                },
            )
        )
        self.deliveries.append(
            (
                _FAIL_DELIVERY,
                {
                    "k_posting": op.posting_id,
                    "k_target": op.target,
                    "v_state": DeliveryState.PENDING if retry else DeliveryState.FAILED,
                    "v_retry": retry_at,
                    "v_error": error,
                    "v_now": now,
                },
            )
        )

    def execute(self, conn: Connection) -> None:
        """Run the updates: operations grouped by statement, deliveries in order."""
        order = {_SUCCEED_OPERATION: 0, _FAIL_OPERATION: 1, _FAIL_SUPERSEDED: 2}
        _execute_runs(conn, sorted(self.operations, key=lambda item: order[item[0]]))
        _execute_runs(conn, self.deliveries)


def _execute_runs(conn: Connection, statements: Sequence[tuple[Any, dict[str, Any]]]) -> None:
    """Execute ``statements`` in order, each run of one statement as one executemany."""
    run: list[dict[str, Any]] = []
    current: Any = None
    for statement, params in statements:
        if statement is not current and run:
            conn.execute(current, run)
            run = []
        current = statement
        run.append(params)
    if run:
        conn.execute(current, run)


def _sqlite_deliveries(
    conn: Connection, query: sa.Select[Any], names: Sequence[str]
) -> dict[tuple[str, str], Delivery]:
    """Every delivery of ``query``, read through the driver and converted here: a plan reads
    the whole table, and SQLAlchemy's conversions per value cost more than the reading."""
    enums: dict[str, Callable[[Any], Any]] = {
        "state": DeliveryState,
        "delivered_kind": OperationKind,
    }
    convert = [
        enums.get(name) or _SQLITE_READERS.get(type(deliveries_table.c[name].type))
        for name in names
    ]
    converted = [index for index, reader in enumerate(convert) if reader is not None]
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    found: dict[tuple[str, str], Delivery] = {}
    for row in conn.exec_driver_sql(str(compiled)):
        values = list(row)
        for index in converted:
            if values[index] is not None:
                values[index] = convert[index](values[index])  # type: ignore[misc]
        found[(values[0], values[1])] = Delivery(*values)
    return found


def _utc_text(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


_SQLITE_READERS: dict[type, Callable[[Any], Any]] = {UTCDateTime: _utc_text}


def _same(open_op: Operation, new: NewOperation) -> bool:
    return (
        open_op.kind == new.kind
        and open_op.content_hash == new.content_hash
        and json.dumps(open_op.payload, sort_keys=True) == json.dumps(new.payload, sort_keys=True)
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's documented recipe: turn off the driver's own transaction handling and emit
    # BEGIN ourselves (see _sqlite_on_begin), so reads and writes in one block are one transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # A writer takes the write lock up front: a deferred transaction that reads first could
    # not upgrade to writing once another writer committed (SQLITE_BUSY without waiting).
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def _file_lock(path: Path, wait: bool, deadline: float | None) -> Iterator[None]:
    with path.open("a+", encoding="utf-8") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or (deadline is not None and time.monotonic() >= deadline):
                    holder = _lock_holder(path)
                    raise StateLockedError(
                        f"another publish is running on this state store ({holder}); "
                        "try again once it has finished",
                        file=path,
                    ) from None
                time.sleep(0.1)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(
                f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}\n"
            )
            handle.flush()
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _lock_holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "holder unknown"


@contextmanager
def _thread_lock(lock: threading.Lock, wait: bool, timeout: float | None) -> Iterator[None]:
    if not lock.acquire(blocking=wait, timeout=-1 if timeout is None or not wait else timeout):
        raise StateLockedError("another publish is running on this in-memory state store")
    try:
        yield
    finally:
        lock.release()


__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Delivery",
    "DeliveryState",
    "Failed",
    "NewOperation",
    "Operation",
    "OperationKind",
    "OperationStatus",
    "Run",
    "StateError",
    "StateLockedError",
    "StateStore",
    "Succeeded",
    "utc_day",
]

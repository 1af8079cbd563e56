"""`StateStore`: the publish state at a SQLAlchemy URL (see `syndicate.state`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from syndicate.errors import LeaseLostError, StateError, StateLockedError
from syndicate.operations import OperationKind
from syndicate.state import summary
from syndicate.state.coordination import CoordinationStore, database_now
from syndicate.state.database import Database
from syndicate.state.guards import GuardStore
from syndicate.state.listings import ListingStore
from syndicate.state.locks import file_lock, thread_lock
from syndicate.state.outcomes import OperationHead, OutcomeUpdates
from syndicate.state.records import (
    Delivery,
    Failed,
    NewOperation,
    Operation,
    Run,
    Succeeded,
    chunks,
    error_text,
    from_row,
    now_utc,
    utc_day,
)
from syndicate.state.references import ReferenceStore
from syndicate.state.schema import (
    MIGRATIONS,
    OPEN,
    SCHEMA_VERSION,
    DeliveryState,
    OperationStatus,
    UTCDateTime,
    deliveries_table,
    listing_keys_table,
    meta_table,
    metadata,
    operations_table,
    quota_table,
    runs_table,
)
from syndicate.state.sqlite import sqlite_deliveries

_PG_LOCK_KEY = 0x73796E6469636174  # "syndicat": the advisory lock key of the publish lock


class StateStore:
    """The publish state at a SQLAlchemy URL, created or migrated when opened.

    Use it as a context manager, or call `close` when done.  Raises `StateError` when the
    database cannot be opened or has a newer schema than this code knows.
    """

    def __init__(self, url: str | URL) -> None:
        self._db = Database(url)
        self._url = self._db.url_object
        self._lock_path = self._db.lock_path
        self._memory_lock = threading.Lock()
        self._engine = self._db.engine
        self._read = self._db.read
        self._write = self._db.write
        self._errors = self._db.errors
        try:
            self._prepare_schema()
        except BaseException:
            self._engine.dispose()
            raise
        self.listings = ListingStore(self._db)
        self.guards = GuardStore(self._db)
        self.references = ReferenceStore(self._db)
        self.coordination = CoordinationStore(self._db)

    @property
    def url(self) -> str:
        """The store's URL, password hidden."""
        return self._db.url

    @property
    def database(self) -> Database:
        """The database and its transactions (`Database.read`, `Database.write`)."""
        return self._db

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

    def _prepare_schema(self) -> None:
        with self._write() as conn:
            if not sa.inspect(conn).has_table(meta_table.name):
                metadata.create_all(conn)
                conn.execute(
                    sa.insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION))
                )
                summary.ensure(conn)
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
            listing_keys_table.create(conn, checkfirst=True)
            summary.ensure(conn)

    def schema_version(self) -> int:
        """The schema version recorded in the store."""
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
                ).scalar_one()
            )

    # -- deliveries ------------------------------------------------------------------------------

    def deliveries(
        self,
        target: str | None = None,
        *,
        state: DeliveryState | None = None,
        posting_ids: Collection[str] | None = None,
    ) -> dict[tuple[str, str], Delivery]:
        """Every delivery (of one target, in one ``state``, of these postings), keyed by
        ``(posting_id, target)``."""
        names = [f.name for f in fields(Delivery)]  # posting_id and target first
        query = sa.select(*(deliveries_table.c[name] for name in names))
        if target is not None:
            query = query.where(deliveries_table.c.target == target)
        if state is not None:
            query = query.where(deliveries_table.c.state == state)
        if posting_ids is not None:
            query = query.where(deliveries_table.c.posting_id.in_(sorted(posting_ids)))
        with self._read() as conn:
            if self._url.get_backend_name() == "sqlite":
                return sqlite_deliveries(conn, query, names)
            return {
                (row.posting_id, row.target): from_row(Delivery, row) for row in conn.execute(query)
            }

    def delivery(self, posting_id: str, target: str) -> Delivery | None:
        """The delivery of one posting on one target, if anything was ever planned for it."""
        query = sa.select(deliveries_table).where(
            deliveries_table.c.posting_id == posting_id, deliveries_table.c.target == target
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else from_row(Delivery, row)

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
        """Record planned operations durably, in one transaction; their ids, in order (a
        large plan is recorded in several calls, a window at a time: `syndicate.plan`).

        Each operation supersedes the open (pending or queued) operations of its posting ×
        target, and puts the delivery in state ``pending``.  Planning again what is already
        open (same kind, content hash and payload) records nothing new and returns the open
        operation's id, so a run that re-plans after a killed one does not duplicate work.

        An open operation with ``attempts > 0`` may already have reached the board (its answer
        was lost); `Delivery.attempts` and ``last_attempt_at`` say so to the planner.  At most
        one operation per posting × target in one call (`ValueError` otherwise).
        """
        now = now_utc(now)
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
        now = now_utc(now)
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
        retry_now: bool = False,
    ) -> list[Operation]:
        """Operations to do now, oldest first: pending ones, and queued ones whose time came.

        ``retry_now`` takes queued ones before their backoff ends too, but never before the
        board's own ``not_before`` (its Retry-After, a daily quota).  ``limit`` and
        ``after_id`` (the last id of the previous page) read them page by page.
        """
        table = operations_table
        due = self._due(now_utc(now), retry_now)
        query = sa.select(table).where(due, table.c.id > after_id).order_by(table.c.id).limit(limit)
        if target is not None:
            query = query.where(table.c.target == target)
        with self._read() as conn:
            return [from_row(Operation, row) for row in conn.execute(query)]

    @staticmethod
    def _due(moment: datetime, retry_now: bool) -> sa.ColumnElement[bool]:
        """Operations to do at ``moment``: pending ones, and queued ones whose time came."""
        table = operations_table
        if retry_now:
            time_came = sa.or_(table.c.not_before.is_(None), table.c.not_before <= moment)
        else:
            time_came = table.c.next_attempt_at <= moment
        return sa.or_(
            table.c.status == OperationStatus.PENDING,
            sa.and_(table.c.status == OperationStatus.QUEUED, time_came),
        )

    def open_count(self, target: str | None = None) -> int:
        """How many operations (of one target) are still to be done, due now or later."""
        table = operations_table
        query = sa.select(sa.func.count()).where(table.c.status.in_(OPEN))
        if target is not None:
            query = query.where(table.c.target == target)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def open_ids(self, target: str) -> set[int]:
        """The ids of a target's operations still to be done, due now or later."""
        table = operations_table
        query = sa.select(table.c.id).where(table.c.status.in_(OPEN), table.c.target == target)
        with self._read() as conn:
            return {int(row.id) for row in conn.execute(query)}

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

    def creates_in_doubt(self, target: str, posting_ids: Collection[str]) -> dict[str, datetime]:
        """For each of these postings, when a CREATE to ``target`` was last sent without an
        answer (attempted, then superseded before it was answered) since the target last
        accepted anything of it: the board may still come to show it (a lost answer, a task
        not yet processed)."""
        if not posting_ids:
            return {}
        ops, deliveries = operations_table, deliveries_table
        query = (
            sa.select(ops.c.posting_id, sa.func.max(ops.c.last_attempt_at, type_=UTCDateTime))
            .select_from(
                ops.outerjoin(
                    deliveries,
                    (deliveries.c.posting_id == ops.c.posting_id)
                    & (deliveries.c.target == ops.c.target),
                )
            )
            .where(
                ops.c.target == target,
                ops.c.kind == OperationKind.CREATE.value,
                ops.c.status == OperationStatus.SUPERSEDED,
                ops.c.attempts > 0,
                ops.c.last_attempt_at.is_not(None),
                sa.or_(
                    deliveries.c.delivered_at.is_(None),
                    ops.c.last_attempt_at > deliveries.c.delivered_at,
                ),
            )
            .group_by(ops.c.posting_id)
        )
        found: dict[str, datetime] = {}
        with self._read() as conn:
            for chunk in chunks(sorted(posting_ids)):
                for posting_id, at in conn.execute(query.where(ops.c.posting_id.in_(chunk))):
                    found[posting_id] = at
        return found

    def start_attempt(self, op_id: int, *, now: datetime | None = None) -> Operation:
        """Count an attempt of an open operation, just before it is sent; the updated operation."""
        self.start_attempts([op_id], now=now)
        return self.operation(op_id)

    def start_attempts(
        self,
        op_ids: Sequence[int],
        *,
        now: datetime | None = None,
        holder: str | None = None,
        hold: timedelta | None = None,
    ) -> None:
        """`start_attempt` for a batch, in one transaction (e.g. one board request).

        With ``holder``, every operation must be leased to it, unexpired (`lease_due`):
        `LeaseLostError` otherwise, and nothing is counted (the batch must not be sent).  With
        ``hold`` too, the leases are extended to at least ``hold`` from now on the database's
        clock, in the same statement: a holder that sends within ``hold`` after this check
        and whose request ends within it can never be sending while another holds the lease.
        """
        now = now_utc(now)
        ops_t, dels_t = operations_table, deliveries_table
        with self._write() as conn:
            if holder is None:
                ops = self._operation_heads(conn, op_ids)
            else:
                ops = self._leased_heads(conn, op_ids, holder)
            for op in ops:
                if not op.status.open:
                    raise StateError(
                        f"operation {op.id} is {op.status}, not open",
                        target=op.target,
                        posting_id=op.posting_id,
                    )
            if not ops:
                return
            held = {} if holder is None or hold is None else {"lease_expires_at": _held(conn, hold)}
            conn.execute(
                sa.update(ops_t)
                .where(ops_t.c.id == sa.bindparam("k_id"))
                .values(
                    attempts=ops_t.c.attempts + 1,
                    status=OperationStatus.PENDING,
                    next_attempt_at=None,
                    last_attempt_at=now,
                    **held,
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

    # -- leases of operations ----------------------------------------------------------------

    def lease_due(
        self,
        target: str,
        holder: str,
        *,
        limit: int,
        duration: timedelta,
        after_id: int = 0,
        now: datetime | None = None,
        retry_now: bool = False,
    ) -> list[Operation]:
        """Lease up to ``limit`` due operations of ``target`` (as `pending` chooses them,
        after ``after_id``) to ``holder`` for ``duration``, oldest first.

        Operations leased to another holder are skipped until that lease expires; on
        PostgreSQL the rows are chosen ``FOR UPDATE SKIP LOCKED``, so daemons leasing at the
        same moment take different operations without waiting for each other (SQLite's single
        writer makes the same choice one at a time).  Lease times are the database's clock.
        """
        table = operations_table
        with self._db.write(concurrent=True) as conn:
            moment = database_now(conn)
            free = sa.or_(
                table.c.lease_holder.is_(None),
                table.c.lease_holder == holder,
                table.c.lease_expires_at <= moment,
            )
            chosen = (
                sa.select(table.c.id)
                .where(self._due(now_utc(now), retry_now), free, table.c.target == target)
                .where(table.c.id > after_id)
                .order_by(table.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            ids = list(conn.execute(chosen).scalars())
            if not ids:
                return []
            conn.execute(
                sa.update(table)
                .where(table.c.id.in_(ids))
                .values(lease_holder=holder, lease_expires_at=moment + duration)
            )
            rows = conn.execute(sa.select(table).where(table.c.id.in_(ids)).order_by(table.c.id))
            return [from_row(Operation, row) for row in rows]

    def renew_leases(self, holder: str, duration: timedelta) -> int:
        """Extend every unexpired lease of ``holder`` to ``duration`` from now (never
        shortening one held longer for a request in flight, see `start_attempts`); how many."""
        table = operations_table
        with self._db.write(concurrent=True) as conn:
            moment = database_now(conn)
            renewed = conn.execute(
                sa.update(table)
                .where(
                    table.c.lease_holder == holder,
                    table.c.lease_expires_at > moment,
                    table.c.status.in_(OPEN),
                )
                .values(lease_expires_at=_at_least(sa.literal(moment + duration, UTCDateTime())))
            )
            return int(renewed.rowcount)

    def release_leases(self, holder: str, target: str | None = None) -> None:
        """Give up ``holder``'s leases (of one target): what it did not send is free at once."""
        table = operations_table
        # Only an open operation holds a lease (an outcome ends it); the status narrows the
        # statement to the index's few rows rather than a scan of every operation ever made.
        query = sa.update(table).where(table.c.lease_holder == holder, table.c.status.in_(OPEN))
        if target is not None:
            query = query.where(table.c.target == target)
        with self._db.write(concurrent=True) as conn:
            conn.execute(query.values(lease_holder=None, lease_expires_at=None))

    def release_leases_of(self, prefix: str) -> None:
        """Give up the leases of every holder whose id starts with ``prefix``: those of
        ``publish`` runs (``publish-…``) once the publish lock shows that none is running."""
        table = operations_table
        with self._db.write(concurrent=True) as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.lease_holder.startswith(prefix, autoescape=True))
                .where(table.c.status.in_(OPEN))  # see `release_leases`
                .values(lease_holder=None, lease_expires_at=None)
            )

    def push_leases(self) -> list[dict[str, Any]]:
        """The unexpired leases of open operations: holder, target, how many, until when."""
        table = operations_table
        with self._read() as conn:
            moment = database_now(conn)
            query = (
                sa.select(
                    table.c.lease_holder,
                    table.c.target,
                    sa.func.count().label("operations"),
                    sa.func.max(table.c.lease_expires_at).label("until"),
                )
                .where(table.c.lease_holder.is_not(None), table.c.lease_expires_at > moment)
                .where(table.c.status.in_(OPEN))
                .group_by(table.c.lease_holder, table.c.target)
                .order_by(table.c.lease_holder, table.c.target)
            )
            return [
                {"holder": row.lease_holder, "target": row.target,
                 "operations": int(row.operations), "until": row.until}
                for row in conn.execute(query)
            ]  # fmt: skip

    @staticmethod
    def _leased_heads(conn: Connection, op_ids: Sequence[int], holder: str) -> list[OperationHead]:
        """`_operation_heads`, each checked in the same query to be leased to ``holder`` and
        unexpired on the database's clock: `LeaseLostError` otherwise."""
        table = operations_table
        columns = [table.c[name] for name in OperationHead._fields]
        postgres = conn.dialect.name == "postgresql"
        clock = sa.func.clock_timestamp() if postgres else sa.literal(database_now(conn))
        found: dict[int, OperationHead] = {}
        for chunk in chunks(list(op_ids)):
            query = sa.select(
                *columns,
                table.c.lease_holder,
                sa.or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at > clock)
                .label("unexpired"),
            ).where(table.c.id.in_(chunk))  # fmt: skip
            for row in conn.execute(query):
                if row.lease_holder != holder or not row.unexpired:
                    raise LeaseLostError(
                        f"operation {row.id} is no longer leased to {holder} "
                        f"(now {row.lease_holder or 'nobody'}'s): not sent"
                    )
                found[row.id] = OperationHead(*row[: len(columns)])
        return [found[op_id] for op_id in op_ids if op_id in found]

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
        now = now_utc(now)
        outcomes = list(outcomes)
        with self._write() as conn:
            heads = {op.id: op for op in self._operation_heads(conn, [o.op_id for o in outcomes])}
            open_ids = self._open_ids(conn, list({op.key for op in heads.values()}))
            updates = OutcomeUpdates()
            for outcome in outcomes:
                op = heads.get(outcome.op_id)
                if op is None:
                    raise StateError(f"no operation {outcome.op_id} in the state store")
                if op.status not in (*OPEN, OperationStatus.SUPERSEDED) or op.id in updates.done:
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
                    retry_at = None if outcome.retry_at is None else now_utc(outcome.retry_at)
                    if retry_at is None:
                        waiting.discard(op.id)
                    not_before = None if outcome.not_before is None else now_utc(outcome.not_before)
                    updates.failure(
                        op, error_text(outcome.error), retry_at, now=now, not_before=not_before
                    )
            updates.execute(conn)  # which also ends the operations' leases

    def await_task(
        self, op_id: int, task_id: str, retry_at: datetime, *, now: datetime | None = None
    ) -> None:
        """Record that the board accepted operation ``op_id`` as task ``task_id``, still running.

        The operation stays open (``queued`` until ``retry_at``) with the task as its remote id,
        so the next attempt polls the task instead of sending the operation again.
        """
        now = now_utc(now)
        message = f"waiting for the board's task {task_id}"
        with self._write() as conn:
            op = self._operation(conn, op_id)
            if not op.status.open:
                return  # superseded meanwhile: the newer operation will be sent instead
            accepted_at = op.task_accepted_at if op.remote_id == task_id else now
            conn.execute(
                sa.update(operations_table)
                .where(operations_table.c.id == op_id)
                .values(
                    status=OperationStatus.QUEUED,
                    remote_id=task_id,
                    task_accepted_at=accepted_at,
                    lease_holder=None,
                    lease_expires_at=None,
                    next_attempt_at=now_utc(retry_at),
                    last_error=message,
                )
            )
            conn.execute(
                sa.update(deliveries_table)
                .where(
                    deliveries_table.c.posting_id == op.posting_id,
                    deliveries_table.c.target == op.target,
                )
                .values(next_attempt_at=now_utc(retry_at), last_error=message, updated_at=now)
            )

    def refresh(
        self, versions: Iterable[tuple[str, str, str, str]], *, now: datetime | None = None
    ) -> None:
        """Record, without any operation, that the target already has what it would be sent:
        ``(posting_id, target, version, posting_hash)`` whose new version (an upgrade, another
        setting, an edit of something this target is not sent) left its payload unchanged."""
        rows = [
            {"k_posting": p, "k_target": t, "v_version": v, "v_posting": h}
            for p, t, v, h in versions
        ]
        if not rows:
            return
        table = deliveries_table
        with self._write() as conn:
            conn.execute(
                sa.update(table)
                .where(
                    table.c.posting_id == sa.bindparam("k_posting"),
                    table.c.target == sa.bindparam("k_target"),
                )
                .values(
                    content_hash=sa.bindparam("v_version"),
                    planned_hash=sa.bindparam("v_version"),
                    posting_hash=sa.bindparam("v_posting"),
                    updated_at=now_utc(now),
                ),
                rows,
            )

    def last_payload(self, posting_id: str, target: str) -> Any:
        """The payload of the last operation other than a CLOSE that ``target`` accepted for
        the posting (what a CLOSE of a deleted file is built from), or None."""
        table = operations_table
        query = (
            sa.select(table.c.payload)
            .where(
                table.c.posting_id == posting_id,
                table.c.target == target,
                table.c.status == OperationStatus.SUCCEEDED,
                table.c.kind != OperationKind.CLOSE,
            )
            .order_by(table.c.id.desc())
            .limit(1)
        )
        with self._read() as conn:
            return conn.execute(query).scalar()

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
            return [from_row(Operation, row) for row in conn.execute(query)]

    # -- runs ------------------------------------------------------------------------------------

    def begin_run(self, *, now: datetime | None = None) -> int:
        """Record the start of a publish run; its id."""
        with self._write() as conn:
            result = conn.execute(sa.insert(runs_table).values(started_at=now_utc(now)))
            key = result.inserted_primary_key
            assert key is not None  # a single-row INSERT always has one
            return int(key[0])

    def finish_run(self, run_id: int, outcome: str, *, now: datetime | None = None) -> None:
        """Record how run ``run_id`` ended (``ok``, ``queued``, ``failed``…)."""
        with self._write() as conn:
            conn.execute(
                sa.update(runs_table)
                .where(runs_table.c.id == run_id)
                .values(finished_at=now_utc(now), outcome=outcome)
            )

    def runs(self, *, limit: int = 20) -> list[Run]:
        """The latest runs, newest first."""
        query = sa.select(runs_table).order_by(runs_table.c.id.desc()).limit(limit)
        with self._read() as conn:
            return [from_row(Run, row) for row in conn.execute(query)]

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

    def reserve_quota(self, target: str, day: date, costs: Sequence[int], limit: int) -> int:
        """Count, in one step for every process sharing the state, the quota of as many of
        ``costs`` (in order, each one operation's) as ``target``'s ``limit`` on ``day`` still
        allows; how many.  The caller sends those and gives back (`use_quota` with a negative
        ``n``) what it did not get accepted."""
        day_text = day.isoformat()
        table = quota_table
        where = (table.c.target == target, table.c.day == day_text)
        # A writer's turn (SQLite's lock, PostgreSQL's advisory one): read and add as one.
        with self._write() as conn:
            used = conn.execute(sa.select(table.c.used).where(*where)).scalar()
            if used is None:
                conn.execute(sa.insert(table).values(target=target, day=day_text, used=0))
                used = 0
            allowed = total = 0
            for cost in costs:
                if used + total + cost > limit:
                    break
                total += cost
                allowed += 1
            if total:
                conn.execute(sa.update(table).where(*where).values(used=table.c.used + total))
            return allowed

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
            lock = file_lock(self._lock_path, wait, deadline)
        elif self._url.get_backend_name() == "sqlite":
            lock = thread_lock(self._memory_lock, wait, timeout)
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
                        f"another publish is running on state store {self.url} "
                        f"({_advisory_holder(conn)}); try again once it has finished"
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
        return from_row(Operation, row)

    @staticmethod
    def _open_operations(
        conn: Connection, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[Operation]]:
        table = operations_table
        found: dict[tuple[str, str], list[Operation]] = {}
        for where in _by_key(table, keys):
            query = sa.select(table).where(where).order_by(table.c.id)
            for row in conn.execute(query):
                if row.status in OPEN:  # see `_by_key` for why not in the statement
                    key = (row.posting_id, row.target)
                    found.setdefault(key, []).append(from_row(Operation, row))
        return found

    @staticmethod
    def _known_keys(conn: Connection, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        table = deliveries_table
        known: set[tuple[str, str]] = set()
        for where in _by_key(table, keys):
            query = sa.select(table.c.posting_id, table.c.target).where(where)
            known.update((row.posting_id, row.target) for row in conn.execute(query))
        return known

    @staticmethod
    def _supersede(conn: Connection, op_ids: Sequence[int], now: datetime) -> None:
        table = operations_table
        for chunk in chunks(op_ids):
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
        statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids: list[int] = []
        # Some hundreds at a time: the rows and their payloads' JSON for a plan of 100,000
        # operations, made at once, were several hundred MB.
        for chunk in chunks(ops):
            rows = [
                {
                    "run_id": run_id,
                    "posting_id": op.posting_id,
                    "target": op.target,
                    "kind": op.kind,
                    "content_hash": op.content_hash,
                    "payload": op.payload,
                    "posting_hash": op.posting_hash,
                    "payload_hash": op.payload_hash,
                    "listing_expires_at": op.listing_expires_at,
                    "status": OperationStatus.PENDING,
                    "attempts": 0,
                    "created_at": now,
                }
                for op in chunk
            ]
            ids.extend(row.id for row in conn.execute(statement, rows))
        return ids

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
        for chunk in chunks(new_rows):
            conn.execute(sa.insert(table), chunk)
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
    def _operation_heads(conn: Connection, op_ids: Sequence[int]) -> list[OperationHead]:
        """What recording outcomes needs of operations (not their payloads), in ``op_ids``
        order; ids that do not exist are left out."""
        table = operations_table
        columns = [table.c[name] for name in OperationHead._fields]
        found: dict[int, OperationHead] = {}
        for chunk in chunks(list(op_ids)):
            for row in conn.execute(sa.select(*columns).where(table.c.id.in_(chunk))):
                found[row.id] = OperationHead(*row)
        return [found[op_id] for op_id in op_ids if op_id in found]

    @staticmethod
    def _open_ids(
        conn: Connection, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], set[int]]:
        table = operations_table
        found: dict[tuple[str, str], set[int]] = {}
        for where in _by_key(table, keys):
            query = sa.select(table.c.id, table.c.posting_id, table.c.target, table.c.status)
            for row in conn.execute(query.where(where)):
                if row.status in OPEN:  # see `_by_key`
                    found.setdefault((row.posting_id, row.target), set()).add(row.id)
        return found


def _by_key(table: sa.Table, keys: Sequence[tuple[str, str]]) -> Iterator[sa.ColumnElement[bool]]:
    """``(posting id, target)`` keys as conditions a statement looks up by the table's index
    on ``(posting_id, target)``: one target and some hundreds of ids each.

    A row-value ``IN`` list is not searched by that index in SQLite (the table is scanned), and
    a condition on ``status`` besides makes it search the status index instead: while a push
    of 100,000 operations has them all open, recording each batch's outcomes read every open
    operation (a third of the push's CPU at 100,000 postings, by py-spy), so the callers
    filter the status in Python, over the few rows of each key."""
    by_target: dict[str, list[str]] = {}
    for posting_id, target in keys:
        by_target.setdefault(target, []).append(posting_id)
    for target, posting_ids in by_target.items():
        for chunk in chunks(sorted(set(posting_ids))):
            yield sa.and_(table.c.target == target, table.c.posting_id.in_(chunk))


def _at_least(until: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """An operation's lease expiry moved to ``until``, unless it is later already."""
    expires = operations_table.c.lease_expires_at
    return sa.case((expires > until, expires), else_=until)


def _held(conn: Connection, hold: timedelta) -> sa.ColumnElement[Any]:
    """A lease expiry at least ``hold`` from now, on the database's clock."""
    if conn.dialect.name == "postgresql":
        return _at_least(sa.func.clock_timestamp() + sa.literal(hold, sa.Interval()))
    return _at_least(sa.literal(database_now(conn) + hold, UTCDateTime()))


def _advisory_holder(conn: Connection) -> str:
    """Who holds the publish lock, as its session names itself (`session_name`)."""
    query = sa.text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND ((l.classid::bigint << 32) | l.objid::bigint) = :key"
    )
    name = conn.execute(query, {"key": _PG_LOCK_KEY}).scalar()
    return str(name) if name else "holder unknown"


def _same(open_op: Operation, new: NewOperation) -> bool:
    return (
        open_op.kind == new.kind
        and open_op.content_hash == new.content_hash
        and json.dumps(open_op.payload, sort_keys=True) == json.dumps(new.payload, sort_keys=True)
    )

"""What several daemons on one state share to work together (``store.coordination``).

- **Leases** (`acquire`, `renew`, `release`, `lease`): a named role one holder at a time has,
  until ``expires_at``; the holder renews it while it lives, and a holder that died or lost the
  database loses it once it expires.  The daemons' ``planning`` lease says who plans.
- **Daemons** (`report`, `daemons`): each daemon's last word: when it was seen, when it last
  synced and how that went, which revision of the postings it has.
- **Plans** (`record_plan`, `last_plan`): the revision of the postings each plan was made from,
  so that a daemon with an older checkout does not plan over a newer one.
- **Rate-limit turns** (`take_turn`, `hold_turns`): a board's ``rate_limit`` kept across every
  process pushing to it — each request takes the next free moment, on the database's clock.

Times of leases are the database's (PostgreSQL's ``clock_timestamp()``; SQLite's is this
machine's), so that machines whose clocks disagree still agree on who holds what.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from syndicate.pacing import SEND_MARGIN, turn_spacing
from syndicate.state.database import Database
from syndicate.state.schema import daemons_table, leases_table, plans_table, rate_turns_table

PLANNING = "planning"
_Record = TypeVar("_Record", "Lease", "DaemonRecord", "PlanRecord")


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds a named lease, since when, until when."""

    name: str
    holder: str
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class DaemonRecord:
    """A daemon as it last reported itself."""

    id: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    last_sync_at: datetime | None
    last_sync_outcome: str | None
    revision: str | None


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """The revision of the postings a plan was made from (``kind``: git or digest)."""

    id: int
    revision: str
    kind: str
    revision_time: datetime
    daemon: str
    made_at: datetime


def from_row(cls: type[_Record], row: sa.Row[Any]) -> _Record:
    values = row._mapping
    return cls(**{f.name: values[f.name] for f in fields(cls)})


def database_now(conn: Connection) -> datetime:
    """The database's clock (this machine's for SQLite)."""
    if conn.dialect.name == "postgresql":
        found = conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
        return found.astimezone(UTC)
    return datetime.now(UTC)


class CoordinationStore:
    """Leases, daemons, plans' revisions and rate-limit turns (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- leases --------------------------------------------------------------------------------

    def acquire(self, name: str, holder: str, duration: timedelta) -> bool:
        """Take (or keep) lease ``name`` for ``duration`` from now; whether ``holder`` has it."""
        table = leases_table
        with self._db.write() as conn:
            now = database_now(conn)
            row = conn.execute(sa.select(table).where(table.c.name == name)).first()
            if row is None:
                conn.execute(
                    sa.insert(table).values(
                        name=name, holder=holder, acquired_at=now, renewed_at=now,
                        expires_at=now + duration,
                    )
                )  # fmt: skip
                return True
            if row.holder != holder and row.expires_at > now:
                return False
            acquired = row.acquired_at if row.holder == holder else now
            conn.execute(
                sa.update(table)
                .where(table.c.name == name)
                .values(holder=holder, acquired_at=acquired, renewed_at=now,
                        expires_at=now + duration)
            )  # fmt: skip
            return True

    def renew(self, name: str, holder: str, duration: timedelta) -> bool:
        """Extend ``holder``'s unexpired lease ``name``; False when it is no longer its own."""
        table = leases_table
        with self._db.write(concurrent=True) as conn:
            now = database_now(conn)
            renewed = conn.execute(
                sa.update(table)
                .where(table.c.name == name, table.c.holder == holder, table.c.expires_at > now)
                .values(renewed_at=now, expires_at=now + duration)
            )
            return bool(renewed.rowcount)

    def release(self, name: str, holder: str) -> None:
        """Give lease ``name`` up, if ``holder`` has it."""
        table = leases_table
        with self._db.write() as conn:
            conn.execute(sa.delete(table).where(table.c.name == name, table.c.holder == holder))

    def lease(self, name: str) -> Lease | None:
        """Lease ``name`` as recorded, expired or not (None when nobody ever took it)."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(leases_table).where(leases_table.c.name == name)).first()
        return None if row is None else from_row(Lease, row)

    def now(self) -> datetime:
        """The database's clock."""
        with self._db.read() as conn:
            return database_now(conn)

    # -- daemons -------------------------------------------------------------------------------

    def report(
        self,
        daemon_id: str,
        *,
        host: str,
        pid: int,
        started_at: datetime,
        synced: tuple[datetime, str] | None = None,
        revision: str | None = None,
    ) -> None:
        """Record that daemon ``daemon_id`` is alive now (and how its last sync went)."""
        table = daemons_table
        with self._db.write(concurrent=True) as conn:
            now = database_now(conn)
            values: dict[str, object] = {"host": host, "pid": pid, "started_at": started_at,
                                         "seen_at": now}  # fmt: skip
            if synced is not None:
                values["last_sync_at"], values["last_sync_outcome"] = synced
            if revision is not None:
                values["revision"] = revision
            updated = conn.execute(sa.update(table).where(table.c.id == daemon_id).values(values))
            if not updated.rowcount:
                conn.execute(_insert_ignoring_conflict(conn, table).values(id=daemon_id, **values))

    def daemons(self) -> list[DaemonRecord]:
        """Every daemon that ever reported, by id."""
        with self._db.read() as conn:
            rows = conn.execute(sa.select(daemons_table).order_by(daemons_table.c.id))
            return [from_row(DaemonRecord, row) for row in rows]

    # -- plans ---------------------------------------------------------------------------------

    def record_plan(self, revision: str, kind: str, revision_time: datetime, daemon: str) -> None:
        """Record that ``daemon`` planned from ``revision``."""
        with self._db.write() as conn:
            conn.execute(
                sa.insert(plans_table).values(
                    revision=revision, kind=kind, revision_time=revision_time, daemon=daemon,
                    made_at=database_now(conn),
                )
            )  # fmt: skip

    def last_plan(self) -> PlanRecord | None:
        """The latest plan's revision, if any plan recorded one."""
        query = sa.select(plans_table).order_by(plans_table.c.id.desc()).limit(1)
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else from_row(PlanRecord, row)

    # -- rate-limit turns ----------------------------------------------------------------------

    def take_turn(self, target: str, interval: float) -> float:
        """Take ``target``'s next turn, ``interval`` seconds after the previous one; how many
        seconds to wait before sending."""
        table = rate_turns_table
        with self._db.write(concurrent=True) as conn:
            conn.execute(_insert_ignoring_conflict(conn, table).values(target=target, next_at=0.0))
            found = conn.execute(
                sa.select(table.c.next_at).where(table.c.target == target).with_for_update()
            ).scalar_one()
            now = database_now(conn).timestamp()
            start = max(now, float(found))
            conn.execute(
                sa.update(table).where(table.c.target == target).values(next_at=start + interval)
            )
        return max(0.0, start - now)

    def hold_turns(self, target: str, seconds: float) -> None:
        """No request to ``target`` starts for ``seconds`` from now (the board's Retry-After)."""
        table = rate_turns_table
        with self._db.write(concurrent=True) as conn:
            until = database_now(conn).timestamp() + seconds
            conn.execute(_insert_ignoring_conflict(conn, table).values(target=target, next_at=0.0))
            conn.execute(
                sa.update(table)
                .where(table.c.target == target, table.c.next_at < until)
                .values(next_at=until)
            )


def _insert_ignoring_conflict(conn: Connection, table: sa.Table) -> sa.Insert:
    """``INSERT … ON CONFLICT DO NOTHING``: a row another process may be inserting too."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


class SharedRateLimiter:
    """A board's rate limit held across every process sharing the state: the request hook of
    `syndicate.adapters.base.PushTarget.client` (``acquire`` before each request, ``hold``
    after a Retry-After)."""

    def __init__(self, coordination: CoordinationStore, target: str, rate: float) -> None:
        self._coordination = coordination
        self._target = target
        self._interval = turn_spacing(rate)

    def acquire(self) -> None:
        """Wait for this request's turn, as `syndicate.adapters.base.RateLimiter` does, with
        the turns in the state: every process's requests together keep the limit."""
        while True:
            wait = self._coordination.take_turn(self._target, self._interval)
            # Measured from the answer, never from the question: a turn is never taken early
            # (the transaction may have waited on another process's row lock before its clock).
            turn = time.monotonic() + wait
            if wait > 0:
                time.sleep(wait)
            if time.monotonic() - turn <= SEND_MARGIN:
                return

    def hold(self, seconds: float) -> None:
        self._coordination.hold_turns(self._target, seconds)

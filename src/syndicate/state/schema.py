"""The state store's tables, column types and migrations (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syndicate.operations import OperationKind

SCHEMA_VERSION = 4
"""The schema this code writes; older stores are migrated by `MIGRATIONS` when opened."""


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


OPEN = (OperationStatus.PENDING, OperationStatus.QUEUED)


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
    # Of the last operation the target accepted: the posting's content hash, a digest of what
    # the target was sent (`PushTarget.payload_digest`), and when the board's listing lapses.
    sa.Column("posting_hash", sa.String(128)),
    sa.Column("payload_hash", sa.String(128)),
    sa.Column("expires_at", UTCDateTime),
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
    # The earliest the board lets us try again (its Retry-After, a daily quota): our own
    # backoff may be skipped (`publish --retry-now`), this never.
    sa.Column("not_before", UTCDateTime),
    sa.Column("posting_hash", sa.String(128)),  # the posting's content hash it delivers
    sa.Column("payload_hash", sa.String(128)),  # `PushTarget.payload_digest` of its payload
    sa.Column("task_accepted_at", UTCDateTime),  # when the board accepted it as a task
    sa.Column("listing_expires_at", UTCDateTime),  # when the listing lapses once accepted
    # Which daemon (or publish run) is working on it, until when: another takes it over once
    # the lease has expired (version 4).
    sa.Column("lease_holder", sa.String(128)),
    sa.Column("lease_expires_at", UTCDateTime),
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

# What every target lists, as it was last built or planned: per posting and target, the last
# version (content hash) that loaded and passed the target's rules, the file it came from
# (relative to the postings folder), and when its content last changed.  A posting whose file
# later fails to load, or whose edit breaks the target's rules, is kept at this version.
listings_table = sa.Table(
    "listings",
    metadata,
    sa.Column("posting_id", sa.String(200), primary_key=True),
    sa.Column("target", sa.String(64), primary_key=True),
    sa.Column("content_hash", sa.String(128), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("listed_at", UTCDateTime, nullable=False),  # this version, first listed
    sa.Column("changed_at", UTCDateTime, nullable=False),  # the content last changed
    sa.Index("ix_listings_source", "source"),
)

# The target key (`syndicate.cache.target_key`) under which each target's listings were last
# saved whole, None when the saver did not say (`syndicate.state.summary`).  Made when a store is
# opened (no schema version of its own: older code ignores it).
listing_keys_table = sa.Table(
    "listing_keys",
    metadata,
    sa.Column("target", sa.String(64), primary_key=True),
    sa.Column("target_key", sa.String(128)),
)

# The postings those versions are, as their own JSON: the durable copy a kept listing is
# rendered from (the build cache is disposable).
versions_table = sa.Table(
    "versions",
    metadata,
    sa.Column("content_hash", sa.String(128), primary_key=True),
    sa.Column("posting", sa.Text, nullable=False),
)

# The postings held at their last good version now, and why (what the last run found).
holds_table = sa.Table(
    "holds",
    metadata,
    sa.Column("target", sa.String(64), primary_key=True),
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("posting_id", sa.String(200), nullable=False),
    sa.Column("content_hash", sa.String(128), nullable=False),
    sa.Column("listed_at", UTCDateTime, nullable=False),  # of the version kept
    sa.Column("problems", sa.JSON, nullable=False),  # what is wrong with the file now
    sa.Column("since", UTCDateTime, nullable=False),
)

# The reference numbers boards that list a job once per location have been given (Indeed's
# referencenumber, "do not change the number after you set it"): per scheme and posting, every
# place → number ever assigned, and the numbers of the content last built.
references_table = sa.Table(
    "references",
    metadata,
    sa.Column("scheme", sa.String(64), primary_key=True),
    sa.Column("posting_id", sa.String(200), primary_key=True),
    sa.Column("content_hash", sa.String(128), nullable=False),
    sa.Column("assigned", sa.JSON, nullable=False),  # {place key: number}, never forgotten
    sa.Column("numbers", sa.JSON, nullable=False),  # of the content_hash, in place order
)

# Mass closes that a person approved (`publish --allow-mass-close`), by the set they close.
approvals_table = sa.Table(
    "approvals",
    metadata,
    sa.Column("target", sa.String(64), primary_key=True),
    sa.Column("digest", sa.String(64), primary_key=True),  # of the posting ids closed
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("approved_at", UTCDateTime, nullable=False),
)

# Targets whose board refused our credentials (401/403): nothing more is sent to them until a
# probe request succeeds.
target_health_table = sa.Table(
    "target_health",
    metadata,
    sa.Column("target", sa.String(64), primary_key=True),
    sa.Column("auth_failed_at", UTCDateTime, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
)


# Leases that one holder at a time has, renewed while it lives (version 4): ``planning``, held by
# the daemon that plans.
leases_table = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("acquired_at", UTCDateTime, nullable=False),
    sa.Column("renewed_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

# The daemons sharing the state, as each last reported itself (version 4).
daemons_table = sa.Table(
    "daemons",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("host", sa.String(128), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),
    sa.Column("last_sync_at", UTCDateTime),
    sa.Column("last_sync_outcome", sa.String(32)),
    sa.Column("revision", sa.String(128)),  # of its checkout of the postings
)

# The plans made, with the revision of the postings each was made from (version 4).
plans_table = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("revision", sa.String(128), nullable=False),  # git commit, or content digest
    sa.Column("kind", sa.String(16), nullable=False),  # git | digest
    sa.Column("revision_time", UTCDateTime, nullable=False),  # commit time, newest file change
    sa.Column("daemon", sa.String(128), nullable=False),
    sa.Column("made_at", UTCDateTime, nullable=False),
)

# Every target's turn at its rate limit, shared by every process (version 4): the time (seconds
# since the epoch, the database's clock) at which its next request may start.
rate_turns_table = sa.Table(
    "rate_turns",
    metadata,
    sa.Column("target", sa.String(64), primary_key=True),
    sa.Column("next_at", sa.Float, nullable=False),
)


def _add_time_column(conn: Connection, table: str, column: str) -> None:
    """``ALTER TABLE … ADD COLUMN`` of a `UTCDateTime`, unless the column is there already."""
    if column in {c["name"] for c in sa.inspect(conn).get_columns(table)}:
        return
    column_type = UTCDateTime().dialect_impl(conn.dialect).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} {column_type}"))


def _add_text_column(conn: Connection, table: str, column: str) -> None:
    """``ALTER TABLE … ADD COLUMN`` of a short text, unless the column is there already."""
    if column in {c["name"] for c in sa.inspect(conn).get_columns(table)}:
        return
    conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(128)"))


def _add_delivered_at(conn: Connection) -> None:
    """Version 2: deliveries remember when the target last accepted something (for RENEW).

    Stores of version 1 take the last change of a settled delivery as the best known time.
    """
    _add_time_column(conn, "deliveries", "delivered_at")
    conn.execute(
        sa.update(deliveries_table)
        .where(deliveries_table.c.delivered_kind.is_not(None))
        .values(delivered_at=deliveries_table.c.updated_at)
    )


def _add_listings(conn: Connection) -> None:
    """Version 3: last good versions, holds, approvals, target health; what each operation
    delivers (posting and payload digests), the board's own earliest retry and task time; when
    a delivered listing lapses.

    A store of version 2 knows no listing yet: the first build records them.
    """
    for table_name, column in (
        ("operations", "not_before"),
        ("operations", "task_accepted_at"),
        ("operations", "listing_expires_at"),
        ("deliveries", "expires_at"),
    ):
        _add_time_column(conn, table_name, column)
    for table_name, column in (
        ("operations", "posting_hash"),
        ("operations", "payload_hash"),
        ("deliveries", "posting_hash"),
        ("deliveries", "payload_hash"),
    ):
        _add_text_column(conn, table_name, column)
    for table in (
        listings_table,
        versions_table,
        holds_table,
        approvals_table,
        references_table,
    ):
        table.create(conn, checkfirst=True)
    target_health_table.create(conn, checkfirst=True)


def _add_coordination(conn: Connection) -> None:
    """Version 4: several daemons on one state: operation leases, the planning lease, the
    daemons, the plans' revisions, shared rate-limit turns."""
    _add_time_column(conn, "operations", "lease_expires_at")
    _add_text_column(conn, "operations", "lease_holder")
    for table in (leases_table, daemons_table, plans_table, rate_turns_table):
        table.create(conn, checkfirst=True)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _add_delivered_at,
    2: _add_listings,
    3: _add_coordination,
}

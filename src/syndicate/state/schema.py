"""The state store's tables, column types and migrations (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syndicate.operations import OperationKind

SCHEMA_VERSION = 2
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

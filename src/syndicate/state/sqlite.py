"""SQLite specifics: connection pragmas, immediate write transactions, fast whole-table reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syndicate.operations import OperationKind
from syndicate.state.records import Delivery
from syndicate.state.schema import DeliveryState, UTCDateTime, deliveries_table

BUSY_TIMEOUT_MS = 30_000
WRITE = "syndicate_write"  # execution option: this SQLite transaction will write
_Record = TypeVar("_Record")


def sqlite_deliveries(
    conn: Connection, query: sa.Select[Any], names: Sequence[str]
) -> dict[tuple[str, str], Delivery]:
    """Every delivery of ``query``, read through the driver and converted here: a plan reads
    the whole table, and SQLAlchemy's conversions per value cost more than the reading."""
    enums: dict[str, Callable[[Any], Any]] = {
        "state": DeliveryState,
        "delivered_kind": OperationKind,
    }
    return sqlite_records(conn, query, deliveries_table, Delivery, names, enums)


def sqlite_records(
    conn: Connection,
    query: sa.Select[Any],
    table: sa.Table,
    record: Callable[..., _Record],
    names: Sequence[str],
    readers: Mapping[str, Callable[[Any], Any]] | None = None,
) -> dict[tuple[str, str], _Record]:
    """The rows of ``query`` (which selects the columns ``names`` of ``table``, the two of the
    key first) as ``record(*values)``, by key, read through the driver: SQLAlchemy's
    conversions per value cost more than the reading of a whole table.  ``readers`` convert
    the columns whose type this module does not know to read (enums)."""
    convert = [
        (readers or {}).get(name) or _SQLITE_READERS.get(type(table.c[name].type)) for name in names
    ]
    converted = [(index, reader) for index, reader in enumerate(convert) if reader is not None]
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    found: dict[tuple[str, str], _Record] = {}
    for row in conn.exec_driver_sql(str(compiled)):
        values = list(row)
        for index, reader in converted:
            if values[index] is not None:
                values[index] = reader(values[index])
        found[(values[0], values[1])] = record(*values)
    return found


def _utc_text(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


_SQLITE_READERS: dict[type, Callable[[Any], Any]] = {UTCDateTime: _utc_text}


def sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's documented recipe: turn off the driver's own transaction handling and emit
    # BEGIN ourselves (see sqlite_on_begin), so reads and writes in one block are one transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def sqlite_on_begin(conn: Connection) -> None:
    # A writer takes the write lock up front: a deferred transaction that reads first could
    # not upgrade to writing once another writer committed (SQLITE_BUSY without waiting).
    immediate = conn.get_execution_options().get(WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

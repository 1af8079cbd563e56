"""Moving a state store: every table of one store copied into another (SQLite → PostgreSQL).

`copy_state` opens both (migrating the source to this version's schema, creating the target's),
refuses a target that holds anything unless ``replace``, and copies in one transaction of the
target: deliveries, operations and their history, runs, quotas, last good versions, holds,
reference numbers, approvals, target health, leases.  A failure leaves the target as it was.
On PostgreSQL the id sequences continue after the copied ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syndicate.errors import StateError
from syndicate.state.schema import meta_table, metadata
from syndicate.state.store import StateStore

_CHUNK = 1_000


def copy_state(source_url: str, target_url: str, *, replace: bool = False) -> dict[str, int]:
    """Copy the state at ``source_url`` into ``target_url``; rows copied per table."""
    with StateStore(source_url) as source, StateStore(target_url) as target:
        if source.url == target.url:
            raise StateError(f"cannot copy state store {source.url} onto itself")
        tables = [t for t in metadata.sorted_tables if t is not meta_table]
        copied: dict[str, int] = {}
        with source.database.read() as reading, target.database.write() as writing:
            filled = {t.name: n for t in tables if (n := _count(writing, t))}
            if filled and not replace:
                found = ", ".join(f"{name}: {n}" for name, n in filled.items())
                raise StateError(
                    f"state store {target.url} is not empty ({found} rows); "
                    "copy into an empty one, or replace its content with --force"
                )
            for table in reversed(tables):
                writing.execute(sa.delete(table))
            for table in tables:
                copied[table.name] = 0
                for rows in _rows(reading, table):
                    writing.execute(sa.insert(table), rows)
                    copied[table.name] += len(rows)
            if writing.dialect.name == "postgresql":
                _continue_sequences(writing, tables)
            for table in tables:
                if _count(writing, table) != copied[table.name]:
                    raise StateError(f"copy of table {table.name} is incomplete; nothing copied")
        return copied


def _count(conn: Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _rows(conn: Connection, table: sa.Table) -> Iterator[list[dict[str, Any]]]:
    """The table's rows in chunks, in primary-key order."""
    query = sa.select(table).order_by(*table.primary_key.columns)
    result = conn.execution_options(yield_per=_CHUNK).execute(query)
    for partition in result.partitions(_CHUNK):
        yield [dict(row._mapping) for row in partition]


def _continue_sequences(conn: Connection, tables: list[sa.Table]) -> None:
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto"
                and isinstance(column.type, sa.Integer)
                and len(table.primary_key.columns) == 1
            ):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    )
                )

"""The reference numbers boards know each job's places by, durably (`ReferenceStore`)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from syndicate.state.database import Database
from syndicate.state.numbers import References
from syndicate.state.schema import references_table


class ReferenceStore:
    """The reference numbers of a state store (``store.references``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self, scheme: str) -> dict[str, References]:
        """Every posting's numbers under ``scheme``, by posting id."""
        table = references_table
        query = sa.select(
            table.c.posting_id, table.c.content_hash, table.c.assigned, table.c.numbers
        ).where(table.c.scheme == scheme)
        with self._db.read() as conn:
            return {row.posting_id: References(*row) for row in conn.execute(query)}

    def save(self, scheme: str, records: Iterable[References]) -> None:
        """Record these postings' numbers (replacing what was known of them)."""
        rows = [
            {
                "scheme": scheme,
                "posting_id": record.posting_id,
                "content_hash": record.content_hash,
                "assigned": record.assigned,
                "numbers": record.numbers,
            }
            for record in records
        ]
        if not rows:
            return
        table = references_table
        with self._db.write() as conn:
            conn.execute(
                sa.delete(table).where(
                    table.c.scheme == scheme,
                    table.c.posting_id == sa.bindparam("k_posting"),
                ),
                [{"k_posting": row["posting_id"]} for row in rows],
            )
            conn.execute(sa.insert(table), rows)

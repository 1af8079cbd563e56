"""What keeps a run from doing harm, durably: approved mass closes and refused credentials."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from syndicate.state.database import Database
from syndicate.state.records import AuthFailure, error_text, from_row, now_utc
from syndicate.state.schema import approvals_table, target_health_table


class GuardStore:
    """Approvals of mass closes and targets failing authentication (``store.guards``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- approvals of mass closes --------------------------------------------------------------

    def approve(self, target: str, digest: str, count: int, *, now: datetime | None = None) -> None:
        """Record that a person approved closing the set of postings with ``digest``."""
        table = approvals_table
        with self._db.write() as conn:
            conn.execute(sa.delete(table).where(table.c.target == target, table.c.digest == digest))
            conn.execute(
                sa.insert(table).values(
                    target=target, digest=digest, count=count, approved_at=now_utc(now)
                )
            )

    def approved(self, target: str, digest: str) -> bool:
        """Whether closing the set with ``digest`` on ``target`` was approved."""
        table = approvals_table
        query = sa.select(sa.func.count()).where(table.c.target == target, table.c.digest == digest)
        with self._db.read() as conn:
            return bool(conn.execute(query).scalar_one())

    # -- authentication ------------------------------------------------------------------------

    def auth_failed(self, target: str, error: str, *, now: datetime | None = None) -> None:
        """Record that ``target``'s board refused our credentials (kept until `auth_ok`)."""
        table = target_health_table
        with self._db.write() as conn:
            conn.execute(sa.delete(table).where(table.c.target == target))
            conn.execute(
                sa.insert(table).values(
                    target=target, auth_failed_at=now_utc(now), error=error_text(error)
                )
            )

    def auth_ok(self, target: str) -> None:
        """``target``'s board accepted our credentials again."""
        table = target_health_table
        with self._db.write() as conn:
            conn.execute(sa.delete(table).where(table.c.target == target))

    def auth_failures(self) -> dict[str, AuthFailure]:
        """The targets failing authentication now, by name."""
        with self._db.read() as conn:
            return {
                row.target: from_row(AuthFailure, row)
                for row in conn.execute(sa.select(target_health_table))
            }

"""What every target lists, durably: last good versions, the postings they are, and holds.

A *listing* is one posting as one target shows it.  `ListingStore.update` records, after each
build or plan, the version of every posting a target lists (the last one that loaded and
passed the target's rules) with the posting itself (`versions`), so that when the file later
fails to load, or an edit breaks the target's rules, the target keeps showing that version:
`posting_json` gives it back.  The postings held that way now, and why, are the *holds*.

The build cache is disposable; this is the durable copy, shared by every daemon of a state.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syndicate.state.database import Database
from syndicate.state.records import Hold, Listing, chunks, from_row, now_utc
from syndicate.state.schema import (
    holds_table,
    listing_keys_table,
    listings_table,
    versions_table,
)
from syndicate.state.sqlite import sqlite_records

_VERSIONS_AT_ONCE = 200  # postings' JSON inserted in one statement
_FORGET_ONE_BY_ONE = 1000  # replaced versions asked for by hash; more: one pass over all


@dataclass(frozen=True, slots=True)
class Listed:
    """One posting a target lists now, as the run found it; ``posting_json`` gives the
    posting's own JSON when the state does not hold that version yet."""

    posting_id: str
    content_hash: str
    source: str
    posting_json: Callable[[], str]


class ListingStore:
    """The listings, versions and holds of a state store (``store.listings``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def all(
        self, target: str | None = None, *, posting_ids: Collection[str] | None = None
    ) -> dict[tuple[str, str], Listing]:
        """Every listing (of one target, of these postings), keyed by ``(posting_id, target)``."""
        names = [f.name for f in fields(Listing)]  # posting_id and target first
        query = sa.select(*(listings_table.c[name] for name in names))
        if target is not None:
            query = query.where(listings_table.c.target == target)
        if posting_ids is not None:
            query = query.where(listings_table.c.posting_id.in_(sorted(posting_ids)))
        with self._db.read() as conn:
            if conn.dialect.name == "sqlite":
                return sqlite_records(conn, query, listings_table, Listing, names)
            return {
                (row.posting_id, row.target): from_row(Listing, row) for row in conn.execute(query)
            }

    def posting_json(self, content_hash: str) -> str | None:
        """The posting of a version, as its own JSON (None when the state lacks it)."""
        query = sa.select(versions_table.c.posting).where(
            versions_table.c.content_hash == content_hash
        )
        with self._db.read() as conn:
            return conn.execute(query).scalar()

    def update(
        self,
        target: str,
        listed: Sequence[Listed],
        withdrawn: Iterable[str],
        known: Mapping[str, Listing],
        *,
        now: datetime | None = None,
        key: str | None = None,
    ) -> int:
        """Record what ``target`` lists now; how many rows changed.

        ``listed`` are the postings it lists as loaded (kept ones are not: their listing stays
        as it is); ``withdrawn`` the posting ids it no longer lists; ``known`` the target's
        listings as read before the run (only what differs is written); ``key`` the target key
        its postings were checked under (`listing_keys_table`; None: not said).
        """
        moment = now_utc(now)
        inserts: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        moves: list[dict[str, Any]] = []
        versions: dict[str, Callable[[], str]] = {}
        for item in listed:
            before = known.get(item.posting_id)
            if before is None:
                inserts.append(_row(target, item, moment, moment))
                versions[item.content_hash] = item.posting_json
            elif before.content_hash != item.content_hash:
                changes.append(
                    _keyed(target, item) | {"v_hash": item.content_hash, "v_now": moment}
                )
                versions[item.content_hash] = item.posting_json
            elif before.source != item.source:
                moves.append(_keyed(target, item))
        gone = [{"k_posting": posting_id, "k_target": target} for posting_id in withdrawn]
        table = listings_table
        where = (
            table.c.posting_id == sa.bindparam("k_posting"),
            table.c.target == sa.bindparam("k_target"),
        )
        with self._db.write() as conn:
            # A few hundred rows at a time: the postings' JSON of a first publish is some 7 KB
            # each, 700 MB at 100,000 postings if made all at once.
            for chunk in chunks(_missing_versions(conn, list(versions)), _VERSIONS_AT_ONCE):
                conn.execute(
                    sa.insert(versions_table),
                    [{"content_hash": h, "posting": versions[h]()} for h in chunk],
                )
            for chunk in chunks(inserts):
                conn.execute(sa.insert(table), chunk)
            if changes:
                conn.execute(
                    sa.update(table)
                    .where(*where)
                    .values(
                        content_hash=sa.bindparam("v_hash"),
                        source=sa.bindparam("v_source"),
                        listed_at=sa.bindparam("v_now"),
                        changed_at=sa.bindparam("v_now"),
                    ),
                    changes,
                )
            if moves:
                conn.execute(
                    sa.update(table).where(*where).values(source=sa.bindparam("v_source")), moves
                )
            if gone:
                conn.execute(sa.delete(table).where(*where), gone)
            if changes or gone:
                replaced = [known.get(row["k_posting"]) for row in [*changes, *gone]]
                _forget_unused_versions(
                    conn, None if None in replaced else [r.content_hash for r in replaced if r]
                )
            keys = listing_keys_table
            conn.execute(sa.delete(keys).where(keys.c.target == target))
            conn.execute(sa.insert(keys).values(target=target, target_key=key))
        return len(inserts) + len(changes) + len(moves) + len(gone)

    # -- holds ---------------------------------------------------------------------------------

    def holds(self, target: str | None = None) -> list[Hold]:
        """The postings held at their last good version now (on one target), by file."""
        query = sa.select(holds_table).order_by(holds_table.c.source, holds_table.c.target)
        if target is not None:
            query = query.where(holds_table.c.target == target)
        with self._db.read() as conn:
            return [from_row(Hold, row) for row in conn.execute(query)]

    def set_holds(self, target: str, holds: Sequence[Hold], *, now: datetime | None = None) -> None:
        """Replace the holds of ``target`` by ``holds`` (each keeps the ``since`` of a hold of
        the same file found before)."""
        moment = now_utc(now)
        table = holds_table
        with self._db.write() as conn:
            before = conn.execute(
                sa.select(table.c.source, table.c.since, table.c.content_hash).where(
                    table.c.target == target
                )
            ).all()
            since = {row.source: row.since for row in before}
            conn.execute(sa.delete(table).where(table.c.target == target))
            if holds:
                conn.execute(
                    sa.insert(table),
                    [
                        {
                            "target": target,
                            "source": hold.source,
                            "posting_id": hold.posting_id,
                            "content_hash": hold.content_hash,
                            "listed_at": hold.listed_at,
                            "problems": hold.problems,
                            "since": since.get(hold.source, moment),
                        }
                        for hold in holds
                    ],
                )
            kept = {hold.content_hash for hold in holds}
            dropped = {row.content_hash for row in before} - kept
            if dropped:
                _forget_unused_versions(conn, dropped)


def _row(target: str, item: Listed, listed_at: datetime, changed_at: datetime) -> dict[str, Any]:
    return {
        "posting_id": item.posting_id,
        "target": target,
        "content_hash": item.content_hash,
        "source": item.source,
        "listed_at": listed_at,
        "changed_at": changed_at,
    }


def _keyed(target: str, item: Listed) -> dict[str, Any]:
    return {"k_posting": item.posting_id, "k_target": target, "v_source": item.source}


def _missing_versions(conn: Connection, hashes: Sequence[str]) -> list[str]:
    present: set[str] = set()
    for chunk in chunks(hashes):
        query = sa.select(versions_table.c.content_hash).where(
            versions_table.c.content_hash.in_(chunk)
        )
        present.update(conn.execute(query).scalars())
    return [h for h in hashes if h not in present]


def _forget_unused_versions(conn: Connection, candidates: Collection[str] | None) -> None:
    """Forget the versions no listing or hold names any more.

    ``candidates`` are the hashes that rows just stopped naming (None: not known): only those
    can have become unused, and asking for them alone reads each table once rather than
    gathering every hash they hold (a second of a one-edit publish at 100,000 postings, per
    target).  Many candidates, or unknown ones, take the whole pass."""
    versions = versions_table.c.content_hash
    if candidates is None or len(candidates) > _FORGET_ONE_BY_ONE:
        used = sa.union(
            sa.select(listings_table.c.content_hash), sa.select(holds_table.c.content_hash)
        )
        conn.execute(sa.delete(versions_table).where(versions.not_in(used)))
        return
    if not candidates:
        return
    wanted = sorted(set(candidates))
    named = sa.union(
        sa.select(listings_table.c.content_hash).where(listings_table.c.content_hash.in_(wanted)),
        sa.select(holds_table.c.content_hash).where(holds_table.c.content_hash.in_(wanted)),
    )
    conn.execute(sa.delete(versions_table).where(versions.in_(wanted), versions.not_in(named)))

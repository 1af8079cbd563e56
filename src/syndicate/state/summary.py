"""A summary of each target's listings and deliveries, kept by the SQLite state itself.

``publish --plan`` with nothing changed compares what the postings say each target should show
with what the state says it shows.  Row by row that grows with the postings (about 30 µs a
posting for the set queries of `syndicate.unchanged`); this module keeps, per target, one row
of counts and digests that answers the same question in one read:

- ``listings``, ``listed1``, ``listed2``: how many postings the target lists, and two 52-bit
  lanes of an order-free digest of their content hashes (the sum, modulo `MODULUS`, of each
  hash's `lanes`; the content hash covers the file, the id included);
- ``live``, ``live1``, ``live2``: the deliveries a board shows (delivered, not closed), and the
  same digest of the versions they show (`syndicate.cache.keys.version_of`);
- ``failed``: deliveries failed for good; ``open``: operations pending or queued.

The row is kept by triggers on ``listings``, ``deliveries`` and ``operations``, so every write
of any version of syndicate (or `syndicate.state.copy`) changes it in the same transaction as
the rows it sums: it cannot drift from them.  The digest is computed in SQL from the hex text
of each hash (``instr`` and ``substr``: SQLite has no hash function); `lanes` is the same
function in Python.  A state made before this module gets the table, the triggers and the sums
of its rows when it is next opened for writing (`ensure`).  PostgreSQL states keep no summary
(``publish --plan`` plans them posting by posting, as before).

``listing_keys`` (both stores) records, per target, the target key (`syndicate.cache.target_key`:
its type, options, templates and syndicate's code) under which its listings were last saved
whole: a pull target whose options changed since must be checked again, even when the postings
it lists did not change.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TABLE = "plan_summary"
KEYS_TABLE = "listing_keys"
MODULUS = (1 << 61) - 1  # a prime; each lane is below 2**52, so a sum never overflows SQLite
_DIGITS = "0123456789abcdef"
_WIDTH = 13  # hex digits per lane (52 bits)
_HEX = re.compile(r"[0-9a-f]{26}")
_BITS = 4 * _WIDTH
_MASK = (1 << _BITS) - 1
_LIVE = "({row}.delivered_kind IS NOT NULL AND {row}.delivered_kind != 'CLOSE')"
_OPEN = "({row}.status IN ('pending', 'queued'))"
_FAILED = "({row}.state = 'failed')"


@dataclass(frozen=True, slots=True)
class Summary:
    """One target's row (zeros for a target the state knows nothing of)."""

    listings: int = 0
    listed: tuple[int, int] = (0, 0)
    live: int = 0
    shown: tuple[int, int] = (0, 0)
    failed: int = 0
    open: int = 0


def lanes(text: str | None) -> tuple[int, int]:
    """The two digest lanes of a hash's hex text, as the triggers compute them: each of the
    first 26 characters its hex value (-1 when it is none, 0 past the end), 13 to a lane."""
    head = (text or "")[: 2 * _WIDTH]
    if _HEX.fullmatch(head):
        value = int(head, 16)
        return value >> _BITS, value & _MASK
    return _slow_lanes(head)


def _slow_lanes(head: str) -> tuple[int, int]:
    found = [_DIGITS.find(c) for c in head]
    return tuple(  # type: ignore[return-value]
        sum(d << (4 * (_WIDTH - 1 - i)) for i, d in enumerate(found[start : start + _WIDTH]))
        % MODULUS
        for start in (0, _WIDTH)
    )


def add(total: tuple[int, int], part: tuple[int, int], sign: int = 1) -> tuple[int, int]:
    """``total`` with ``part`` added (or taken away, ``sign`` -1), modulo `MODULUS`."""
    return (total[0] + sign * part[0]) % MODULUS, (total[1] + sign * part[1]) % MODULUS


def digest(hashes: Iterable[str | None]) -> tuple[int, int]:
    """The digest of a set of hashes: the sum of their `lanes`."""
    first = second = 0
    match = _HEX.match
    for text in hashes:
        # A sha256 hex digest, the only kind syndicate writes, costs one int(); anything else
        # is read digit by digit as the triggers read it.
        if text and match(text):
            value = int(text[: 2 * _WIDTH], 16)
            first += value >> _BITS
            second += value & _MASK
        else:
            one, two = lanes(text)
            first += one
            second += two
    return first % MODULUS, second % MODULUS


def read(db: sqlite3.Connection, schema: str = "main") -> dict[str, Summary] | None:
    """Every target's summary in a SQLite state (attached as ``schema``); None when the state
    keeps none (made before this module and not opened for writing since)."""
    try:
        rows = db.execute(
            f"SELECT target, listings, listed1, listed2, live, live1, live2, failed, open"
            f" FROM {schema}.{TABLE}"
        ).fetchall()
    except sqlite3.OperationalError:
        return None
    return {
        target: Summary(listings, (l1, l2), live, (d1, d2), failed, open_)
        for target, listings, l1, l2, live, d1, d2, failed, open_ in rows
    }


def listing_keys(db: sqlite3.Connection, schema: str = "main") -> dict[str, str | None]:
    """The target key each target's listings were last saved under (`KEYS_TABLE`)."""
    try:
        rows = db.execute(f"SELECT target, target_key FROM {schema}.{KEYS_TABLE}").fetchall()
    except sqlite3.OperationalError:
        return {}
    return dict(rows)


# -- keeping it ------------------------------------------------------------------------------


def _lane_sql(column: str, start: int) -> str:
    terms = [
        f"((instr('{_DIGITS}', substr(coalesce({column}, ''), {start + i + 1}, 1)) - 1)"
        f" * {16 ** (_WIDTH - 1 - i)})"
        for i in range(_WIDTH)
    ]
    return "(" + " + ".join(terms) + ")"


def _shift(column: str, value: str, sign: str) -> str:
    # ((x % M) + M) % M: SQLite's % keeps the sign of a negative sum.
    return f"{column} = ((({column} {sign} {value}) % {MODULUS}) + {MODULUS}) % {MODULUS}"


def _changes(row: str, sign: str, table: str) -> str:
    """The UPDATE of the summary for one row of ``table`` (``new`` or ``old``), added (+) or
    taken away (-)."""
    if table == "listings":
        sets = [
            f"listings = listings {sign} 1",
            _shift("listed1", _lane_sql(f"{row}.content_hash", 0), sign),
            _shift("listed2", _lane_sql(f"{row}.content_hash", _WIDTH), sign),
        ]
    elif table == "deliveries":
        live = _LIVE.format(row=row)
        sets = [
            f"live = live {sign} {live}",
            _shift("live1", f"{live} * {_lane_sql(f'{row}.content_hash', 0)}", sign),
            _shift("live2", f"{live} * {_lane_sql(f'{row}.content_hash', _WIDTH)}", sign),
            f"failed = failed {sign} {_FAILED.format(row=row)}",
        ]
    else:
        sets = [f"open = open {sign} {_OPEN.format(row=row)}"]
    return f"UPDATE {TABLE} SET {', '.join(sets)} WHERE target = {row}.target;"


_WATCHED = {  # the columns whose change moves a summary
    "listings": "content_hash, target",
    "deliveries": "state, delivered_kind, content_hash, target",
    "operations": "status, target",
}


def _triggers() -> dict[str, str]:
    """Each trigger's name and its statement."""
    made: dict[str, str] = {}
    for table, columns in _WATCHED.items():
        ensure_new = f"INSERT OR IGNORE INTO {TABLE} (target) VALUES (new.target);"
        events = {
            "insert": ("INSERT", ensure_new + _changes("new", "+", table)),
            "delete": ("DELETE", _changes("old", "-", table)),
            "update": (
                f"UPDATE OF {columns}",
                _changes("old", "-", table) + ensure_new + _changes("new", "+", table),
            ),
        }
        for suffix, (event, body) in events.items():
            name = f"{TABLE}_{table}_{suffix}"
            made[name] = f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body} END"
    return made


def ensure(conn: Connection) -> None:
    """Give a SQLite state its summary (table, triggers, the sums of the rows it has), unless
    it has it already; in the caller's write transaction.  Other stores: nothing."""
    if conn.dialect.name != "sqlite":
        return
    triggers = _triggers()
    have = {
        name
        for (name,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?", (f"{TABLE}_%",)
        )
    }
    exists = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
    ).first()
    if exists and have == set(triggers):
        return
    for name in have:
        conn.exec_driver_sql(f"DROP TRIGGER {name}")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
    conn.exec_driver_sql(
        f"CREATE TABLE {TABLE} (target TEXT PRIMARY KEY,"
        " listings INTEGER NOT NULL DEFAULT 0, listed1 INTEGER NOT NULL DEFAULT 0,"
        " listed2 INTEGER NOT NULL DEFAULT 0, live INTEGER NOT NULL DEFAULT 0,"
        " live1 INTEGER NOT NULL DEFAULT 0, live2 INTEGER NOT NULL DEFAULT 0,"
        " failed INTEGER NOT NULL DEFAULT 0, open INTEGER NOT NULL DEFAULT 0)"
    )
    for statement in triggers.values():
        conn.exec_driver_sql(statement)
    _fill(conn)


def _fill(conn: Connection) -> None:
    """The sums of the rows a state has (once, when the summary is made)."""
    rows: dict[str, list[int]] = {}

    def row(target: str) -> list[int]:
        return rows.setdefault(target, [0] * 8)

    for target, content_hash in conn.exec_driver_sql("SELECT target, content_hash FROM listings"):
        found = row(target)
        one, two = lanes(content_hash)
        found[0] += 1
        found[1] = (found[1] + one) % MODULUS
        found[2] = (found[2] + two) % MODULUS
    live = _LIVE.format(row="d")
    query = f"SELECT target, content_hash, {live}, state = 'failed' FROM deliveries d"
    for target, content_hash, shown, failed in conn.exec_driver_sql(query):
        found = row(target)
        if shown:
            one, two = lanes(content_hash)
            found[3] += 1
            found[4] = (found[4] + one) % MODULUS
            found[5] = (found[5] + two) % MODULUS
        found[6] += int(bool(failed))
    query = f"SELECT target, count(*) FROM operations o WHERE {_OPEN.format(row='o')} GROUP BY 1"
    for target, count in conn.exec_driver_sql(query):
        row(target)[7] += count
    if not rows:
        return
    conn.exec_driver_sql(
        f"INSERT INTO {TABLE} (target, listings, listed1, listed2, live, live1, live2, failed,"
        " open) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(target, *values) for target, values in rows.items()],
    )

"""Whether the publish state has nothing to add to what `syndicate validate` reports, told by a
few set queries over the state's SQLite file rather than posting by posting.

`validate` reports three things from the state (`syndicate.listing.Lister`, the full path):
files kept at their last good version, the guard's refusals to withdraw vanished postings, and
ids that changed since publishing; and, for a target that lists a job once per place, reference
numbers two places would share (`syndicate.references.ReferenceBook`).  Reading every listing,
delivery and number into Python for that cost about 0.2 ms of CPU a posting; when the answer is
"nothing", these queries give it in a few milliseconds per ten thousand postings:

- `state_silent`: every listing in the state (of any target) is of a posting loaded now, none of
  them of a posting its target rejects now, no file failed to load, and no board shows a posting
  that is not loaded.  Then the full path keeps nothing (a hold needs a rejected posting with a
  listing, or a file that fails to load), withdraws nothing unasked (a vanished posting is a
  listing whose id is not loaded; the guard only weighs those) and finds no renamed id (one
  needs a listing or live delivery whose id is not loaded).
- `numbers_unshared`: every posting a target lists now has its numbers in the state at its
  content now (so the book takes them as they are), and no number is among them twice.

Anything else, a state that is not a SQLite file (PostgreSQL), or a database error: False, and
the caller takes the full path, which is always correct (``tests/test_validate_fast.py``
compares the two).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from syndicate.config import Settings

# A delivery the board shows: something other than a CLOSE was accepted (`Delivery.live`).
_LIVE = "d.delivered_kind IS NOT NULL AND d.delivered_kind != 'CLOSE'"


def state_silent(
    settings: Settings,
    loaded_ids: Sequence[str],
    rejected: Mapping[str, Iterable[str]],
    *,
    failed: bool,
) -> bool:
    """Whether the state has nothing to say of the loaded postings (see the module docstring):
    ``loaded_ids`` every loaded posting's id, ``rejected`` by target the postings listed now
    that break its rules, ``failed`` whether a file failed to load."""
    if failed:
        return False
    with _state(settings) as db:
        if db is None:
            return False
        db.execute("CREATE TEMP TABLE loaded (posting_id TEXT PRIMARY KEY) WITHOUT ROWID")
        db.executemany("INSERT INTO loaded VALUES (?)", [(pid,) for pid in loaded_ids])
        db.execute("CREATE TEMP TABLE rejected (target TEXT, posting_id TEXT)")
        db.executemany(
            "INSERT INTO rejected VALUES (?, ?)",
            [(target, pid) for target, ids in rejected.items() for pid in ids],
        )
        for query in (
            "SELECT 1 FROM state.listings l WHERE NOT EXISTS"
            " (SELECT 1 FROM loaded n WHERE n.posting_id = l.posting_id) LIMIT 1",
            "SELECT 1 FROM rejected r JOIN state.listings l"
            " ON l.posting_id = r.posting_id AND l.target = r.target LIMIT 1",
            f"SELECT 1 FROM state.deliveries d WHERE {_LIVE} AND NOT EXISTS"
            " (SELECT 1 FROM loaded n WHERE n.posting_id = d.posting_id) LIMIT 1",
        ):
            if db.execute(query).fetchone() is not None:
                return False
        return True
    return False  # a database error on the way


def numbers_unshared(settings: Settings, scheme: str, listed: Sequence[tuple[str, str]]) -> bool:
    """Whether every posting of ``listed`` (id, content hash) has its reference numbers of
    ``scheme`` in the state at that content, and no two of those numbers are the same."""
    with _state(settings) as db:
        if db is None:
            return False
        db.execute(
            "CREATE TEMP TABLE listed (posting_id TEXT PRIMARY KEY, content_hash TEXT)"
            " WITHOUT ROWID"
        )
        db.executemany("INSERT INTO listed VALUES (?, ?)", listed)
        (missing,) = db.execute(
            'SELECT count(*) FROM listed n LEFT JOIN state."references" r ON r.scheme = ?'
            " AND r.posting_id = n.posting_id AND r.content_hash = n.content_hash"
            " WHERE r.posting_id IS NULL",
            (scheme,),
        ).fetchone()
        if missing:
            return False
        shared = db.execute(
            'SELECT 1 FROM listed n JOIN state."references" r ON r.scheme = ?'
            " AND r.posting_id = n.posting_id AND r.content_hash = n.content_hash,"
            " json_each(r.numbers) j GROUP BY j.value HAVING count(*) > 1 LIMIT 1",
            (scheme,),
        ).fetchone()
        return shared is None
    return False  # a database error on the way


@contextlib.contextmanager
def _state(settings: Settings) -> Iterator[sqlite3.Connection | None]:
    """A connection with the state's SQLite file attached read-only as ``state``, in one read
    transaction; None when the state is not a SQLite file that is there.  A database error in
    the body ends it (the caller's answer is then its default)."""
    state_file = settings.state_file()
    if state_file is None or not state_file.is_file():
        yield None
        return
    db = sqlite3.connect(":memory:", uri=True, isolation_level=None)
    ready = False
    try:
        db.execute("PRAGMA temp_store = MEMORY")
        uri = Path(state_file).resolve().as_uri() + "?mode=ro"
        db.execute("ATTACH DATABASE ? AS state", (uri,))
        db.execute("BEGIN")
        ready = True
        yield db
    except sqlite3.Error:  # a file of another shape, locked, damaged: ask in full
        if not ready:
            yield None
    finally:
        db.close()

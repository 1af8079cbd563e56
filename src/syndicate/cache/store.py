"""The cache database: a SQLite file holding, per posting file, its stat and digest with the
posting it parsed into, and per target key, the checks and rendered fragments of each posting.

Every read that fails is a miss and every write that fails a no-op, both logged; a database of
another format, or not a database, is set aside and started afresh.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("syndicate.cache")

FORMAT = 4  # of the tables below; a database of another format is started afresh
CACHE_DIR = "cache"
DATABASE = "cache.db"
_BUSY_TIMEOUT_S = 30.0
BATCH = 500  # rows per statement batch
# A file changed within this long before its stat was recorded may change again without its
# size or mtime moving (the clock's granularity): its bytes are compared, as git does.
RACY_NS = 2_000_000_000
# `BuildCache.prune` forgets the content no file has any more once this many file entries (or
# a hundredth of them, whichever is more) were written or dropped since it last did: each can
# leave at most one posting's checks and fragments behind, and the statement reads every
# fragment (gigabytes at 100,000 postings), so it runs about once per that many edits.
PRUNE_CHURN = 1_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    checked_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    timezone TEXT NOT NULL,
    posting_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    date_posted TEXT NOT NULL,
    valid_through TEXT,
    lines TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS postings (
    content_hash TEXT PRIMARY KEY,
    posting TEXT NOT NULL,
    description_html TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checks (
    target_key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    problems TEXT NOT NULL,
    PRIMARY KEY (target_key, content_hash)
) WITHOUT ROWID;
-- The checks that say something (a warning, an error, an opt-out), found without a scan of
-- every posting's (`syndicate.quickplan`).
CREATE INDEX IF NOT EXISTS checks_flagged ON checks (target_key) WHERE problems != '[]';
CREATE TABLE IF NOT EXISTS fragments (
    target_key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    part TEXT NOT NULL,
    data BLOB NOT NULL,
    made_ns INTEGER NOT NULL,
    PRIMARY KEY (target_key, part, content_hash)
);
"""


@dataclass(frozen=True, slots=True)
class FileEntry:
    """What the cache knows of one posting file: its stat and digest, and what it parsed into
    (its id and content hash, and when it is listed: status, date_posted, valid_through)."""

    path: str
    size: int
    mtime_ns: int
    checked_ns: int
    sha256: str
    timezone: str
    posting_id: str
    content_hash: str
    status: str | None
    date_posted: str
    valid_through: str | None

    def fresh(self, stat: os.stat_result, timezone: str) -> bool:
        """True when ``stat`` says the file is as it was, without reading it."""
        return stat_fresh(
            stat, self.size, self.mtime_ns, self.checked_ns, self.timezone, self.status, timezone
        )


def stat_fresh(
    stat: os.stat_result,
    size: int,
    mtime_ns: int,
    checked_ns: int,
    zone: str,
    status: str | None,
    timezone: str,
) -> bool:
    """Whether a file of this ``stat`` is as its entry (``size`` … ``status``) knows it, in
    the ``timezone`` loading uses: same size and mtime, and modified well before it was last
    checked (a write in the same tick as the check could hide behind an equal mtime)."""
    return (
        status is not None
        and size == stat.st_size
        and mtime_ns == stat.st_mtime_ns
        and zone == timezone
        and stat.st_mtime_ns < checked_ns - RACY_NS
    )


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """One posting file as loading found it, to be remembered."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    timezone: str
    posting_id: str
    content_hash: str
    status: str
    date_posted: str
    valid_through: str | None
    posting_json: str
    description_html: str
    lines: str  # JSON: the line of each top-level key, the front matter's and the body's


class BuildCache:
    """The cache database of one project; thread-safe, and shared by processes through SQLite.

    Open it with `open` (None when it cannot be used at all); every method turns a database
    error into a miss (reads) or a no-op (writes), logged.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._connection = connection
        self._lock = threading.RLock()

    @classmethod
    def open(cls, folder: Path) -> BuildCache | None:
        """The cache in ``folder`` (created if needed); None when it cannot be opened."""
        path = folder / DATABASE
        for attempt in range(2):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                connection = _connect(path)
                return cls(path, connection)
            except (sqlite3.Error, OSError) as error:
                if attempt or not path.exists() or isinstance(error, OSError):
                    log.warning("build cache %s cannot be used: %s", path, error)
                    return None
                log.warning("build cache %s is unreadable (%s); starting afresh", path, error)
                _set_aside(path)
        return None

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    # -- files -------------------------------------------------------------------------------

    def file_entries(self, paths: Sequence[str] | None = None) -> dict[str, FileEntry]:
        """Every posting file the cache knows (or those of ``paths``), by path."""
        query = (
            "SELECT path, size, mtime_ns, checked_ns, sha256, timezone, posting_id, content_hash,"
            " status, date_posted, valid_through FROM files"
        )
        found: dict[str, FileEntry] = {}
        with self._reading() as connection:
            if connection is None:
                return {}
            if paths is None:
                return {row[0]: FileEntry(*row) for row in connection.execute(query)}
            for start in range(0, len(paths), BATCH):
                batch = paths[start : start + BATCH]
                marks = ",".join("?" * len(batch))
                rows = connection.execute(f"{query} WHERE path IN ({marks})", batch)
                found.update((row[0], FileEntry(*row)) for row in rows)
        return found

    def store_files(self, parsed: Sequence[ParsedFile], *, forget: Iterable[str] = ()) -> None:
        """Remember these files (replacing what was known of them) and forget others."""
        now = time.time_ns()
        files = [
            (p.path, p.size, p.mtime_ns, now, p.sha256, p.timezone, p.posting_id, p.content_hash,
             p.status, p.date_posted, p.valid_through, p.lines)
            for p in parsed
        ]  # fmt: skip
        postings = [(p.content_hash, p.posting_json, p.description_html) for p in parsed]
        gone = [(path,) for path in forget]
        with self._writing() as connection:
            if connection is None:
                return
            _add_churn(connection, len(files) + len(gone))
            for start in range(0, len(files), BATCH):
                connection.executemany(
                    "INSERT OR REPLACE INTO postings VALUES (?,?,?)",
                    postings[start : start + BATCH],
                )
                connection.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    files[start : start + BATCH],
                )
            connection.executemany("DELETE FROM files WHERE path = ?", gone)
            if gone:
                connection.execute(
                    "DELETE FROM postings WHERE content_hash NOT IN "
                    "(SELECT content_hash FROM files)"
                )

    def touch_files(self, entries: Iterable[tuple[str, int, int]]) -> None:
        """Record a new stat ``(path, size, mtime_ns)`` for files whose bytes were unchanged."""
        now = time.time_ns()
        rows = [(size, mtime, now, path) for path, size, mtime in entries]
        if not rows:
            return
        with self._writing() as connection:
            if connection is not None:
                connection.executemany(
                    "UPDATE files SET size = ?, mtime_ns = ?, checked_ns = ? WHERE path = ?", rows
                )

    def posting_source(self, content_hash: str) -> tuple[str, str] | None:
        """``(posting JSON, description HTML)`` of a content hash, if known."""
        query = "SELECT posting, description_html FROM postings WHERE content_hash = ?"
        with self._reading() as connection:
            if connection is None:
                return None
            return connection.execute(query, (content_hash,)).fetchone()

    def lines(self, path: str) -> str | None:
        """The lines JSON of a file, if known."""
        with self._reading() as connection:
            if connection is None:
                return None
            row = connection.execute("SELECT lines FROM files WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def file_lines(self) -> dict[str, tuple[str, str]]:
        """``(content hash, lines JSON)`` of every posting file the cache knows, by path: what
        `syndicate validate` places problems with, one query rather than one per file."""
        query = "SELECT path, content_hash, lines FROM files"
        with self._reading() as connection:
            if connection is None:
                return {}
            return {
                path: (content_hash, lines)
                for path, content_hash, lines in connection.execute(query)
            }
        return {}

    # -- checks ------------------------------------------------------------------------------

    def checks(self, key: str, content_hashes: Sequence[str] | None = None) -> dict[str, str]:
        """The cached check results of a target key (of these content hashes, or all):
        problems JSON by content hash."""
        query = "SELECT content_hash, problems FROM checks WHERE target_key = ?"
        if content_hashes is not None:
            marks = ",".join("?" * len(content_hashes))
            query += f" AND content_hash IN ({marks})"
        with self._reading() as connection:
            if connection is None:
                return {}
            return dict(connection.execute(query, (key, *(content_hashes or ()))))

    def store_checks(self, key: str, results: Iterable[tuple[str, str]]) -> None:
        """Remember check results ``(content hash, problems JSON)`` of a target key."""
        rows = [(key, content_hash, problems) for content_hash, problems in results]
        if not rows:
            return
        with self._writing() as connection:
            if connection is not None:
                connection.executemany("INSERT OR REPLACE INTO checks VALUES (?,?,?)", rows)

    # -- fragments ---------------------------------------------------------------------------

    def fragments(
        self, key: str, content_hashes: Sequence[str], part: str, *, data: bool = True
    ) -> list[tuple[str, bytes]]:
        """The cached fragments ``part`` of these content hashes, as (hash, bytes) pairs (the
        bytes empty when ``data`` is false: only which are cached)."""
        marks = ",".join("?" * len(content_hashes))
        column = "data" if data else "x''"
        query = (
            f"SELECT content_hash, {column} FROM fragments"
            f" WHERE target_key = ? AND part = ? AND content_hash IN ({marks})"
        )
        with self._reading() as connection:
            if connection is None:
                return []
            return list(connection.execute(query, (key, part, *content_hashes)))

    def store_fragments(self, key: str, part: str, items: Iterable[tuple[str, bytes]]) -> None:
        """Remember fragments ``(content hash, bytes)`` of ``part`` for a target key."""
        now = time.time_ns()
        rows = [(key, content_hash, part, data, now) for content_hash, data in items]
        if not rows:
            return
        with self._writing() as connection:
            if connection is not None:
                connection.executemany("INSERT OR REPLACE INTO fragments VALUES (?,?,?,?,?)", rows)

    def prune(self, keep_keys: Iterable[str]) -> None:
        """Forget checks and fragments of target keys other than ``keep_keys`` (a template or
        an option changed since), when those changed since the last prune, and of content no
        posting file has any more, once enough files changed (`PRUNE_CHURN`): both statements
        read every row, which an edit of one posting should not pay for."""
        keys = sorted(set(keep_keys))
        marks = ",".join("?" * len(keys))
        with self._writing() as connection:
            if connection is None:
                return
            kept_before = _meta(connection, "pruned_keys")
            churn = _meta(connection, "churn")
            enough = max(PRUNE_CHURN, _count(connection, "files") // 100)
            stale_content = churn is None or int(churn) >= enough
            # Only "?" placeholders are formatted into the statements.
            for table in ("fragments", "checks"):
                if kept_before != json.dumps(keys):
                    connection.execute(
                        f"DELETE FROM {table} WHERE target_key NOT IN ({marks})", keys
                    )
                if stale_content:  # a fragment's key may be "<hash>|<variant>" (`key_of`)
                    connection.execute(
                        f"DELETE FROM {table} WHERE substr(content_hash, 1, instr(content_hash"
                        " || '|', '|') - 1) NOT IN (SELECT content_hash FROM files)"
                    )
            connection.execute(
                "INSERT OR REPLACE INTO meta VALUES ('pruned_keys', ?)", (json.dumps(keys),)
            )
            if stale_content:
                connection.execute("INSERT OR REPLACE INTO meta VALUES ('churn', '0')")

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction around what is read inside: with WAL, every read sees the
        database as the first one did, whatever is written meanwhile (a feed assembled from
        fragments is one version of it).  For a connection used by one reader at a time: the
        lock is not held across, as a streamed response may read from several threads."""
        try:
            with self._lock:
                self._connection.execute("BEGIN")
        except sqlite3.Error as error:
            log.warning("build cache %s: no snapshot (%s)", self.path, error)
            yield
            return
        try:
            yield
        finally:
            with self._lock:
                _rollback(self._connection)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        with self._lock:
            try:
                yield self._connection
            except sqlite3.Error as error:
                log.warning("build cache %s: read failed (%s); treated as a miss", self.path, error)

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection | None]:
        with self._lock:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                log.warning("build cache %s: not written (%s)", self.path, error)
                yield None
                return
            try:
                yield self._connection
                self._connection.execute("COMMIT")
            except sqlite3.Error as error:
                log.warning("build cache %s: not written (%s)", self.path, error)
                _rollback(self._connection)
            except BaseException:
                _rollback(self._connection)
                raise


def lines_json(lines: dict[str, int], first_line: int, body_line: int) -> str:
    """The lines a posting file's problems are located at, as stored."""
    return json.dumps({"keys": lines, "first": first_line, "body": body_line})


def read_lines(text: str) -> tuple[dict[str, int], int, int]:
    """``(line of each top-level key, first line, body line)`` from `lines_json`."""
    data: dict[str, Any] = json.loads(text)
    return data["keys"], data["first"], data["body"]


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        # A killed process loses nothing committed; only a power cut could damage the file, and
        # the cache is rebuilt from the postings.  Syncing every checkpoint of a cold build of
        # many postings cost seconds.
        connection.execute("PRAGMA synchronous = OFF")
        connection.executescript(_SCHEMA)
        fingerprint = f"{FORMAT}"
        found = connection.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if found is None:
            connection.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (fingerprint,))
        elif found[0] != fingerprint:
            raise sqlite3.DatabaseError(f"cache format {found[0]}, not {fingerprint}")
    except BaseException:
        connection.close()
        raise
    return connection


def _set_aside(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _rollback(connection: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        connection.execute("ROLLBACK")


def _meta(connection: sqlite3.Connection, key: str) -> str | None:
    found = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if found is None else str(found[0])


def _add_churn(connection: sqlite3.Connection, count: int) -> None:
    """Count file entries written or dropped, for `BuildCache.prune`."""
    connection.execute(
        "INSERT INTO meta VALUES ('churn', ?) ON CONFLICT (key) DO UPDATE"
        " SET value = CAST(value AS INTEGER) + excluded.value",
        (str(count),),
    )


def _count(connection: sqlite3.Connection, table: str) -> int:
    # Only this module's table names are formatted in.
    return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

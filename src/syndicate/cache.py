"""The build cache: what loading and rendering found last time, so unchanged work is not redone.

Kept where the configuration says (`syndicate.config.Settings.cache_dir`: beside the publish
state by default, whatever folder the postings are in), in ``cache.db``: a SQLite database
(WAL mode) holding, per posting file, its stat and digest with the posting it parsed into, and
per target, the checks and the rendered fragments of each posting, keyed by the posting's
content hash and by a *target key* that changes whenever anything else that decides the output
changes (the target's options and templates, the settings it renders from, and syndicate's own
code).

Why SQLite rather than files: a hundred thousand postings make several hundred thousand entries,
which as files would cost an inode and a directory entry each and a rename to replace safely;
in SQLite an entry is a row, many are written in one transaction, a process killed in the middle
of one leaves the previous state, and any number of readers (two builds, a daemon and a CLI) work
beside one writer, the others waiting for it through the busy timeout.

The cache is never the only copy of anything: every read that fails (a missing, corrupt or
outdated entry, a database that cannot be opened) is a miss, and the caller parses or renders
again.  A database that is not one (or a newer format) is set aside and started afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate import __version__
from syndicate.errors import Problem, Severity

if TYPE_CHECKING:
    from syndicate.adapters.base import Target

log = logging.getLogger("syndicate.cache")

FORMAT = 4  # of the tables below; a database of another format is started afresh
CACHE_DIR = "cache"
DATABASE = "cache.db"
_BUSY_TIMEOUT_S = 30.0
_BATCH = 500  # rows per statement batch
# A file changed within this long before its stat was recorded may change again without its
# size or mtime moving (the clock's granularity): its bytes are compared, as git does.
RACY_NS = 2_000_000_000

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
CREATE TABLE IF NOT EXISTS fragments (
    target_key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    part TEXT NOT NULL,
    data BLOB NOT NULL,
    made_ns INTEGER NOT NULL,
    PRIMARY KEY (target_key, part, content_hash)
);
"""


@cache
def code_fingerprint() -> str:
    """A digest of syndicate's version and the source of every module of the package.

    Part of every key: output cached by other code is never reused, whatever changed in it.
    """
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"{__version__}\0{FORMAT}\0".encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def target_key(target: Target) -> str:
    """What besides a posting decides what ``target`` makes of it (`Target.rendered_from`),
    with the code, as one digest."""
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(target.rendered_from().encode())
    return digest.hexdigest()


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
        return (
            self.status is not None
            and self.size == stat.st_size
            and self.mtime_ns == stat.st_mtime_ns
            and self.timezone == timezone
            and stat.st_mtime_ns < self.checked_ns - RACY_NS
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

    def file_entries(self) -> dict[str, FileEntry]:
        """Every posting file the cache knows, by path."""
        query = (
            "SELECT path, size, mtime_ns, checked_ns, sha256, timezone, posting_id, content_hash,"
            " status, date_posted, valid_through FROM files"
        )
        with self._reading() as connection:
            if connection is None:
                return {}
            return {row[0]: FileEntry(*row) for row in connection.execute(query)}

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
            for start in range(0, len(files), _BATCH):
                connection.executemany(
                    "INSERT OR REPLACE INTO postings VALUES (?,?,?)",
                    postings[start : start + _BATCH],
                )
                connection.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    files[start : start + _BATCH],
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
        an option changed since) and of content no posting file has any more."""
        keys = sorted(set(keep_keys))
        marks = ",".join("?" * len(keys))
        with self._writing() as connection:
            if connection is None:
                return
            # Only "?" placeholders are formatted into the statements.
            for table in ("fragments", "checks"):
                connection.execute(f"DELETE FROM {table} WHERE target_key NOT IN ({marks})", keys)
                # A fragment's key may be "<content hash>|<variant>" (`Fragments.key_of`).
                connection.execute(
                    f"DELETE FROM {table} WHERE substr(content_hash, 1, "
                    "instr(content_hash || '|', '|') - 1) NOT IN (SELECT content_hash FROM files)"
                )

    # -- transactions ------------------------------------------------------------------------

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


class CachedChecks:
    """One target's rule checks of loaded postings, read from the cache where it has them.

    ``problems(loaded)`` takes a `syndicate.loading.PostingFile`: a cached result needs only its
    content hash, so the posting is read back only for postings not checked before.  Call
    `save` to remember what was checked anew.
    """

    def __init__(self, target: Target, cache: BuildCache | None, *, prefetch: bool) -> None:
        self.target = target
        self.cache = cache
        self.key = target_key(target) if cache is not None else ""
        # Read all at once (fast, for a plan), or one by one (memory that does not grow with
        # the number of postings, for a build).
        self._known = cache.checks(self.key) if cache is not None and prefetch else {}
        self._fresh: list[tuple[str, str]] = []

    def load(self, postings: Sequence[Any]) -> None:
        """Read the cached results of these postings at once (and forget those read before):
        what a build does a batch of postings at a time."""
        if self.cache is not None:
            hashes = [p.content_hash for p in postings]
            self._known = self.cache.checks(self.key, hashes)

    def problems(self, loaded: Any) -> list[Problem]:
        """The target's problems with the loaded posting (errors and warnings)."""
        text = self._known.get(loaded.content_hash)
        if text is not None:
            try:
                return _decode_problems(text, self.target.name, loaded.posting_id)
            except (ValueError, TypeError, KeyError):
                pass  # a damaged entry: checked again below
        found = self.target.rules(loaded.posting)
        if self.cache is not None:
            self._fresh.append((loaded.content_hash, _encode_problems(found)))
            if len(self._fresh) >= _BATCH * 4:
                self.save()
        return found

    def save(self) -> None:
        """Remember the results checked anew."""
        if self.cache is not None and self._fresh:
            self.cache.store_checks(self.key, self._fresh)
            self._fresh = []


def _encode_problems(problems: Sequence[Problem]) -> str:
    return json.dumps(
        [
            [p.message, None if p.file is None else str(p.file), p.line, p.field, str(p.severity)]
            for p in problems
        ]
    )


def _decode_problems(text: str, target: str, posting_id: str) -> list[Problem]:
    # Interned: the same rule broken by many postings keeps one copy of its message.
    return [
        Problem(
            sys.intern(message),
            file=file,
            line=line,
            field=None if field is None else sys.intern(field),
            target=target,
            posting_id=posting_id,
            severity=Severity(severity),
        )
        for message, file, line, field, severity in json.loads(text)
    ]


class Fragments:
    """One target's per-posting fragments (a feed entry, a page) for one build.

    `each` gives ``make(posting)`` for every posting, taking what the cache holds for the
    posting's content hash and this target's key, and reading back and rendering only the
    others (which it then remembers).  The build first fills the cache with every part a
    target declares (`PullTarget.fragment_makers`), reading each posting back once for all of
    them (`missing`, `store`).  It then prunes what no posting uses any more.
    """

    def __init__(
        self,
        target: Target,
        cache: BuildCache,
        variant: Callable[[str], str] = lambda _posting_id: "",
    ) -> None:
        self.cache = cache
        self.key = target_key(target)
        self.variant = variant  # what else decides a posting's fragments, by posting id
        self.made = 0  # fragments rendered anew in this build
        self.reused = 0

    def key_of(self, ref: Any) -> str:
        """The cache key of a posting's fragments: its content hash, and its variant."""
        variant = self.variant(ref.posting_id)
        return f"{ref.content_hash}|{variant}" if variant else ref.content_hash

    def missing(self, refs: Sequence[Any], part: str) -> list[Any]:
        """The refs whose fragment ``part`` the cache lacks."""
        keys = [self.key_of(ref) for ref in refs]
        have = {h for h, _ in self.cache.fragments(self.key, keys, part, data=False)}
        return [ref for ref, key in zip(refs, keys, strict=True) if key not in have]

    def store(self, part: str, made: Sequence[tuple[str, bytes]]) -> None:
        """Remember fragments made ahead."""
        self.made += len(made)
        self.cache.store_fragments(self.key, part, made)

    def each(self, refs: Sequence[Any], part: str, make: Callable[[Any], bytes]) -> Iterator[bytes]:
        """``make(ref.posting)`` for each ref (anything with ``content_hash`` and ``posting``),
        in order, from the cache where it has them."""
        for start in range(0, len(refs), _BATCH):
            batch = refs[start : start + _BATCH]
            keys = [self.key_of(ref) for ref in batch]
            found = dict(self.cache.fragments(self.key, keys, part))
            fresh: list[tuple[str, bytes]] = []
            for ref, key in zip(batch, keys, strict=True):
                data = found.get(key)
                if data is None:
                    data = make(ref.posting)
                    fresh.append((key, data))
                    found[key] = data
                    self.made += 1
                else:
                    self.reused += 1
                yield data
            self.cache.store_fragments(self.key, part, fresh)

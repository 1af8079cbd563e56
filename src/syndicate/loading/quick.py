"""The postings of a project when the build cache knows every file unchanged: nothing read.

`syndicate.loading.load_cached` decides a file unchanged by its stat against the cache's entry
and then makes a `PostingFile` of it; with 100,000 files that is about 25 µs a file.  A command
that only needs each posting's id, content hash and listing window (``publish --plan`` with
nothing changed, `syndicate.quickplan`) asks `unchanged_files` instead: the cache's entries in
one query, the files found as loading finds them (`posting_file_names`), each stat compared by
the same rule (`syndicate.cache.store.stat_fresh`), a `Window` made once per distinct status and
dates.  When any file is new, changed or unreadable, or two share an id, the answer is None and
the caller loads in full (which reads, reports and remembers what changed).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from syndicate.cache.store import DATABASE, stat_fresh
from syndicate.config import Settings
from syndicate.errors import SyndicateError
from syndicate.loading.cached import window_of
from syndicate.loading.discover import posting_file_names
from syndicate.model import Window


@dataclass(frozen=True, slots=True)
class QuickFile:
    """What the cache knows of one unchanged posting file."""

    path: str
    posting_id: str
    content_hash: str
    window: Window


def unchanged_files(settings: Settings) -> list[QuickFile] | None:
    """Every posting file of ``settings``, in loading's order, when the build cache knows each
    one unchanged; None otherwise (or without a cache)."""
    cache_file = settings.cache_dir / DATABASE
    if not cache_file.is_file():
        return None
    try:
        names = posting_file_names(settings.postings_dir)
    except SyndicateError:
        return None
    zone = str(settings.timezone)
    entries = _entries(cache_file, zone)
    if entries is None:
        return None
    windows: dict[tuple[str | None, str, str | None], Window] = {}
    found: list[QuickFile] = []
    absolute = _is_absolute(settings.postings_dir)
    for name in names:
        entry = entries.get(name if absolute else os.path.abspath(name))
        if entry is None:
            return None
        size, mtime_ns, checked_ns, status, posting_id, content_hash, start, end = entry
        try:
            stat = os.stat(name)
        except OSError:
            return None
        if not stat_fresh(stat, size, mtime_ns, checked_ns, zone, status, zone):
            return None
        when = (status, start, end)
        window = windows.get(when)
        if window is None:
            window = windows[when] = window_of(*when)
        found.append(QuickFile(name, posting_id, content_hash, window))
    if len({f.posting_id for f in found}) != len(found):
        return None  # a duplicate id: loading reports it
    return found


def _is_absolute(folder: Path) -> bool:
    """Whether the names found below ``folder`` are already the cache's keys (absolute and
    normal paths), so that no `os.path.abspath` is needed per file."""
    text = os.fspath(folder)
    return os.path.isabs(text) and os.path.normpath(text) == text


_Entry = tuple[int, int, int, str | None, str, str, str, str | None]


def _entries(cache_file: Path, zone: str) -> dict[str, _Entry] | None:
    """The cache's file entries by path of files loaded in the time ``zone`` (the others are
    not fresh), read-only; None when they cannot be read."""
    try:
        db = sqlite3.connect(cache_file.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        rows = db.execute(
            "SELECT path, size, mtime_ns, checked_ns, status, posting_id, content_hash,"
            " date_posted, valid_through FROM files WHERE timezone = ?",
            (zone,),
        )
        return {row[0]: row[1:] for row in rows}
    except sqlite3.Error:
        return None
    finally:
        db.close()

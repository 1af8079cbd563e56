"""A published folder (the careers site) updated in place, file by file, readers never misled.

A one-edit build of a site of 100,000 pages changes a handful of files; making a new version
folder of 100,000 hard links for it (`syndicate.output.FolderVersion`, still used for a site's
first build) cost more than the rest of writing the site.  `FolderInPlace` changes the
published version folder itself, in an order that keeps the readers' guarantee (no reader
sees a partial file, and every link in the index, sitemap and feed resolves):

1. a file whose bytes are unchanged is left alone (its mtime and ETag stay put); a file named
   by the same identity as when it was last written (a job page: its cached fragment's name,
   `syndicate.splice.Piece`) is not even made or read;
2. a new file (a new job's page) is written to a temporary file and renamed into place at once:
   nothing links to it yet;
3. a changed file (the index, sitemap, feed, an edited job's page) is written to a temporary
   file and renamed over the old one only once every file of the build is written, so that the
   new index appears after the pages it links;
4. only then are the files this build no longer writes (closed jobs' pages, which the feed
   server answers with 410) removed: nothing links to them any more.

Renames are atomic; nothing is fsynced (the build can write every file again).  What each file
was written from is recorded beside the versions (``.versions/.<name>.files.json``) and trusted
only for the version folder and the boot of the machine it was written in; a build that finds
no record it can trust compares every file by its bytes and removes what it no longer writes
after walking the folder.  A build that fails removes the new files it added and leaves the rest
as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from syndicate.output import (
    VERSIONS_DIR,
    WrittenAhead,
    building_prefix,
    file_sha256,
    prune_stale_builds,
    stream_into,
    write_atomic,
)
from syndicate.splice import Layout, Noting, Piece, boot_id, record_layout, splice_into


@dataclass(frozen=True, slots=True)
class Record:
    """What a version folder's files were written from: each file's identity ("" for none)."""

    root: str  # the version folder's name
    boot: str
    files: dict[str, str]


def record_path(output: Path, name: str) -> Path:
    """Where the record of folder ``name`` lives (hidden, beside the versions: never served)."""
    return output / VERSIONS_DIR / f".{name}.files.json"


def read_record(output: Path, name: str, root: Path) -> Record | None:
    """The record of ``root``, when there is one written in this boot for that folder."""
    try:
        data = json.loads(record_path(output, name).read_bytes())
        record = Record(str(data["root"]), str(data["boot"]), dict(data["files"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.root != root.name or record.boot != boot_id():
        return None
    return record


def save_record(output: Path, name: str, root: Path, files: dict[str, str]) -> None:
    """Record what ``root``'s files were written from (renamed into place, not fsynced)."""
    data = json.dumps({"root": root.name, "boot": boot_id(), "files": files}).encode()
    write_atomic(record_path(output, name), [data], durable=False)


def published_root(output: Path, name: str) -> Path | None:
    """The version folder ``output/name`` links to, when it is one of syndicate's."""
    link = output / name
    if not link.is_symlink():
        return None
    root = link.resolve()
    if not root.is_dir() or root.parent != (output / VERSIONS_DIR).resolve():
        return None
    return root


class FolderInPlace:
    """The published version of folder ``name`` under ``output``, updated in place.

    Call `write` for every file of the new build (paths relative to the folder), then
    `finish`; if anything fails before that, `discard`.  Builds updating the same folder at
    the same time take turns (the lock `FolderVersion.publish` takes too).
    """

    def __init__(self, output: Path, name: str, root: Path) -> None:
        self.output, self.name, self.root = output, name, root
        versions = output / VERSIONS_DIR
        self._lock: IO[Any] | None = (versions / f".{name}.lock").open("a")
        fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX)
        self._record = read_record(output, name, root)
        self._known = self._record.files if self._record is not None else {}
        prune_stale_builds(versions, name)
        self._staging = Path(tempfile.mkdtemp(prefix=building_prefix(name), dir=versions))
        self._root_text = str(root)
        self._folders: set[str] = set()
        self.written: dict[str, str] = {}  # relative path: identity
        self._added: list[Path] = []
        self._deferred: list[tuple[Path, Path]] = []
        self._record_dropped = False
        self._ahead: dict[str, Path] = {}  # files written before their documents came: where

    def write(self, relative: str, chunks: Iterable[bytes], identity: str | None = None) -> None:
        """One file of the new build: left alone, added, or replaced at `finish`."""
        target = self._inside(relative)
        self.written[relative] = identity or ""
        if relative in self._ahead or (identity and self._known.get(relative) == identity):
            return
        temp, sha, size = self._stream(chunks)
        try:
            found = os.lstat(target)
        except FileNotFoundError:
            found = None
        if found is not None and found.st_size == size and file_sha256(Path(target)) == sha:
            temp.unlink()
            return
        self._drop_record()
        if found is None:
            folder = os.path.dirname(target)
            if folder not in self._folders:
                os.makedirs(folder, exist_ok=True)
                self._folders.add(folder)
            os.rename(temp, target)  # new: nothing links to it yet
            self._added.append(Path(target))
        else:
            self._deferred.append((temp, Path(target)))

    def write_pieces(
        self, relative: str, pieces: Iterable[bytes | Piece], layout_path: Path
    ) -> None:
        """`write` a file made of pieces (the index, the Atom feed: a card or entry per job),
        copying the unchanged ones from the published file's byte ranges where the layout
        recorded at ``layout_path`` still describes it (`syndicate.splice`); then record the
        layout of the file that will be in place."""
        target = Path(self._inside(relative))
        if relative in self._ahead:
            self.written[relative] = ""
            return
        old = Layout.read(layout_path)
        if old is None or not old.describes(target):
            noting = Noting(pieces)
            self.write(relative, noting)
            if noting.done:
                waiting = self._deferred and self._deferred[-1][1] == target
                where = self._deferred[-1][0] if waiting else target
                record_layout(where, layout_path, noting.made)
            return
        self.written[relative] = ""
        fd, name = tempfile.mkstemp(dir=self._staging)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(fd, 0o644)
            made = splice_into(handle.fileno(), pieces, target, old)
        temp = Path(name)
        if made is None:
            temp.unlink()
            return
        self._drop_record()
        self._deferred.append((temp, target))
        record_layout(temp, layout_path, made)  # the inode, size and mtime it keeps in place

    def write_ahead(self, relative: str, chunks: Iterable[bytes]) -> None:
        """`write` a file before its document comes (a careers page as soon as a worker made
        it); writing the same file again in this build is then nothing."""
        deferred = len(self._deferred)
        self.write(relative, chunks)
        waiting = len(self._deferred) > deferred
        self._ahead[relative] = self._deferred[-1][0] if waiting else Path(self._inside(relative))

    def written_ahead(self, relative: str) -> WrittenAhead:
        """The bytes of a file `write_ahead` wrote (where they wait to be put in place)."""
        return WrittenAhead(self._ahead[relative])

    def finish(self) -> bool:
        """Put the changed files in place, then remove what this build no longer writes;
        record the files.  True when anything changed."""
        try:
            for temp, target in self._deferred:
                os.replace(temp, target)
            removed = self._remove_unwritten()
            changed = bool(self._added or self._deferred or removed)
            if changed or self._record is None or self._record.files != self.written:
                save_record(self.output, self.name, self.root, self.written)
            return changed
        finally:
            self._close()

    def discard(self) -> None:
        """Undo what readers could see of an unfinished build: the new files it added."""
        try:
            for path in self._added:
                path.unlink(missing_ok=True)
            if self._record is not None and self._record_dropped:
                save_record(self.output, self.name, self.root, self._record.files)
        finally:
            self._close()

    def _remove_unwritten(self) -> int:
        previous: Iterable[str] = (
            self._record.files if self._record is not None else _walk(self.root)
        )
        removed = 0
        for relative in previous:
            if relative in self.written:
                continue
            path = self._inside(relative)
            with contextlib.suppress(OSError):
                if os.path.isfile(path) and not os.path.islink(path):
                    os.unlink(path)
                    removed += 1
        return removed

    def _drop_record(self) -> None:
        # Before the folder's first change: a build killed part way leaves no record that
        # would say a file holds what it no longer does.
        if not self._record_dropped:
            record_path(self.output, self.name).unlink(missing_ok=True)
            self._record_dropped = True

    def _stream(self, chunks: Iterable[bytes]) -> tuple[Path, str, int]:
        fd, name = tempfile.mkstemp(dir=self._staging)
        sha, size = stream_into(fd, chunks)
        return Path(name), sha, size

    def _inside(self, relative: str) -> str:
        joined = os.path.normpath(os.path.join(self._root_text, relative))
        if not joined.startswith(self._root_text + os.sep):
            raise ValueError(f"{relative!r} would be written outside {self.name}/")
        return joined

    def _close(self) -> None:
        shutil.rmtree(self._staging, ignore_errors=True)
        if self._lock is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def _walk(root: Path) -> list[str]:
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            found.append(os.path.relpath(os.path.join(folder, name), root))
    return found

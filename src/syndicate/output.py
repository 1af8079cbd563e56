"""Atomic files and folders: a reader sees the old version or the new one, never a mix.

A file is streamed to a temporary file beside it, flushed to disk, compared by hash with the
file it would replace (an unchanged file is left alone, so its mtime and ETag stay put), and
renamed over it.  A folder that a target owns as a whole (the careers site) is written to a new
version folder under ``.versions/`` and published by swapping a symlink atomically.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

VERSIONS_DIR = ".versions"
_BUILDING = ".building-"  # infix of a version folder being written
_STALE_BUILD_S = 24 * 3600
_CHUNK = 1 << 16
_FEW_WRITTEN = 10_000  # files written anew that `FolderVersion.unchanged` compares one by one


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What happened to one output file."""

    path: Path
    sha256: str
    size: int
    changed: bool


def write_atomic(path: Path, chunks: Iterable[bytes], *, durable: bool = True) -> WriteResult:
    """Stream ``chunks`` into ``path`` atomically; leave it untouched when the bytes are equal.

    ``durable=False`` skips the fsyncs, for files the build can make again (its outputs): the
    rename stays atomic for readers, and a machine that crashes before the kernel wrote the
    bytes back may leave the file empty or old, which the next build after the restart
    rewrites (`syndicate.splice.boot_id` is part of what it trusts).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        sha = digest.hexdigest()
        # The old file is read (hashed) only when it is as long as the new: a feed of 640 MB
        # whose length changed is not read again to find that it changed.
        if _same_size_file(path, size) and file_sha256(path) == sha:
            temp.unlink()
            return WriteResult(path, sha, size, changed=False)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
        if durable:
            _fsync_dir(path.parent)
        return WriteResult(path, sha, size, changed=True)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _same_size_file(path: Path, size: int) -> bool:
    """Whether ``path`` is a regular file (not a link) of ``size`` bytes."""
    try:
        found = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(found.st_mode) and found.st_size == size


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def stream_into(fd: int, chunks: Iterable[bytes]) -> tuple[str, int]:
    """Write ``chunks`` to the new file open as ``fd`` (mode 0644) and close it; its SHA-256
    and size."""
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(fd, 0o644)
        for chunk in chunks:
            handle.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def building_prefix(name: str) -> str:
    """The name's start of a folder being written for folder ``name`` under ``.versions/``
    (removed once a day old: what a killed build left)."""
    return f"{name}{_BUILDING}"


@dataclass(frozen=True, slots=True)
class WrittenAhead:
    """The bytes of a file a build wrote before its document came (a careers page written as
    the workers made it: `FolderVersion.written_ahead`, `FolderInPlace.written_ahead`), read
    from where the writer put it; the writer's own later `write` of that file is nothing."""

    path: Path

    def __iter__(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            while block := handle.read(_CHUNK):
                yield block


class FolderVersion:
    """A new version of a folder under ``output``, published atomically by `publish`.

    Write files with `write` (paths relative to the folder), then call `publish`; if anything
    fails before that, `discard` removes the half-written version and readers never saw it.
    """

    def __init__(self, output: Path, name: str) -> None:
        self.output = output
        self.name = name
        self.link = output / name
        versions = output / VERSIONS_DIR
        versions.mkdir(parents=True, exist_ok=True)
        # Named apart from published versions until it is one, so that a build publishing at
        # the same time never prunes it.
        self.root = Path(tempfile.mkdtemp(prefix=f"{name}{_BUILDING}", dir=versions))
        os.chmod(self.root, 0o755)
        self._root_text = str(self.root.resolve())
        self._folders: set[Path] = {Path(self._root_text)}
        current = self.link.resolve() if self.link.is_symlink() else None
        self._previous = current if current is not None and current.is_dir() else None
        self._count = 0  # files written or linked
        # Files written anew (not linked from the previous version), with their digests, while
        # few enough for `unchanged` to compare them alone.
        self._written: list[tuple[str, str]] | None = []
        self.identities: dict[str, str] = {}  # what each file was written from, if named
        self._ahead: set[str] = set()  # files written before their documents came

    def write(
        self, relative: str, chunks: Iterable[bytes], identity: str | None = None
    ) -> WriteResult:
        """Write one file of the new version.

        Nobody reads the version before `publish`, so each file is written in place and not
        synced by itself: `publish` syncs them all at once (one fsync per file would cost more
        than writing a careers site of many thousand pages).
        """
        target = self._inside(relative)
        self.identities[relative] = identity or ""
        if relative in self._ahead:
            return WriteResult(target, "", 0, changed=True)  # counted when written ahead
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        self._count += 1
        if isinstance(chunks, tuple | list):
            linked = self._link_unchanged(relative, target, chunks)
            if linked is not None:
                return linked
        written = self._write_new(target, chunks)
        if self._written is not None:
            self._written.append((relative, written.sha256))
            if len(self._written) > _FEW_WRITTEN:
                self._written = None
        return written

    def write_ahead(self, relative: str, chunks: Iterable[bytes]) -> WriteResult:
        """`write` a file before its document comes (a careers page as soon as a worker made
        it); writing the same file again in this version is then nothing."""
        written = self.write(relative, chunks)
        self._ahead.add(relative)
        return written

    def written_ahead(self, relative: str) -> WrittenAhead:
        """The chunks that stand for a file `write` wrote before its document came (a build
        writes a careers page as soon as a worker made it): `write` then writes nothing."""
        return WrittenAhead(self._inside(relative))

    def _write_new(self, target: Path, chunks: Iterable[bytes]) -> WriteResult:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        sha, size = stream_into(fd, chunks)
        return WriteResult(target, sha, size, changed=True)

    def _link_unchanged(
        self, relative: str, target: Path, chunks: tuple[bytes, ...] | list[bytes]
    ) -> WriteResult | None:
        """Hard-link the published version's file when it holds exactly these bytes: a link
        costs a fraction of creating and writing a file, and the file keeps its mtime."""
        if self._previous is None:
            return None
        data = b"".join(chunks)
        source = self._previous / relative
        try:
            if source.stat().st_size != len(data) or source.read_bytes() != data:
                return None
            os.link(source, target)
        except OSError:
            return None
        return WriteResult(target, hashlib.sha256(data).hexdigest(), len(data), changed=False)

    def _inside(self, relative: str) -> Path:
        # Lexical: the version folder is new and holds no symlinks, so this is what resolve()
        # would say, without an lstat of every parent of every file.
        joined = os.path.normpath(os.path.join(self._root_text, relative))
        if not joined.startswith(self._root_text + os.sep):
            raise ValueError(f"{relative!r} would be written outside {self.name}/")
        return Path(joined)

    def unchanged(self) -> bool:
        """True when the new version holds exactly the same files as the published one.

        When the published version is the one files were linked from, only the files written
        anew are read: a linked file is the published one, and the same number of files then
        means the same names (at 100,000 postings, hashing both trees whole read 2.6 GB).
        """
        current = self.link.resolve() if self.link.exists() else None
        if current is None or not current.is_dir():
            return False
        if current != self._previous or self._written is None:
            return _tree_digest(current) == _tree_digest(self.root)
        for relative, sha in self._written:
            published = current / relative
            if not published.is_file() or file_sha256(published) != sha:
                return False
        return _file_count(current) == self._count

    def publish(self) -> bool:
        """Point ``output/name`` at the new version atomically; False if nothing changed.

        Builds publishing the same folder at the same time take turns (a lock beside the
        versions), so that none prunes the version another has just published.
        """
        versions = self.output / VERSIONS_DIR
        with _locked(versions / f".{self.name}.lock"):
            if self.unchanged():
                self.discard()
                return False
            sync_filesystem(self.root)
            final = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=versions))
            os.rename(self.root, final)  # over the empty folder just made: atomic
            self.root = final
            previous = self.link.resolve() if self.link.is_symlink() else None
            if self.link.is_dir() and not self.link.is_symlink():
                # A real folder left by something else: replaced by the link once (not atomic).
                shutil.rmtree(self.link)
            elif self.link.exists() and not self.link.is_symlink():
                self.link.unlink()
            temp_link = self.output / f".{self.name}.link-{os.getpid()}"
            temp_link.unlink(missing_ok=True)
            temp_link.symlink_to(self.root.relative_to(self.output), target_is_directory=True)
            os.replace(temp_link, self.link)
            _fsync_dir(self.output)
            self._prune(keep={self.root.resolve(), previous})
        return True

    def discard(self) -> None:
        """Remove the unpublished version."""
        shutil.rmtree(self.root, ignore_errors=True)

    def _prune(self, keep: set[Path | None]) -> None:
        # The previous version is kept so that a reader who resolved the old link a moment ago
        # can still finish reading; anything older goes.
        versions = self.output / VERSIONS_DIR
        for version in versions.glob(f"{self.name}-*"):
            if version.resolve() not in keep:
                shutil.rmtree(version, ignore_errors=True)
        prune_stale_builds(versions, self.name)


def prune_stale_builds(versions: Path, name: str) -> None:
    """Remove what killed builds of folder ``name`` left under ``versions`` (a day old: one
    still running has touched its folder lately)."""
    stale = time.time() - _STALE_BUILD_S
    for building in versions.glob(f"{name}{_BUILDING}*"):
        with contextlib.suppress(OSError):
            if building.stat().st_mtime < stale:
                shutil.rmtree(building, ignore_errors=True)


def _file_count(root: Path) -> int:
    return sum(
        1
        for folder, _, names in os.walk(root)
        for name in names
        if os.path.isfile(Path(folder, name))
    )


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + file_sha256(path).encode())
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def sync_filesystem(folder: Path) -> None:
    """Flush everything written to the filesystem of ``folder`` to disk: syncfs(2) where the C
    library has it, else sync(2)."""
    syncfs = getattr(_libc(), "syncfs", None)
    if syncfs is None:
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(folder))
    finally:
        os.close(fd)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


MEDIA_TYPES_FILE = ".media-types.json"  # hidden, so never served itself


def record_media_types(output: Path, types: dict[str, str]) -> None:
    """Remember the media type of each file suffix the targets wrote under ``output``
    (``{".xml": "application/xml"}``), beside what earlier builds recorded: the feed server
    answers with the type the target gave its documents."""
    if not types:
        return
    known = read_media_types(output)
    merged = {**known, **types}
    if merged != known:
        data = json.dumps(merged, indent=1, sort_keys=True).encode() + b"\n"
        write_atomic(output / MEDIA_TYPES_FILE, [data])


def read_media_types(output: Path) -> dict[str, str]:
    """The media types `record_media_types` recorded under ``output`` (empty before a build)."""
    try:
        recorded = json.loads((output / MEDIA_TYPES_FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(recorded, dict):
        return {}
    return {str(suffix): str(kind) for suffix, kind in recorded.items()}

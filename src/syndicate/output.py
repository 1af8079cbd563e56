"""Atomic files and folders: a reader sees the old version or the new one, never a mix.

A file is streamed to a temporary file beside it, flushed to disk, compared by hash with the
file it would replace (an unchanged file is left alone, so its mtime and ETag stay put), and
renamed over it.  A folder that a target owns as a whole (the careers site) is written to a new
version folder under ``.versions/`` and published by swapping a symlink atomically.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

VERSIONS_DIR = ".versions"
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What happened to one output file."""

    path: Path
    sha256: str
    size: int
    changed: bool


def write_atomic(path: Path, chunks: Iterable[bytes]) -> WriteResult:
    """Stream ``chunks`` into ``path`` atomically; leave it untouched when the bytes are equal."""
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
            os.fsync(handle.fileno())
        sha = digest.hexdigest()
        if path.is_file() and not path.is_symlink() and file_sha256(path) == sha:
            temp.unlink()
            return WriteResult(path, sha, size, changed=False)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
        _fsync_dir(path.parent)
        return WriteResult(path, sha, size, changed=True)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


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
        self.root = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=versions))
        os.chmod(self.root, 0o755)

    def write(self, relative: str, chunks: Iterable[bytes]) -> WriteResult:
        """Write one file of the new version."""
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError(f"{relative!r} would be written outside {self.name}/")
        return write_atomic(target, chunks)

    def unchanged(self) -> bool:
        """True when the new version holds exactly the same files as the published one."""
        current = self.link.resolve() if self.link.exists() else None
        return (
            current is not None
            and current.is_dir()
            and _tree_digest(current) == _tree_digest(self.root)
        )

    def publish(self) -> bool:
        """Point ``output/name`` at the new version atomically; False if nothing changed."""
        if self.unchanged():
            self.discard()
            return False
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
        for version in (self.output / VERSIONS_DIR).glob(f"{self.name}-*"):
            if version.resolve() not in keep:
                shutil.rmtree(version, ignore_errors=True)


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + file_sha256(path).encode())
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

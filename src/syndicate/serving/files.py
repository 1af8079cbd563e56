"""The files of ``output`` as the feed server sees them: safe paths, one open version, an ETag.

A request path is accepted only as plain segments: no ``.`` or ``..``, no hidden names (which
keeps ``.versions/`` and the build's temporary files out of reach), no backslash, NUL or
encoded slash.  The path is then resolved with its symlinks and must still lie inside
``output``: the careers folder, a symlink to ``output/.versions/careers-…``, is served, while a
symlink that leads anywhere else is not.

The build replaces files by renaming new ones into place (the careers folder's too, once its
first version is published by a symlink swap: `syndicate.inplace`), so a file is opened once
and every byte sent comes from that open file: a reader gets the old version or the new one,
never a mix.  The file's identity on disk (device, inode, mtime, size) keys a cache of its
SHA-256, so the strong ETag is computed once per version, not per request.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from syndicate.output import MEDIA_TYPES_FILE, read_media_types

# For files no target declared (a build older than the record, a file put in output by hand).
MEDIA_TYPES = {
    ".xml": "application/xml",
    ".json": "application/json",
    ".jsonld": "application/ld+json",
    ".atom": "application/atom+xml",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Media types worth compressing: text of any kind.
_COMPRESSIBLE = ("text/", "application/xml", "application/json", "application/ld+json")
_COMPRESSIBLE_SUFFIXES = ("+xml", "+json")
INDEX = "index.html"
CHUNK = 1 << 18
Identity = tuple[int, int, int, int]


def media_type(name: str, recorded: dict[str, str] | None = None) -> str:
    """The Content-Type of a served file, by its name's suffix: the type the target gave its
    documents (``recorded``, by suffix), else a known one; text is UTF-8."""
    suffix = os.path.splitext(name)[1].lower()
    found = (recorded or {}).get(suffix) or MEDIA_TYPES.get(suffix)
    if found is None:
        guessed, _ = mimetypes.guess_type(name, strict=False)
        found = guessed or "application/octet-stream"
    if found.startswith("text/") and "charset" not in found:
        return f"{found}; charset=utf-8"
    return found


class RecordedTypes:
    """The media types the last build recorded under ``output`` (re-read when it changes)."""

    def __init__(self, output: Path) -> None:
        self.path = output / MEDIA_TYPES_FILE
        self._seen: tuple[int, int] | None = None
        self._types: dict[str, str] = {}
        self._lock = threading.Lock()

    def current(self) -> dict[str, str]:
        """Suffix → media type, as recorded now."""
        try:
            info = self.path.stat()
            seen = (info.st_mtime_ns, info.st_size)
        except OSError:
            return {}
        with self._lock:
            if seen != self._seen:
                self._types = read_media_types(self.path.parent)
                self._seen = seen
            return self._types


def compressible(content_type: str) -> bool:
    """True for the textual media types that gzip shrinks."""
    base = content_type.split(";", 1)[0].strip()
    return base.startswith(_COMPRESSIBLE) or base.endswith(_COMPRESSIBLE_SUFFIXES)


@dataclass(frozen=True, slots=True)
class RequestPath:
    """A request path split into safe segments; ``folder`` when it ended with ``/``."""

    parts: tuple[str, ...]
    folder: bool

    @property
    def relative(self) -> str:
        """The path relative to ``output`` (``careers/jobs/x.html``; ``""`` for the root)."""
        return "/".join(self.parts)


def request_path(path: str, raw_path: bytes | None = None) -> RequestPath | None:
    """The decoded request ``path`` as safe segments, or None when it must answer 404.

    ``raw_path`` is the path as received, before percent-decoding: an encoded ``/``, ``\\`` or
    NUL there is refused, since once decoded it could no longer be told from a real one.
    """
    if raw_path is not None:
        lowered = raw_path.lower()
        if b"%2f" in lowered or b"%5c" in lowered or b"%00" in lowered:
            return None
    if not path.startswith("/") or "\\" in path or "\0" in path:
        return None
    folder = path.endswith("/")
    inner = path[1:-1] if folder else path[1:]
    if not inner:
        return RequestPath((), folder=True)
    parts = tuple(inner.split("/"))
    if any(not part or part.startswith(".") for part in parts):
        return None
    return RequestPath(parts, folder)


@dataclass(slots=True)
class OpenFile:
    """One version of a served file, open: every byte sent comes from ``handle``."""

    handle: BinaryIO
    status: os.stat_result
    relative: str  # the logical path under output, with index.html for a folder
    real: str  # the resolved path, for matching private files reached through a symlink

    @property
    def identity(self) -> Identity:
        """What tells one version of a file from another without reading it."""
        s = self.status
        return (s.st_dev, s.st_ino, s.st_mtime_ns, s.st_size)

    @property
    def size(self) -> int:
        return self.status.st_size

    @property
    def mtime(self) -> float:
        return self.status.st_mtime

    def read_all(self) -> bytes:
        """The whole file, from its start."""
        return os.pread(self.handle.fileno(), self.size, 0) if self.size else b""

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """The file in chunks, from its start."""
        offset = 0
        while offset < self.size:
            block = os.pread(self.handle.fileno(), min(size, self.size - offset), offset)
            if not block:
                break
            offset += len(block)
            yield block

    def close(self) -> None:
        self.handle.close()


@dataclass(frozen=True, slots=True)
class SlashNeeded:
    """The path names a folder but lacks its trailing ``/``: redirect there."""


def open_served(root: Path, path: RequestPath) -> OpenFile | SlashNeeded | None:
    """Open the file ``path`` names under ``root``; None when it must answer 404.

    A folder serves its ``index.html``.  When the build swaps a symlink between resolving and
    opening, the path is resolved again.
    """
    parts = path.parts
    previous: str | None = None
    for _ in range(4):
        base = os.path.realpath(root)
        real = os.path.realpath(os.path.join(base, *parts))
        if real != base and not real.startswith(base + os.sep):
            return None
        try:
            fd = os.open(real, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            if real == previous:
                return None
            previous = real
            continue
        except OSError:
            return None
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode) and parts == path.parts:
            os.close(fd)
            if not path.folder:
                return SlashNeeded()
            parts = (*path.parts, INDEX)
            previous = None
            continue
        if not stat.S_ISREG(status.st_mode) or (path.folder and parts == path.parts):
            os.close(fd)
            return None
        handle = os.fdopen(fd, "rb", buffering=0)
        return OpenFile(handle, status, "/".join(parts), real[len(base) + 1 :])
    return None


class _Lru:
    """A small thread-safe LRU map bounded by entry count and total weight."""

    def __init__(self, max_entries: int, max_weight: int) -> None:
        self._items: OrderedDict[Identity, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._weight = 0
        self.max_entries = max_entries
        self.max_weight = max_weight

    def get(self, key: Identity) -> object | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Identity, value: object, weight: int) -> None:
        if weight > self.max_weight:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._items[key] = (value, weight)
            self._weight += weight
            while len(self._items) > self.max_entries or self._weight > self.max_weight:
                _, (_, dropped) = self._items.popitem(last=False)
                self._weight -= dropped


class Digests:
    """The SHA-256 of each file version, and the gzip of small ones, computed once."""

    def __init__(self, max_entries: int = 16_384, gzip_bytes: int = 32 << 20) -> None:
        self._hashes = _Lru(max_entries, max_weight=max_entries)
        self._gzipped = _Lru(max_entries, max_weight=gzip_bytes)

    def sha256(self, file: OpenFile, data: bytes | None = None) -> str:
        """The hex SHA-256 of ``file`` (of ``data`` when its bytes are already read)."""
        cached = self._hashes.get(file.identity)
        if isinstance(cached, str):
            return cached
        if data is not None:
            digest = hashlib.sha256(data).hexdigest()
        else:
            hasher = hashlib.sha256()
            for block in file.chunks():
                hasher.update(block)
            digest = hasher.hexdigest()
        self._hashes.put(file.identity, digest, 1)
        return digest

    def gzipped(self, file: OpenFile, data: bytes) -> bytes:
        """``data``, the bytes of ``file``, gzipped (reproducibly: no name, no time)."""
        cached = self._gzipped.get(file.identity)
        if isinstance(cached, bytes):
            return cached
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        self._gzipped.put(file.identity, packed, len(packed))
        return packed

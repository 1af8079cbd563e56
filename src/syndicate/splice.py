"""Single-file documents rewritten from the previous file's byte ranges.

A target that can describe a document as *pieces* (literal bytes, and `Piece`s: a posting's
cached fragment, named by an identity that changes whenever its bytes may) lets the writer
assemble the new file mostly by copying the unchanged pieces' byte ranges out of the previous
file (`os.copy_file_range`), reading only the changed postings' fragments.  What the previous
file holds where is its `Layout`, recorded beside it when it is written, and trusted only while
the file on disk is the one it describes (same inode, size and mtime, and the machine has not
restarted since: a file renamed without an fsync may have lost its bytes in a crash).

The bytes written are the pieces' bytes in order, whichever way each was obtained, so the file
equals what writing every piece would give (`tests/test_splice.py` checks it byte for byte).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from syndicate.output import WriteResult, write_atomic

_SHORT = 32  # literals up to this many bytes are recorded as they are, longer ones by digest
_COPY_MAX = 1 << 30  # bytes per copy_file_range call


@dataclass(frozen=True, slots=True)
class Piece:
    """A posting's fragment in a document: its ``identity`` (equal identities, equal bytes)
    and how to get its bytes when they are needed."""

    identity: str
    fetch: Callable[[], bytes]


Pieces = Callable[[], Iterable["bytes | Piece"]]  # a document's pieces, made when asked for


def resolved(pieces: Iterable[bytes | Piece]) -> Iterator[bytes]:
    """The document's bytes, every piece fetched: what writing it whole streams."""
    for piece in pieces:
        yield piece if isinstance(piece, bytes) else piece.fetch()


def framed(head: bytes, items: Iterable[bytes | Piece], tail: bytes) -> Iterator[bytes | Piece]:
    """``head``, the items one per line (``,`` between them), ``tail``: a JSON array's file."""
    yield head
    separator = b"\n"
    for item in items:
        yield separator
        yield item
        separator = b",\n"
    yield tail


@cache
def boot_id() -> str:
    """This boot of the machine (Linux's random boot id; empty elsewhere): files renamed
    without an fsync are trusted only within the boot that wrote them."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


@dataclass(slots=True)
class Layout:
    """Where each piece of a written file lies: ``names[i]`` spans ``offsets[i]`` to
    ``offsets[i + 1]``; a name is a piece's identity, or ``=hex`` / ``#sha256`` of a literal."""

    names: list[str]
    offsets: list[int]
    stamp: list[int]  # inode, size, mtime_ns of the file described
    boot: str

    def to_json(self) -> bytes:
        data = {"names": self.names, "offsets": self.offsets, "stamp": self.stamp}
        return json.dumps({**data, "boot": self.boot}, separators=(",", ":")).encode()

    @classmethod
    def read(cls, path: Path) -> Layout | None:
        """The recorded layout, or None when there is none or it does not parse."""
        try:
            data = json.loads(path.read_bytes())
            layout = cls(data["names"], data["offsets"], data["stamp"], data["boot"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if len(layout.offsets) != len(layout.names) + 1:
            return None
        return layout

    def describes(self, path: Path) -> bool:
        """Whether ``path`` is still the file this layout was recorded for."""
        return self.boot == boot_id() and _stamp(path) == self.stamp


def _stamp(path: Path) -> list[int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return [found.st_ino, found.st_size, found.st_mtime_ns]


def _literal_name(data: bytes) -> str:
    if len(data) <= _SHORT:
        return "=" + data.hex()
    return "#" + hashlib.sha256(data).hexdigest()


@dataclass(slots=True)
class _Plan:
    """What the new file is made of: bytes to write, or (offset, length) in the old file to
    copy."""

    steps: list[bytes | tuple[int, int]]
    names: list[str]
    lengths: list[int]


def _plan(pieces: Iterable[bytes | Piece], old: Layout) -> _Plan:
    """Copy every piece the old file holds, runs of them in one range; write the others."""
    where = {name: i for i, name in enumerate(old.names)}
    count = len(old.names)
    steps: list[bytes | tuple[int, int]] = []
    names: list[str] = []
    lengths: list[int] = []
    last = -1  # the old piece the previous one was copied from (-2: it was written)
    for piece in pieces:
        name = piece.identity if isinstance(piece, Piece) else _literal_name(piece)
        found: int | None
        if 0 <= last + 1 < count and old.names[last + 1] == name:
            found = last + 1  # literals (separators) are matched where they follow
        elif isinstance(piece, Piece):
            found = where.get(name)
        else:
            found = None
        if found is None:
            data = piece.fetch() if isinstance(piece, Piece) else piece
            steps.append(data)
            length = len(data)
            last = -2
        else:
            start, length = old.offsets[found], old.offsets[found + 1] - old.offsets[found]
            previous = steps[-1] if steps else None
            if found == last + 1 and isinstance(previous, tuple):
                steps[-1] = (previous[0], previous[1] + length)  # the run goes on
            else:
                steps.append((start, length))
            last = found
        names.append(name)
        lengths.append(length)
    return _Plan(steps, names, lengths)


def write_pieces(path: Path, pieces: Iterable[bytes | Piece], layout_path: Path) -> WriteResult:
    """Write the document atomically (a temporary file renamed over ``path``, without an
    fsync: the build can make it again), copying from the previous ``path`` what its recorded
    layout shows unchanged; then record the new file's layout at ``layout_path``.

    A file whose every byte would be copied in order from itself is left alone.
    """
    old = Layout.read(layout_path)
    if old is None or not old.describes(path):
        return _write_whole(path, pieces, layout_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            made = splice_into(handle.fileno(), pieces, path, old)
            os.fchmod(handle.fileno(), 0o644)
        if made is None:
            Path(temp_name).unlink()
            return WriteResult(path, "", old.offsets[-1], changed=False)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    record_layout(path, layout_path, made)
    return WriteResult(path, "", sum(made.lengths), changed=True)


@dataclass(slots=True)
class Made:
    """The pieces a file was made of, in order: each one's name and length (its layout)."""

    names: list[str]
    lengths: list[int]


def splice_into(
    out: int, pieces: Iterable[bytes | Piece], previous: Path, old: Layout
) -> Made | None:
    """Write the document to ``out``: the pieces ``old`` (the layout of ``previous``, checked
    by the caller with `Layout.describes`) shows in ``previous`` copied from its byte ranges,
    the others fetched and written.  None, with nothing written, when every byte would be
    copied in order from ``previous`` whole: the file is unchanged."""
    plan = _plan(pieces, old)
    if plan.steps == [(0, old.offsets[-1])] and sum(plan.lengths) == _size(previous):
        return None
    _run(plan.steps, previous, out)
    return Made(plan.names, plan.lengths)


class Noting:
    """The bytes of ``pieces``, every piece fetched, noting each one's name and length as it
    passes (`made`: the layout of a file written whole from them)."""

    def __init__(self, pieces: Iterable[bytes | Piece]) -> None:
        self._pieces = pieces
        self.made = Made([], [])
        self.done = False  # every piece passed: ``made`` is the whole file's layout

    def __iter__(self) -> Iterator[bytes]:
        names, lengths = self.made.names, self.made.lengths
        for piece in self._pieces:
            data = piece if isinstance(piece, bytes) else piece.fetch()
            names.append(piece.identity if isinstance(piece, Piece) else _literal_name(data))
            lengths.append(len(data))
            yield data
        self.done = True


def _write_whole(path: Path, pieces: Iterable[bytes | Piece], layout_path: Path) -> WriteResult:
    """Every piece written (`write_atomic`: an unchanged file left alone), the layout noted."""
    noting = Noting(pieces)
    written = write_atomic(path, noting, durable=False)
    record_layout(path, layout_path, noting.made)
    return written


def record_layout(path: Path, layout_path: Path, made: Made) -> None:
    """Record at ``layout_path`` that ``path`` (as it is on disk now) was made of ``made``."""
    offsets = [0]
    for length in made.lengths:
        offsets.append(offsets[-1] + length)
    record = Layout(made.names, offsets, _stamp(path) or [], boot_id())
    layout_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(layout_path, [record.to_json()], durable=False)


def _run(steps: Sequence[bytes | tuple[int, int]], old: Path, out: int) -> None:
    copies = any(isinstance(step, tuple) for step in steps)
    source = os.open(old, os.O_RDONLY) if copies else -1
    try:
        for step in steps:
            if isinstance(step, bytes):
                _write_all(out, step)
            else:
                _copy(source, out, *step)
    finally:
        if source >= 0:
            os.close(source)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy(source: int, out: int, start: int, length: int) -> None:
    """``length`` bytes of ``source`` from ``start``, appended to ``out``."""
    while length:
        done = os.copy_file_range(source, out, min(length, _COPY_MAX), start)
        if done == 0:
            raise OSError(f"the previous file ended before byte {start + length}")
        start += done
        length -= done


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1

"""One target's rendered per-posting fragments, as the cache remembers them.

A part that is a file of its own in the target's folder (a careers job page:
`PullTarget.filed_parts`) is not kept: the cache remembers the SHA-256 of the bytes a posting's
content gives, and the bytes are taken from the published file when it holds them (else made
again).  A build writes those parts made ahead straight into the folder's new version
(`Fragments.write_into`), so a cold build never stores nor reads back a page.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate.cache.keys import target_key
from syndicate.cache.store import BATCH, BuildCache
from syndicate.inplace import FolderInPlace
from syndicate.output import FolderVersion, WrittenAhead
from syndicate.splice import Piece

if TYPE_CHECKING:
    from syndicate.adapters.base import Target


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
        # Where a part of `PullTarget.filed_parts` is a posting's file in the target's folder.
        self._part_file: Callable[[str, str], str] = getattr(target, "part_file", _no_file)
        self._filed: frozenset[str] = getattr(target, "filed_parts", frozenset())
        self._published: Path | None = None  # the target's folder as published
        self._version: FolderInPlace | FolderVersion | None = None  # what writes the folder
        self._ahead: dict[str, set[str]] = {}  # part → posting ids written into the version

    def read_files(self, published: Path) -> Fragments:
        """Take the parts that are files of their own from ``published`` (the target's folder
        under output) when they hold the bytes the cache remembers the digest of."""
        self._published = published
        return self

    def write_into(self, version: FolderInPlace | FolderVersion) -> None:
        """Write the parts that are files of their own, when made ahead, into ``version``."""
        self._version = version

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
        """Remember fragments ``(key, bytes)`` (the digest only, of a part that is a file)."""
        self.made += len(made)
        if part in self._filed:
            made = [(key, _digest(data)) for key, data in made]
        self.cache.store_fragments(self.key, part, made)

    def store_made(self, part: str, made: Sequence[tuple[Any, bytes]]) -> None:
        """Remember fragments made ahead ``(ref, bytes)``; a part that is a file is written
        into the version `write_into` gave (when there is none, it is made again later)."""
        if part not in self._filed:
            self.store(part, [(self.key_of(ref), data) for ref, data in made])
            return
        version = self._version
        if version is None:
            return
        ahead = self._ahead.setdefault(part, set())
        for ref, data in made:
            version.write_ahead(self._part_file(part, ref.posting_id), (data,))
            ahead.add(ref.posting_id)
        self.store(part, [(self.key_of(ref), data) for ref, data in made])

    def each_file(
        self, refs: Sequence[Any], part: str, make: Callable[[Any], bytes]
    ) -> Iterator[Iterable[bytes]]:
        """The chunks of a part that is a file of its own, for each ref in order: the file
        written ahead in this build, or the published file's bytes when their digest is the
        one the cache remembers for the ref's key, or ``make(ref.posting)``."""
        for start in range(0, len(refs), BATCH):
            batch = refs[start : start + BATCH]
            keys = [self.key_of(ref) for ref in batch]
            ahead = [self._written_ahead(part, ref.posting_id) for ref in batch]
            wanted = [key for key, done in zip(keys, ahead, strict=True) if done is None]
            digests = dict(self.cache.fragments(self.key, wanted, part)) if wanted else {}
            fresh: list[tuple[str, bytes]] = []
            for ref, key, done in zip(batch, keys, ahead, strict=True):
                if done is not None:
                    yield done
                    continue
                data = self._published_bytes(part, ref, digests.get(key))
                if data is None:
                    data = make(ref.posting)
                    fresh.append((key, data))
                else:
                    self.reused += 1
                yield (data,)
            self.store(part, fresh)

    def _written_ahead(self, part: str, posting_id: str) -> WrittenAhead | None:
        ahead = self._ahead.get(part)
        if self._version is None or ahead is None or posting_id not in ahead:
            return None
        ahead.discard(posting_id)
        return self._version.written_ahead(self._part_file(part, posting_id))

    def _published_bytes(self, part: str, ref: Any, digest: bytes | None) -> bytes | None:
        if digest is None or self._published is None:
            return None
        try:
            data = (self._published / self._part_file(part, ref.posting_id)).read_bytes()
        except OSError:
            return None
        return data if _digest(data) == digest else None

    def each(self, refs: Sequence[Any], part: str, make: Callable[[Any], bytes]) -> Iterator[bytes]:
        """``make(ref.posting)`` for each ref (anything with ``content_hash`` and ``posting``),
        in order, from the cache where it has them."""
        if part in self._filed:  # not kept: made, or taken from the published file
            for chunks in self.each_file(refs, part, make):
                yield b"".join(chunks)
            return
        for start in range(0, len(refs), BATCH):
            batch = refs[start : start + BATCH]
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

    def pieces(
        self, refs: Sequence[Any], part: str, make: Callable[[Any], bytes]
    ) -> Iterator[Piece]:
        """Each ref's fragment ``part`` as a `Piece`: named by the target key, the part and the
        posting's key (so equal names hold equal bytes), and read from the cache (or made) only
        when its bytes are asked for, in batches while they are asked for in order."""
        window = _Window(self, refs, part, make)
        prefix = f"{self.key}\0{part}\0".encode()
        for index, ref in enumerate(refs):
            name = hashlib.sha256(prefix + self.key_of(ref).encode()).hexdigest()[:32]
            yield Piece(name, functools.partial(window.fetch, index))


class _Window:
    """The fragments of some refs, fetched a batch at a time: a run of requests in order reads
    ever larger batches (up to `BATCH`), a request out of order reads one."""

    def __init__(self, fragments: Fragments, refs: Sequence[Any], part: str, make: Any) -> None:
        self.fragments, self.refs, self.part, self.make = fragments, refs, part, make
        self.start = 0
        self.held: list[bytes] = []
        self.run = 0

    def fetch(self, index: int) -> bytes:
        if not self.start <= index < self.start + len(self.held):
            in_order = index == self.start + len(self.held)
            self.run = min(BATCH, max(1, self.run * 2)) if in_order else 1
            chosen = self.refs[index : index + self.run]
            self.start = index
            self.held = list(self.fragments.each(chosen, self.part, self.make))
        return self.held[index - self.start]


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _no_file(part: str, posting_id: str) -> str:
    raise NotImplementedError(f"{part} is not a file of its own")

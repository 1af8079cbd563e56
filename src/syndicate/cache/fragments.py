"""One target's rendered per-posting fragments, as the cache remembers them."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from syndicate.cache.keys import target_key
from syndicate.cache.store import BATCH, BuildCache
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

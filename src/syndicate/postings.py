"""The postings a target is given: a sequence read one at a time, each perhaps only from cache.

A load gives `LoadedPosting`s (a posting file's id, content hash and listing at hand, the
posting itself read when asked for); `PostingList` is the `Sequence[Posting]` over them that
builds hand to targets.  It lives beside the model, below every layer that uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Protocol, overload

from syndicate.model import Posting


class LoadedPosting(Protocol):
    """A posting as builds and plans see it: its id, content hash and listing at hand, the
    posting itself perhaps read only when asked for (a `PostingFile`, a `HeldPosting`)."""

    @property
    def posting_id(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def posting(self) -> Posting: ...
    def is_listed(self, now: datetime, tz: tzinfo) -> bool: ...


class HeldPosting:
    """A posting given whole (not from a load), seen as a `LoadedPosting`."""

    __slots__ = ("posting",)

    def __init__(self, posting: Posting) -> None:
        self.posting = posting

    @property
    def posting_id(self) -> str:
        return self.posting.id

    @property
    def content_hash(self) -> str:
        return self.posting.content_hash

    def is_listed(self, now: datetime, tz: tzinfo) -> bool:
        return self.posting.is_listed(now, tz)


class PostingList(Sequence[Posting]):
    """Postings read one at a time from their `LoadedPosting`s (from the cache when it holds
    them): what a cached load gives, and what a build gives each target."""

    def __init__(self, files: Sequence[LoadedPosting]) -> None:
        self.files = files

    @classmethod
    def of(cls, postings: Iterable[Posting]) -> PostingList:
        """``postings`` as a PostingList: itself when it is one, else each posting held."""
        if isinstance(postings, PostingList):
            return postings
        return cls([HeldPosting(posting) for posting in postings])

    def __len__(self) -> int:
        return len(self.files)

    @overload
    def __getitem__(self, index: int) -> Posting: ...
    @overload
    def __getitem__(self, index: slice) -> list[Posting]: ...
    def __getitem__(self, index: int | slice) -> Posting | list[Posting]:
        if isinstance(index, slice):
            return [f.posting for f in self.files[index]]
        return self.files[index].posting

    def __iter__(self) -> Iterator[Posting]:
        return (f.posting for f in self.files)

"""One target's rule checks of loaded postings, as the cache remembers them."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from syndicate.cache.keys import target_key
from syndicate.cache.store import BATCH, BuildCache
from syndicate.errors import Problem, Severity

if TYPE_CHECKING:
    from syndicate.adapters.base import Target


CLEAN = "[]"  # `encode_problems` of no problem: what most postings' results are


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

    def has(self, loaded: Any) -> bool:
        """Whether the loaded posting's result is at hand (read by `load`, or `add`ed)."""
        return loaded.content_hash in self._known

    def add(self, content_hash: str, text: str) -> None:
        """A result checked elsewhere (`encode_problems` of the target's rules, made by a
        worker process): used as a cached one, and remembered by `save`."""
        self._known[content_hash] = text
        self._fresh.append((content_hash, text))
        if len(self._fresh) >= BATCH * 4:
            self.save()

    def cached(self, loaded: Any) -> str | None:
        """The loaded posting's result as the cache keeps it (`encode_problems`; ``CLEAN`` for
        none), read by `load` or prefetched; None when it is not at hand."""
        return self._known.get(loaded.content_hash)

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
            self._fresh.append((loaded.content_hash, encode_problems(found)))
            if len(self._fresh) >= BATCH * 4:
                self.save()
        return found

    def save(self) -> None:
        """Remember the results checked anew."""
        if self.cache is not None and self._fresh:
            self.cache.store_checks(self.key, self._fresh)
            self._fresh = []


def encode_problems(problems: Sequence[Problem]) -> str:
    """Problems as the cache keeps them (the target and posting are given back on reading)."""
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

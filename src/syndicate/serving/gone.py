"""Which request paths answer ``410 Gone``: the pages of jobs that were published and are no more.

The daemon computes the set after each sync (the careers pages of postings closed, expired or
deleted since they were published) and hands it over with `GonePaths.update`, which swaps the
whole set at once: a request sees the old set or the new one.  A path whose file exists is
served whatever this set says, so a job that opens again is never hidden by a stale entry.
"""

from __future__ import annotations

from collections.abc import Iterable

from syndicate.config import Settings


def _normalized(path: str) -> str:
    return path.lstrip("/")


class GonePaths:
    """A set of paths under ``output`` (``careers/jobs/sales-manager.html``), swapped whole."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._paths = frozenset(_normalized(path) for path in paths)

    def update(self, paths: Iterable[str]) -> None:
        """Replace the set (one reference assignment: atomic for concurrent readers)."""
        self._paths = frozenset(_normalized(path) for path in paths)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and _normalized(path) in self._paths

    def __len__(self) -> int:
        return len(self._paths)


def job_page_path(settings: Settings, posting_id: str) -> str:
    """The path under ``output`` of a job's careers page, as `GonePaths` expects it."""
    return f"{settings.careers_prefix()}{posting_id}.html"

"""Rule checks the build cache lacks, made in worker processes (`syndicate.parallel`).

A cold build checks every posting against every pull target's rules before it renders: at
100,000 postings that was the longest step, on one core while the workers waited (each posting
read back from the cache and reduced to Indeed's HTML, about 4 ms for four targets).
`check_ahead` fills a window of postings' `CachedChecks` first: the cached results read at
once, the missing ones (when there are enough to pay for the workers) made by the workers from
the postings as the cache keeps them, and remembered as if checked here; the build then reads
each posting's problems as for a warm build.  The workers' results are the targets' own
`rules`, encoded as the cache keeps them, so a build gives the same problems either way.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from syndicate.adapters import PullTarget, Target, create_targets
from syndicate.cache import CachedChecks, encode_problems
from syndicate.config import Settings
from syndicate.loading.cached import PostingReader
from syndicate.loading.files import PostingFile, ShippedPosting
from syndicate.parallel import ordered_map, worker_count
from syndicate.postings import LoadedPosting

WINDOW = 5000  # postings whose checks are read, and made, in one go
_TASK = 100  # postings a worker checks per task


@dataclass(frozen=True, slots=True)
class _CheckTask:
    """Postings for a worker to check: what it needs to set up the targets, and each posting
    (as `PostingFile.shipped` gives it) with the targets (by index in ``targets``) to check."""

    key: str
    settings: Settings
    targets: tuple[str, ...]
    postings: list[tuple[ShippedPosting, list[int]]]


def check_ahead(
    checks: Sequence[CachedChecks], postings: Sequence[LoadedPosting], settings: Settings
) -> None:
    """Load the cached checks of ``postings`` (at most `WINDOW`) into each of ``checks``, and
    make the missing ones in worker processes when there are many and every posting can be
    read back there; what is left missing the build checks itself."""
    for each in checks:
        each.load(postings)
    todo = [(ref, [i for i, each in enumerate(checks) if not each.has(ref)]) for ref in postings]
    todo = [(ref, indexes) for ref, indexes in todo if indexes]
    workers = worker_count(settings.workers, len(todo))
    shipped = [ref.shipped() if isinstance(ref, PostingFile) else None for ref, _ in todo]
    if not workers or not all(shipped):
        return
    names = tuple(each.target.name for each in checks)
    tasks = _tasks(settings, names, [(s, todo[i][1]) for i, s in enumerate(shipped) if s])
    made = itertools.chain.from_iterable(ordered_map(check_in_worker, tasks, workers))
    for (ref, indexes), texts in zip(todo, made, strict=True):
        for index, text in zip(indexes, texts, strict=True):
            checks[index].add(ref.content_hash, text)


def _tasks(
    settings: Settings, names: tuple[str, ...], todo: list[tuple[ShippedPosting, list[int]]]
) -> Iterator[_CheckTask]:
    key = hashlib.sha256(f"{settings.model_dump_json()}\0{settings.root}\0{names}".encode())
    for start in range(0, len(todo), _TASK):
        yield _CheckTask(key.hexdigest(), settings, names, todo[start : start + _TASK])


_worker_setup: dict[str, tuple[list[Target], PostingReader]] = {}


def check_in_worker(task: _CheckTask) -> list[list[str]]:
    """In a worker process: each posting's problems on each target the task names, encoded
    as the cache keeps them."""
    if task.key not in _worker_setup:
        _worker_setup.clear()
        settings = task.settings
        found = {t.name: t for t in create_targets(settings) if isinstance(t, PullTarget)}
        reader = PostingReader(settings.cache_dir, settings.timezone)
        _worker_setup[task.key] = ([found[name] for name in task.targets], reader)
    targets, reader = _worker_setup[task.key]
    made = []
    for shipped, indexes in task.postings:
        posting = reader.posting(shipped)
        made.append([encode_problems(targets[index].rules(posting)) for index in indexes])
    return made

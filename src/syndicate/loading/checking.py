"""Rule checks the build cache lacks, made in worker processes (`syndicate.parallel`).

A cold build checks every posting against every pull target's rules before it renders: at
100,000 postings that was the longest step, on one core while the workers waited (each posting
read back from the cache and reduced to Indeed's HTML, about 4 ms for four targets).
`check_ahead` fills a window of postings' `CachedChecks` first: the cached results read at
once, the missing ones (when there are enough to pay for the workers) made by the workers from
the postings as the cache keeps them, and remembered as if checked here; the build then reads
each posting's problems as for a warm build.  The workers' results are the targets' own
`rules`, encoded as the cache keeps them, so a build gives the same problems either way.

For a target that lists a job once per place (a `reference_scheme`), the worker that has the
posting at hand also sends its places (`PullTarget.spots`), which its reference numbers are
made from: the build then reads no posting back for them (`Places`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from syndicate.adapters import PullTarget, Target, create_targets
from syndicate.adapters.places import Spot
from syndicate.cache import CachedChecks, encode_problems
from syndicate.config import Settings
from syndicate.errors import Problem, Severity
from syndicate.loading.cached import PostingReader
from syndicate.loading.files import PostingFile, ShippedPosting
from syndicate.model import Posting
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
    placed: tuple[int, ...] = ()  # the targets (by index) whose places each posting's are


@dataclass(slots=True)
class Places:
    """The places (`PullTarget.spots`) the workers sent with the checks of a window, per
    target (by index in the checks) and content hash; the build takes them for the reference
    numbers and drops them with the window."""

    by_target: dict[int, dict[str, list[Spot] | None]] = field(default_factory=dict)

    def of(self, index: int, content_hash: str) -> list[Spot] | None:
        """The places of a content hash on one target, if a worker sent them."""
        return self.by_target.get(index, {}).get(content_hash)

    def clear(self) -> None:
        self.by_target.clear()


def check_ahead(
    checks: Sequence[CachedChecks],
    postings: Sequence[LoadedPosting],
    settings: Settings,
    places: Places | None = None,
) -> None:
    """Load the cached checks of ``postings`` (at most `WINDOW`) into each of ``checks``, and
    make the missing ones in worker processes when there are many and every posting can be
    read back there; what is left missing the build checks itself.  Into ``places``, the
    places of the postings checked there on the targets with a reference scheme."""
    for each in checks:
        each.load(postings)
    todo = [(ref, [i for i, each in enumerate(checks) if not each.has(ref)]) for ref in postings]
    todo = [(ref, indexes) for ref, indexes in todo if indexes]
    workers = worker_count(settings.workers, len(todo))
    shipped = [ref.shipped() if isinstance(ref, PostingFile) else None for ref, _ in todo]
    if not workers or not all(shipped):
        return
    names = tuple(each.target.name for each in checks)
    placed = tuple(
        i
        for i, each in enumerate(checks)
        if places is not None and isinstance(each.target, PullTarget)
        and each.target.reference_scheme is not None
    )  # fmt: skip
    shipping = [(s, todo[i][1]) for i, s in enumerate(shipped) if s]
    tasks = _tasks(settings, names, shipping, placed)
    made = itertools.chain.from_iterable(ordered_map(check_in_worker, tasks, workers))
    for (ref, indexes), (texts, spots) in zip(todo, made, strict=True):
        for index, text in zip(indexes, texts, strict=True):
            checks[index].add(ref.content_hash, text)
        if places is not None:
            for index, found in zip(placed, spots, strict=True):
                places.by_target.setdefault(index, {})[ref.content_hash] = found


def _tasks(
    settings: Settings,
    names: tuple[str, ...],
    todo: list[tuple[ShippedPosting, list[int]]],
    placed: tuple[int, ...],
) -> Iterator[_CheckTask]:
    key = hashlib.sha256(f"{settings.model_dump_json()}\0{settings.root}\0{names}".encode())
    for start in range(0, len(todo), _TASK):
        yield _CheckTask(key.hexdigest(), settings, names, todo[start : start + _TASK], placed)


_worker_setup: dict[str, tuple[list[Target], PostingReader]] = {}


def check_in_worker(task: _CheckTask) -> list[tuple[list[str], list[list[Spot] | None]]]:
    """In a worker process: each posting's problems on each target the task names, encoded
    as the cache keeps them, and its places on each target of ``task.placed``."""
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
        problems = {index: targets[index].rules(posting) for index in indexes}
        texts = [encode_problems(problems[index]) for index in indexes]
        made.append((texts, [_spots(targets[i], posting, problems.get(i)) for i in task.placed]))
    return made


def _spots(target: Target, posting: Posting, problems: list[Problem] | None) -> list[Spot] | None:
    """The posting's places on a target whose rules it passes (None when not checked here,
    or when the target does not take it: the build asks no numbers of it then)."""
    if problems is None or not isinstance(target, PullTarget):
        return None
    if any(p.severity in (Severity.ERROR, Severity.OMIT) for p in problems):
        return None
    return target.spots(posting)

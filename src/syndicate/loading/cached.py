"""Loading with the build cache: unchanged files are not read again, nor their postings kept.

A file whose size and mtime are as recorded is not read; one whose stat moved is read and its
digest compared (a checkout touches files without changing them); only a file whose bytes
changed is parsed (by worker processes when there are many, `syndicate.parallel`).  A loaded
posting is then read back from the cache when asked for (`CachedSource`), the last few kept;
`PostingReader` does the same in a worker process of the build.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import NamedTuple

from pydantic import ValidationError

from syndicate.cache import BuildCache, FileEntry, ParsedFile, lines_json, read_lines
from syndicate.errors import InputError
from syndicate.loading import files, parse
from syndicate.loading.discover import display_path
from syndicate.loading.files import LoadResult, PostingFile, ShippedPosting
from syndicate.model import Posting, Status, Window
from syndicate.parallel import ordered_map, worker_count

_RECENT = 32  # postings read back from the cache that are kept, for repeated use of one
_STORE_EVERY = 2000  # parsed files remembered per cache transaction
_WORKER_FILES = 100  # files a worker process reads per task
_STATUSES = {status.value: status for status in Status}


class CachedSource:
    """Reads loaded postings back from the cache, keeping the last few."""

    def __init__(self, cache: BuildCache, timezone: tzinfo) -> None:
        self.cache = cache
        self.timezone = timezone
        self._recent: OrderedDict[str, Posting] = OrderedDict()

    def posting(self, loaded: PostingFile) -> Posting:
        """The posting of ``loaded``: kept, from the cache, or parsed again from its file."""
        found = self._recent.get(loaded.content_hash)
        if found is not None:
            self._recent.move_to_end(loaded.content_hash)
            return found
        posting = self._from_cache(loaded.content_hash) or self._parse_again(loaded)
        self._recent[loaded.content_hash] = posting
        if len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
        return posting

    def posting_json(self, content_hash: str) -> str | None:
        """The posting's own JSON as the cache keeps it, when it does."""
        found = self.cache.posting_source(content_hash)
        return found[0] if found is not None else None

    def lines(self, loaded: PostingFile) -> tuple[dict[str, int], int, int] | None:
        """The lines the cache remembers of ``loaded``'s file (None when it does not)."""
        text = self.cache.lines(str(loaded.path))
        try:
            return read_lines(text) if text is not None else None
        except (ValueError, KeyError, TypeError):
            return None

    def _from_cache(self, content_hash: str) -> Posting | None:
        source = self.cache.posting_source(content_hash)
        if source is None:
            return None
        posting_json, description_html = source
        try:
            posting = Posting.model_validate_json(posting_json, context={"timezone": self.timezone})
        except ValidationError:
            return None
        # The JSON is the posting's own model_dump_json, so its hash is the content hash; the
        # HTML is what rendering the description gave (cached properties live in __dict__).
        posting.__dict__["content_hash"] = content_hash
        posting.__dict__["description_html"] = description_html
        return posting

    def _parse_again(self, loaded: PostingFile) -> Posting:
        posting = files.load_file(loaded.path, self.timezone).posting
        if posting.content_hash != loaded.content_hash:
            raise InputError(
                "changed while syndicate was running; run the command again",
                file=display_path(loaded.path),
                posting_id=loaded.posting_id,
            )
        return posting


class PostingReader:
    """Reads `ShippedPosting`s back, in a worker process, from the project's build cache."""

    def __init__(self, cache_folder: Path, timezone: tzinfo) -> None:
        cache = BuildCache.open(cache_folder)
        self.timezone = timezone
        self.source = CachedSource(cache, timezone) if cache is not None else None

    def posting(self, shipped: ShippedPosting) -> Posting:
        """The posting (parsed again from its file when the cache lacks it)."""
        if self.source is None:
            return files.load_file(Path(shipped.path), self.timezone).posting
        loaded = PostingFile(
            shipped.path,
            posting_id=shipped.posting_id,
            content_hash=shipped.content_hash,
            listing=shipped.window,
            source=self.source,
        )
        return loaded.posting


def load_cached(
    paths: Sequence[str],
    timezone: tzinfo,
    cache: BuildCache,
    *,
    forget_under: Path | None,
    workers: int | None = None,
    tick: Callable[[int], None] | None = None,
) -> LoadResult:
    """`files.load_files`, skipping the files the cache knows unchanged and remembering the
    others; the cache forgets the files below ``forget_under`` that are gone (with None, it
    forgets none and reads only the entries of ``paths``: a few files loaded again).  ``tick``
    is told how many files are done."""
    result = LoadResult(cache=cache)
    source = CachedSource(cache, timezone)
    asked = None if forget_under is not None else [os.path.abspath(path) for path in paths]
    known = cache.file_entries(asked)
    zone = str(timezone)
    stale: list[_Stale] = []
    order: list[tuple[str, FileEntry | None]] = []  # each path, with its entry when fresh
    for path in paths:
        # Paths found below an absolute folder are already the cache's keys.
        entry = known.get(path) or known.get(os.path.abspath(path))
        try:
            stat: os.stat_result | None = os.stat(path)
        except OSError:
            stat = None
        if entry is not None and stat is not None and entry.fresh(stat, zone):
            order.append((path, entry))
        else:
            order.append((path, None))
            stale.append(_Stale(path, entry, stat, timezone))
    count = worker_count(workers, len(stale))
    examined: Iterator[_Examined]
    if count:
        chunks = [stale[i : i + _WORKER_FILES] for i in range(0, len(stale), _WORKER_FILES)]
        examined = itertools.chain.from_iterable(ordered_map(_examine_all, chunks, count))
    else:
        examined = map(_examine, stale)
    parsed: list[ParsedFile] = []
    touched: list[tuple[str, int, int]] = []
    for done, (path, fresh) in enumerate(order):
        if tick:
            tick(done)
        if fresh is not None:
            result.files.append(_cached_file(path, fresh, source))
            continue
        outcome = next(examined)
        if isinstance(outcome, InputError):
            result.problems.extend(outcome.problems or [outcome.as_problem()])
            result.failed[Path(path)] = outcome.posting_id
        elif isinstance(outcome, PostingFile):
            result.files.append(outcome)  # kept whole: nothing to know the file by next time
        elif isinstance(outcome, tuple):
            entry, stat_key = outcome
            touched.append(stat_key)
            result.files.append(_cached_file(path, entry, source))
        else:
            parsed.append(outcome)
            result.files.append(_cached_file(path, outcome, source))
            if len(parsed) >= _STORE_EVERY:
                cache.store_files(parsed)
                parsed.clear()
    gone: list[str] = []
    if forget_under is not None:
        prefix = os.path.abspath(forget_under) + os.sep
        seen = {path if path in known else os.path.abspath(path) for path in paths}
        gone = [path for path in known if path.startswith(prefix) and path not in seen]
    cache.store_files(parsed, forget=gone)
    cache.touch_files(touched)
    if tick:
        tick(len(order))
    files.reject_duplicate_ids(result)
    return result


class _Stale(NamedTuple):
    """A file the cache does not know unchanged by its stat: to be read (and maybe parsed)."""

    path: str
    entry: FileEntry | None
    stat: os.stat_result | None
    timezone: tzinfo


_Examined = ParsedFile | tuple[FileEntry, tuple[str, int, int]] | PostingFile | InputError


def _examine_all(stale: Sequence[_Stale]) -> list[_Examined]:
    """`_examine` for each file (what a worker process does with a chunk)."""
    return [_examine(file) for file in stale]


def _examine(file: _Stale) -> _Examined:
    """Read one file: the entry and new stat when its bytes are as the cache knows them, what
    to remember of it when they changed, the file kept whole when it has no stat, or the error
    that it does not load."""
    path, entry, stat, timezone = file
    zone = str(timezone)
    shown = display_path(Path(path))
    try:
        raw = parse.read(Path(path), shown)
        digest = hashlib.sha256(raw).hexdigest()
        unchanged = entry is not None and entry.sha256 == digest and entry.timezone == zone
        if entry is not None and unchanged and entry.status is not None and stat is not None:
            return entry, (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
        loaded = files.posting_file(Path(path), raw, timezone, shown)
    except InputError as error:
        return error
    remembered = _remember(os.path.abspath(path), stat, digest, zone, loaded)
    return loaded if remembered is None else remembered


@functools.lru_cache(maxsize=4096)  # postings share their dates; a Window is immutable
def window_of(status: str | None, date_posted: str, valid_through: str | None) -> Window:
    """When a posting is listed, from a cache entry's status and dates."""
    return Window(
        _STATUSES[status or Status.OPEN.value],
        _when(date_posted),
        _when(valid_through) if valid_through else None,
    )


def _cached_file(path: str, known: FileEntry | ParsedFile, source: CachedSource) -> PostingFile:
    """A file as the cache knows it (its entry, or what was just parsed of it): its posting
    read back from the cache when asked for."""
    return PostingFile(
        path,
        posting_id=known.posting_id,
        content_hash=known.content_hash,
        listing=window_of(known.status, known.date_posted, known.valid_through),
        source=source,
    )


def _remember(
    key: str, stat: os.stat_result | None, digest: str, zone: str, loaded: PostingFile
) -> ParsedFile | None:
    """What the cache keeps of a parsed file (None without a stat to know it by).

    The posting is kept as its own JSON, which validates back into an equal posting: every
    date and time in it is already parsed and aware, every text already cleaned.
    """
    if stat is None:
        return None
    posting = loaded.posting
    document = loaded.document
    # Keys only written as comments too, so that a cached file's problems sit where the
    # uncached file's do (`YamlDocument.line_of`).
    lines = dict(document.commented)
    lines.update({str(loc[0]): line for loc, line in document.lines.items() if len(loc) == 1})
    return ParsedFile(
        path=key,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        sha256=digest,
        timezone=zone,
        posting_id=posting.id,
        content_hash=posting.content_hash,
        status=posting.status.value,
        date_posted=posting.date_posted.isoformat(),
        valid_through=posting.valid_through.isoformat() if posting.valid_through else None,
        posting_json=posting.model_dump_json(),
        description_html=posting.description_html,
        lines=lines_json(lines, document.first_line, loaded.body_line),
    )


def _when(text: str) -> date:
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)

"""postings/**/*.md → validated `Posting`s, with every problem located at ``file:line: field``.

All files are read and all problems collected: one bad file never hides another.  A file that
fails to load is remembered in ``LoadResult.failed`` (with its id when it could be read) so that
publishing can leave what it published untouched rather than withdraw it.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pydantic import ValidationError

from syndicate.cache import (
    BuildCache,
    FileEntry,
    ParsedFile,
    lines_json,
    read_lines,
)
from syndicate.diagnostics import problems_from_validation_error
from syndicate.errors import InputError, Problem
from syndicate.model import Posting, Status, Window
from syndicate.parallel import ordered_map, worker_count
from syndicate.postings import PostingList
from syndicate.yamlsource import YamlDocument, parse_yaml

if TYPE_CHECKING:
    from syndicate.config import Settings

FRONT_MATTER_FENCE = "---"
_CLOSING_FENCES = ("---", "...")
_RECENT = 32  # postings read back from the cache that are kept, for repeated use of one
_STORE_EVERY = 2000  # parsed files remembered per cache transaction
_WORKER_FILES = 100  # files a worker process reads per task
_STATUSES = {status.value: status for status in Status}


class PostingFile:
    """A posting as loaded from its file, with the line of each front-matter key.

    Loaded with a `BuildCache`, a file keeps only its id, content hash and listing at hand; its
    `posting` is read back from the cache when asked for (and not kept), so a hundred thousand
    loaded postings take little memory.  Without one, the posting is kept as parsed.
    """

    __slots__ = ("_document", "_listing", "_path", "_posting", "_source", "content_hash",
                 "posting_id")  # fmt: skip

    def __init__(
        self,
        path: Path | str,
        posting: Posting | None = None,
        document: YamlDocument | None = None,
        body_line: int | None = None,
        *,
        posting_id: str | None = None,
        content_hash: str | None = None,
        listing: Window | None = None,
        source: _CachedSource | None = None,
    ) -> None:
        self._path = str(path)
        self._posting = posting
        self._document = (
            (document, body_line) if document is not None and body_line is not None else None
        )
        self._source = source
        if posting is not None:
            posting_id, content_hash = posting.id, posting.content_hash
            listing = posting.window
        if posting_id is None or content_hash is None or listing is None:
            raise ValueError("a PostingFile needs its posting, or its id, hash and listing")
        if document is not None and body_line is None:
            raise ValueError("a PostingFile given its document needs the line its body starts on")
        self.posting_id = posting_id
        self.content_hash = content_hash
        self._listing = listing

    @property
    def path(self) -> Path:
        return Path(self._path)

    @property
    def source_path(self) -> str:
        """The file's path as text."""
        return self._path

    @property
    def status(self) -> Status:
        """The posting's status, without reading the posting back."""
        return self._listing.status

    @property
    def valid_through(self) -> date | None:
        """The posting's ``valid_through``, without reading the posting back."""
        return self._listing.valid_through

    @property
    def window(self) -> Window:
        """When the posting is listed (status, start, end), without reading it back."""
        return self._listing

    @property
    def posting(self) -> Posting:
        """The posting: as parsed, or read back from the cache."""
        if self._posting is not None:
            return self._posting
        assert self._source is not None
        return self._source.posting(self)

    @property
    def document(self) -> YamlDocument:
        """The front matter as parsed YAML with its lines (parsed again when cached)."""
        return self._parsed()[0]

    @property
    def body_line(self) -> int:
        """The first line of the Markdown body: where ``description`` is."""
        return self._parsed()[1]

    def posting_json(self) -> str:
        """The posting as its own JSON (as the cache keeps it, when it does)."""
        if self._posting is None and self._source is not None:
            found = self._source.cache.posting_source(self.content_hash)
            if found is not None:
                return found[0]
        return self.posting.model_dump_json()

    def locate(self, problems: Iterable[Problem]) -> list[Problem]:
        """``problems`` about this posting placed at its file and the line of their field."""
        shown = display_path(self.path)
        return [
            p
            if p.file is not None
            else Problem(
                p.message,
                file=shown,
                line=self.line_of(p.field),
                field=p.field,
                target=p.target,
                posting_id=p.posting_id,
                severity=p.severity,
            )
            for p in problems
        ]

    def shipped(self) -> ShippedPosting | None:
        """What a worker process needs to read this posting back from the cache (None when
        the posting is held here, not cached)."""
        if self._posting is not None or self._source is None:
            return None
        return ShippedPosting(self._path, self.posting_id, self.content_hash, self._listing)

    def is_listed(self, now: datetime, tz: tzinfo) -> bool:
        """`Posting.is_listed`, without reading the posting back."""
        return self._listing.is_listed(now, tz)

    def line_of(self, field_name: str | None) -> int:
        """The line of a top-level field (``salary``, ``locations``) in the file."""
        if self._document is None and self._source is not None:
            found = self._source.lines(self)
            if found is not None:
                keys, first, body = found
                return _line_in(field_name, keys, first, body)
        document, body_line = self._parsed()
        if not field_name:
            return document.first_line
        head = field_name.split(".", 1)[0].split("[", 1)[0]
        if head == "description":
            return body_line
        return document.line_of((head,))

    def _parsed(self) -> tuple[YamlDocument, int]:
        if self._document is not None:
            return self._document
        text = _decode(self.path.read_bytes(), self.path)
        front_matter, _, offset = split_front_matter(text, self.path)
        return parse_yaml(front_matter, file=self.path, line_offset=offset), _body_line(text)


def _line_in(field_name: str | None, keys: dict[str, int], first: int, body: int) -> int:
    if not field_name:
        return first
    head = field_name.split(".", 1)[0].split("[", 1)[0]
    if head == "description":
        return body
    return keys.get(head, first)


class ShippedPosting(NamedTuple):
    """A cached `PostingFile` as sent to a worker process, which reads the posting itself."""

    path: str
    posting_id: str
    content_hash: str
    window: Window


class PostingReader:
    """Reads `ShippedPosting`s back, in a worker process, from the project's build cache."""

    def __init__(self, cache_folder: Path, timezone: tzinfo) -> None:
        cache = BuildCache.open(cache_folder)
        self.timezone = timezone
        self.source = _CachedSource(cache, timezone) if cache is not None else None

    def posting(self, shipped: ShippedPosting) -> Posting:
        """The posting (parsed again from its file when the cache lacks it)."""
        if self.source is None:
            return load_file(Path(shipped.path), self.timezone).posting
        loaded = PostingFile(
            shipped.path,
            posting_id=shipped.posting_id,
            content_hash=shipped.content_hash,
            listing=shipped.window,
            source=self.source,
        )
        return loaded.posting


@dataclass(slots=True)
class LoadResult:
    """Every posting that loaded, every problem found, and the files that failed."""

    files: list[PostingFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    failed: dict[Path, str | None] = field(default_factory=dict)
    cache: BuildCache | None = None

    @property
    def postings(self) -> PostingList:
        """The postings, in file order; read one at a time when they are cached."""
        return PostingList(self.files)

    def by_id(self) -> dict[str, PostingFile]:
        return {loaded.posting_id: loaded for loaded in self.files}


class _CachedSource:
    """Reads loaded postings back from the cache, keeping the last few."""

    def __init__(self, cache: BuildCache, timezone: tzinfo) -> None:
        self.cache = cache
        self.timezone = timezone
        self._recent: OrderedDict[str, Posting] = OrderedDict()

    def posting(self, loaded: PostingFile) -> Posting:
        found = self._recent.get(loaded.content_hash)
        if found is not None:
            self._recent.move_to_end(loaded.content_hash)
            return found
        posting = self._from_cache(loaded.content_hash) or self._parse_again(loaded)
        self._recent[loaded.content_hash] = posting
        if len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
        return posting

    def lines(self, loaded: PostingFile) -> tuple[dict[str, int], int, int] | None:
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
        posting = load_file(loaded.path, self.timezone).posting
        if posting.content_hash != loaded.content_hash:
            raise InputError(
                "changed while syndicate was running; run the command again",
                file=display_path(loaded.path),
                posting_id=loaded.posting_id,
            )
        return posting


def display_path(path: Path) -> Path:
    """``path`` relative to the working directory when it is below it (shorter messages)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def find_posting_files(folder: Path) -> list[Path]:
    """Every ``*.md`` below ``folder``, sorted, hidden folders skipped."""
    return [Path(name) for name in _posting_file_names(folder)]


def _posting_file_names(folder: Path) -> list[str]:
    """`find_posting_files` as text, in the same order (by path part, as paths sort)."""
    if not folder.is_dir():
        raise InputError("the postings folder does not exist", file=display_path(folder))
    found: list[str] = []
    _collect_posting_files(os.fspath(folder), found)
    return found


def _collect_posting_files(directory: str, found: list[str]) -> None:
    """Append the ``*.md`` files below ``directory`` to ``found``, depth first with the names
    of each folder sorted: the order of sorting the paths part by part.  Hidden files and
    folders are skipped, and symbolic links to folders not followed (as `os.walk` does)."""
    prefix = directory if directory.endswith(os.sep) else directory + os.sep
    with os.scandir(directory) as entries:
        listed = sorted(
            (entry.name, entry.is_dir() and not entry.is_symlink(), entry.is_dir())
            for entry in entries
            if not entry.name.startswith(".")
        )
    for name, descend, is_folder in listed:
        if descend:
            _collect_posting_files(prefix + name, found)
        elif not is_folder and name.endswith(".md"):
            found.append(prefix + name)


def load_project(settings: Settings) -> LoadResult:
    """Load the postings of a configuration, with its build cache (`Settings.cache_dir`,
    wherever the postings folder is) and its ``workers``."""
    cache = BuildCache.open(settings.cache_dir)
    return load_postings(
        settings.postings_dir, settings.timezone, cache=cache, workers=settings.workers
    )


def load_postings(
    folder: Path,
    timezone: tzinfo,
    *,
    cache: BuildCache | None = None,
    workers: int | None = None,
) -> LoadResult:
    """Load every posting file below ``folder``.

    ``cache``: the build cache to read unchanged files from and remember parsed ones in (None:
    parse every file; `load_project` gives a configuration's own).  ``workers``: the
    ``workers`` setting; with a cache, many files to parse are parsed by worker processes
    (`syndicate.parallel`).
    """
    if cache is None:
        return load_files(find_posting_files(folder), timezone)
    return _load_cached(
        _posting_file_names(folder), timezone, cache, forget_under=folder, workers=workers
    )


def load_files(paths: Iterable[Path], timezone: tzinfo) -> LoadResult:
    """Load the given posting files, then report ids used by more than one file."""
    result = LoadResult()
    for path in paths:
        shown = display_path(path)
        try:
            result.files.append(load_file(path, timezone, shown=shown))
        except InputError as error:
            result.problems.extend(error.problems or [error.as_problem()])
            result.failed[path] = error.posting_id
    _reject_duplicate_ids(result)
    return result


def _load_cached(
    paths: Sequence[str],
    timezone: tzinfo,
    cache: BuildCache,
    *,
    forget_under: Path,
    workers: int | None = None,
) -> LoadResult:
    """`load_files`, skipping the files the cache knows unchanged and remembering the others.

    A file whose size and mtime are as recorded is not read; one whose stat moved is read and
    its digest compared (a checkout touches files without changing them); only a file whose
    bytes changed is parsed.
    """
    result = LoadResult(cache=cache)
    source = _CachedSource(cache, timezone)
    known = cache.file_entries()
    zone = str(timezone)
    stale: list[_Stale] = []
    order: list[tuple[str, FileEntry | None]] = []  # each path, with its entry when fresh
    for path in paths:
        entry = known.get(os.path.abspath(path))
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
    for path, fresh in order:
        if fresh is not None:
            result.files.append(_from_entry(path, fresh, source))
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
            result.files.append(_from_entry(path, entry, source))
        else:
            parsed.append(outcome)
            result.files.append(_from_parsed(path, outcome, source))
            if len(parsed) >= _STORE_EVERY:
                cache.store_files(parsed)
                parsed.clear()
    prefix = os.path.abspath(forget_under) + os.sep
    seen = {os.path.abspath(path) for path in paths}
    gone = [path for path in known if path.startswith(prefix) and path not in seen]
    cache.store_files(parsed, forget=gone)
    cache.touch_files(touched)
    _reject_duplicate_ids(result)
    return result


class _Stale(NamedTuple):
    """A file the cache does not know unchanged by its stat: to be read (and maybe parsed)."""

    path: str
    entry: FileEntry | None
    stat: os.stat_result | None
    timezone: tzinfo


_Examined = ParsedFile | tuple[FileEntry, tuple[str, int, int]] | PostingFile | InputError


def _examine_all(files: Sequence[_Stale]) -> list[_Examined]:
    """`_examine` for each file (what a worker process does with a chunk)."""
    return [_examine(file) for file in files]


def _examine(file: _Stale) -> _Examined:
    """Read one file: the entry and new stat when its bytes are as the cache knows them, what
    to remember of it when they changed, the file kept whole when it has no stat, or the error
    that it does not load."""
    path, entry, stat, timezone = file
    zone = str(timezone)
    shown = display_path(Path(path))
    try:
        raw = _read(Path(path), shown)
        digest = hashlib.sha256(raw).hexdigest()
        unchanged = entry is not None and entry.sha256 == digest and entry.timezone == zone
        if entry is not None and unchanged and entry.status is not None and stat is not None:
            return entry, (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
        loaded = _load_bytes(Path(path), raw, timezone, shown)
    except InputError as error:
        return error
    remembered = _remember(os.path.abspath(path), stat, digest, zone, loaded)
    return loaded if remembered is None else remembered


def _window(status: str | None, date_posted: str, valid_through: str | None) -> Window:
    return Window(
        _STATUSES[status or Status.OPEN.value],
        _when(date_posted),
        _when(valid_through) if valid_through else None,
    )


def _from_parsed(path: str, parsed: ParsedFile, source: _CachedSource) -> PostingFile:
    return PostingFile(
        path,
        posting_id=parsed.posting_id,
        content_hash=parsed.content_hash,
        listing=_window(parsed.status, parsed.date_posted, parsed.valid_through),
        source=source,
    )


def _from_entry(path: str, entry: FileEntry, source: _CachedSource) -> PostingFile:
    return PostingFile(
        path,
        posting_id=entry.posting_id,
        content_hash=entry.content_hash,
        listing=_window(entry.status, entry.date_posted, entry.valid_through),
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
    lines = {str(loc[0]): line for loc, line in document.lines.items() if len(loc) == 1}
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


def load_file(path: Path, timezone: tzinfo, *, shown: Path | None = None) -> PostingFile:
    """Load one posting file; raises `InputError` listing every problem in it."""
    shown = shown or path
    return _load_bytes(path, _read(path, shown), timezone, shown)


def _read(path: Path, shown: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror}", file=shown) from None


def _load_bytes(path: Path, raw: bytes, timezone: tzinfo, shown: Path) -> PostingFile:
    text = _decode(raw, shown)
    front_matter, body, offset = split_front_matter(text, shown)
    document = parse_yaml(front_matter, file=shown, line_offset=offset)
    data = document.data
    if not isinstance(data, dict):
        raise InputError(
            "the front matter must be a mapping of fields", file=shown, line=offset + 1
        )
    posting_id = data.get("id") if isinstance(data.get("id"), str) else None
    problems = list(document.duplicates)
    if "description" in data:
        problems.append(
            Problem(
                "write the description as the Markdown body after the front matter",
                file=shown,
                line=document.line_of(("description",)),
                field="description",
                posting_id=posting_id,
            )
        )
    try:
        posting = Posting.model_validate(
            {**data, "description": body}, context={"timezone": timezone}
        )
    except ValidationError as error:
        problems.extend(_located(error, shown, document, posting_id, body_line=_body_line(text)))
        posting = None
    if problems or posting is None:
        raise InputError(
            f"{len(problems)} problem(s)", file=shown, posting_id=posting_id, problems=problems
        )
    return PostingFile(path=path, posting=posting, document=document, body_line=_body_line(text))


def _decode(raw: bytes, shown: Path) -> str:
    if not raw.strip():
        raise InputError(
            "the file is empty; a posting needs front matter and a description", file=shown, line=1
        )
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(
            f"is not UTF-8 text (byte 0x{raw[error.start]:02x}); save the file as UTF-8",
            file=shown,
            line=line,
        ) from None


def split_front_matter(text: str, shown: Path | str) -> tuple[str, str, int]:
    """``(front matter, body, lines before the front matter)`` of a posting file."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != FRONT_MATTER_FENCE:
        raise InputError(
            "no front matter: a posting starts with a line '---', its fields, then '---'",
            file=shown,
            line=1,
        )
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() in _CLOSING_FENCES:
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), 1
    raise InputError("the front matter is not closed by a '---' line", file=shown, line=1)


def _body_line(text: str) -> int:
    lines = text.splitlines()
    for index, line in enumerate(lines[1:], start=2):
        if line.rstrip() in _CLOSING_FENCES:
            return index + 1
    return len(lines)


def _located(
    error: ValidationError,
    shown: Path,
    document: YamlDocument,
    posting_id: str | None,
    *,
    body_line: int,
) -> list[Problem]:
    def line_of(loc: tuple[int | str, ...]) -> int:
        if loc and loc[0] == "description":
            return body_line
        return document.line_of(loc)

    return problems_from_validation_error(
        error, Posting, file=shown, line_of=line_of, posting_id=posting_id
    )


def _reject_duplicate_ids(result: LoadResult) -> None:
    # Ids read from files that failed to load: a valid file sharing one is a duplicate too,
    # and must be reported rather than silently dropped below.
    unloaded = {pid: path for path, pid in result.failed.items() if pid}
    first_seen: dict[str, PostingFile] = {}
    kept: list[PostingFile] = []
    for loaded in result.files:
        posting_id = loaded.posting_id
        if posting_id in unloaded:
            result.problems.append(_duplicate_id(loaded, unloaded[posting_id]))
            result.failed[loaded.path] = posting_id
        earlier = first_seen.get(posting_id)
        if earlier is None:
            first_seen[posting_id] = loaded
            kept.append(loaded)
            continue
        for this, other in ((loaded, earlier), (earlier, loaded)):
            result.problems.append(_duplicate_id(this, other.path))
        result.failed[loaded.path] = posting_id
        result.failed[earlier.path] = posting_id
    duplicated = {pid for pid in result.failed.values() if pid}
    result.files = [f for f in kept if f.posting_id not in duplicated]


def _duplicate_id(loaded: PostingFile, other_path: Path) -> Problem:
    posting_id = loaded.posting_id
    return Problem(
        f"{posting_id!r} is also the id of {display_path(other_path)}; "
        "every posting needs its own id",
        file=display_path(loaded.path),
        line=loaded.line_of("id"),
        field="id",
        posting_id=posting_id,
    )

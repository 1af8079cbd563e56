"""Loaded posting files: `PostingFile` (a posting with the line of each front-matter key),
`LoadResult` (every file of a load and every problem), and loading given files.

All files are read and all problems collected: one bad file never hides another.  An id used
by two files is a problem of both, and neither is published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from syndicate.errors import InputError, Problem
from syndicate.loading import parse
from syndicate.loading.discover import display_path
from syndicate.model import Posting, Status, Window
from syndicate.postings import PostingList
from syndicate.yamlsource import YamlDocument

if TYPE_CHECKING:
    from syndicate.cache import BuildCache


class PostingSource(Protocol):
    """Where a cached `PostingFile` reads its posting back from (`.cached.CachedSource`)."""

    def posting(self, loaded: PostingFile) -> Posting:
        """The posting of ``loaded``."""
        ...

    def posting_json(self, content_hash: str) -> str | None:
        """The posting's own JSON as kept, when it is."""
        ...

    def lines(self, loaded: PostingFile) -> tuple[dict[str, int], int, int] | None:
        """``(line of each top-level key, first line, body line)`` of ``loaded``, when kept."""
        ...


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
        source: PostingSource | None = None,
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
            found = self._source.posting_json(self.content_hash)
            if found is not None:
                return found
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
                return line_in(field_name, keys, first, body)
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
        return parse.front_matter(self.path)


def line_in(field_name: str | None, keys: dict[str, int], first: int, body: int) -> int:
    """The line of a top-level field given the lines a file's cache entry keeps
    (`syndicate.cache.read_lines`): its key's, the body's for ``description``, else the first."""
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


@dataclass(slots=True)
class LoadResult:
    """Every posting that loaded, every problem found, and the files that failed.

    A file that fails to load is remembered in ``failed`` (with its id when it could be read)
    so that publishing can leave what it published untouched rather than withdraw it.
    """

    files: list[PostingFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    failed: dict[Path, str | None] = field(default_factory=dict)
    cache: BuildCache | None = None
    # Worked out once from ``files`` when first asked for (a daemon's edits, which keep every
    # file's path and id, carry them over): the state key of each posting's file, by id
    # (`syndicate.listing`), and each file's index in ``files`` by its absolute path.
    source_keys: dict[str, str] | None = field(default=None, repr=False, compare=False)
    path_index: dict[str, int] | None = field(default=None, repr=False, compare=False)

    @property
    def postings(self) -> PostingList:
        """The postings, in file order; read one at a time when they are cached."""
        return PostingList(self.files)

    def by_id(self) -> dict[str, PostingFile]:
        return {loaded.posting_id: loaded for loaded in self.files}


def load_file(path: Path, timezone: tzinfo, *, shown: Path | None = None) -> PostingFile:
    """Load one posting file; raises `InputError` listing every problem in it."""
    shown = shown or path
    return posting_file(path, parse.read(path, shown), timezone, shown)


def posting_file(path: Path, raw: bytes, timezone: tzinfo, shown: Path) -> PostingFile:
    """The `PostingFile` of a file's bytes, kept whole (see `parse.parse_posting`)."""
    posting, document, body_line = parse.parse_posting(raw, timezone, shown)
    return PostingFile(path=path, posting=posting, document=document, body_line=body_line)


def load_files(
    paths: Sequence[Path], timezone: tzinfo, *, tick: Callable[[int], None] | None = None
) -> LoadResult:
    """Load the given posting files, then report ids used by more than one file; ``tick`` is
    told how many files are done (`syndicate.progress.ticker`)."""
    result = LoadResult()
    for done, path in enumerate(paths):
        if tick:
            tick(done)
        shown = display_path(path)
        try:
            result.files.append(load_file(path, timezone, shown=shown))
        except InputError as error:
            result.problems.extend(error.problems or [error.as_problem()])
            result.failed[path] = error.posting_id
    if tick:
        tick(len(paths))
    reject_duplicate_ids(result)
    return result


def reject_duplicate_ids(result: LoadResult) -> None:
    """Move every file whose id another file also uses from ``result.files`` to its
    ``failed``, with a problem at each of them."""
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

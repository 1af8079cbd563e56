"""postings/**/*.md → validated `Posting`s, with every problem located at ``file:line: field``.

All files are read and all problems collected: one bad file never hides another.  A file that
fails to load is remembered in ``LoadResult.failed`` (with its id when it could be read) so that
publishing can leave what it published untouched rather than withdraw it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from pydantic import ValidationError

from syndicate.diagnostics import problems_from_validation_error
from syndicate.errors import InputError, Problem
from syndicate.model import Posting
from syndicate.yamlsource import YamlDocument, parse_yaml

FRONT_MATTER_FENCE = "---"
_CLOSING_FENCES = ("---", "...")


@dataclass(slots=True)
class PostingFile:
    """A posting as loaded from its file, with the line of each front-matter key."""

    path: Path
    posting: Posting
    document: YamlDocument
    body_line: int  # the first line of the Markdown body: where ``description`` is

    def line_of(self, field_name: str | None) -> int:
        """The line of a top-level field (``salary``, ``locations``) in the file."""
        if not field_name:
            return self.document.first_line
        head = field_name.split(".", 1)[0].split("[", 1)[0]
        if head == "description":
            return self.body_line
        return self.document.line_of((head,))


@dataclass(slots=True)
class LoadResult:
    """Every posting that loaded, every problem found, and the files that failed."""

    files: list[PostingFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    failed: dict[Path, str | None] = field(default_factory=dict)

    @property
    def postings(self) -> list[Posting]:
        return [loaded.posting for loaded in self.files]

    def by_id(self) -> dict[str, PostingFile]:
        return {loaded.posting.id: loaded for loaded in self.files}


def display_path(path: Path) -> Path:
    """``path`` relative to the working directory when it is below it (shorter messages)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def find_posting_files(folder: Path) -> list[Path]:
    """Every ``*.md`` below ``folder``, sorted, hidden folders skipped."""
    if not folder.is_dir():
        raise InputError("the postings folder does not exist", file=display_path(folder))
    found: list[Path] = []
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        found.extend(Path(directory, n) for n in names if n.endswith(".md") and n[0] != ".")
    return sorted(found)


def load_postings(folder: Path, timezone: tzinfo) -> LoadResult:
    """Load every posting file below ``folder``."""
    return load_files(find_posting_files(folder), timezone)


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


def load_file(path: Path, timezone: tzinfo, *, shown: Path | None = None) -> PostingFile:
    """Load one posting file; raises `InputError` listing every problem in it."""
    shown = shown or path
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror}", file=shown) from None
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
        posting_id = loaded.posting.id
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
    result.files = [f for f in kept if f.posting.id not in duplicated]


def _duplicate_id(loaded: PostingFile, other_path: Path) -> Problem:
    posting_id = loaded.posting.id
    return Problem(
        f"{posting_id!r} is also the id of {display_path(other_path)}; "
        "every posting needs its own id",
        file=display_path(loaded.path),
        line=loaded.line_of("id"),
        field="id",
        posting_id=posting_id,
    )

"""One posting file's bytes → a validated `Posting`, every problem located at its line.

A posting file is UTF-8 text: YAML front matter between ``---`` lines, then the description as
a Markdown body.  Every problem of a file is collected into one `InputError`: duplicate keys, a
``description`` key written in the front matter, and each field the model refuses, at the line
of its key (the body's first line for the description).
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import NamedTuple

from pydantic import ValidationError

from syndicate.diagnostics import problems_from_validation_error
from syndicate.errors import InputError, Problem
from syndicate.model import Posting
from syndicate.yamlsource import YamlDocument, parse_yaml

FRONT_MATTER_FENCE = "---"
_CLOSING_FENCES = ("---", "...")


class ParsedPosting(NamedTuple):
    """A posting as parsed from its file: the posting, its front matter with the line of every
    key, and the line its body starts on."""

    posting: Posting
    document: YamlDocument
    body_line: int


def read(path: Path, shown: Path) -> bytes:
    """The file's bytes; an `InputError` at ``shown`` when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror}", file=shown) from None


def parse_posting(raw: bytes, timezone: tzinfo, shown: Path) -> ParsedPosting:
    """The posting of a file's bytes; raises `InputError` listing every problem in it."""
    text = decode(raw, shown)
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
    first_body_line = body_line(text)
    try:
        posting = Posting.model_validate(
            {**data, "description": body}, context={"timezone": timezone}
        )
    except ValidationError as error:
        problems.extend(_located(error, shown, document, posting_id, body_line=first_body_line))
        posting = None
    if problems or posting is None:
        raise InputError(
            f"{len(problems)} problem(s)", file=shown, posting_id=posting_id, problems=problems
        )
    return ParsedPosting(posting, document, first_body_line)


def front_matter(path: Path) -> tuple[YamlDocument, int]:
    """A posting file's front matter as parsed YAML, and the line its body starts on."""
    text = decode(path.read_bytes(), path)
    yaml_text, _, offset = split_front_matter(text, path)
    return parse_yaml(yaml_text, file=path, line_offset=offset), body_line(text)


def decode(raw: bytes, shown: Path) -> str:
    """The file's text: UTF-8 without a byte order mark, never empty."""
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


def body_line(text: str) -> int:
    """The first line of a posting file's Markdown body."""
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

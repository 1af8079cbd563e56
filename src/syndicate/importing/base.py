"""What every importer is, and the `Draft` each one produces.

An importer is a small class in its own module with its identity as class attributes: ``name``
(the ``--format`` value), ``summary``, ``recognises(source)`` (used by detection, cheap and
conservative) and ``read(source)``, which turns one file into one or more drafts.

A `Draft` holds what the source states, under the canonical posting's own field names and in
the form a posting file holds them (``locations`` as mappings, dates as dates), plus the
description as blocks.  It is deliberately allowed to be incomplete: a field the source does
not state stays empty, and the report says what a person still has to fill in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from syndicate.errors import Problem, Severity
from syndicate.importing.blocks import Block, Line, lines, to_markdown
from syndicate.importing.sources import SourceFile
from syndicate.model import Posting

_EMPTY: tuple[Any, ...] = (None, "", [], {}, ())


@dataclass(slots=True)
class Draft:
    """One posting read from a source, before it is written as a posting file."""

    source: Path
    format: str
    line: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    # The source's own identifier for the job, as written there (None: it has none).
    source_id: str | None = None
    # The job's own page on the source: not a way to apply, but where a person can look one up.
    page_url: str | None = None
    # For sources that are posting files already: nothing is read from their text, and their
    # Markdown is kept exactly as written.
    read_facts: bool = True
    markdown: str | None = None
    # Values a person should choose from, written as commented lines in place of the field.
    offers: dict[str, Any] = field(default_factory=dict)

    def set(self, name: str, value: Any) -> None:
        """Set a posting field; an empty value leaves the field unset."""
        if name not in Posting.model_fields:
            raise KeyError(f"{name!r} is not a posting field")
        if name != "description":
            value = _one_line(value)
        if value in _EMPTY:
            self.fields.pop(name, None)
        else:
            self.fields[name] = value

    def fill(self, name: str, value: Any) -> bool:
        """Set a field only if the draft has no value for it yet; True when it was set."""
        if self.has(name) or value in _EMPTY:
            return False
        self.set(name, value)
        return True

    def offer(self, name: str, value: Any) -> None:
        """Offer ``value`` for a field the source leaves unsure: written commented out."""
        if name not in Posting.model_fields:
            raise KeyError(f"{name!r} is not a posting field")
        self.offers[name] = _one_line(value)

    def has(self, name: str) -> bool:
        return self.fields.get(name) not in _EMPTY

    def note(self, message: str, field_name: str | None = None, *, line: int | None = None) -> None:
        """Something a person should know about this draft (shown in the report and the file)."""
        problem = Problem(
            message,
            file=self.source,
            line=line or self.line,
            field=field_name,
            severity=Severity.WARNING,
        )
        if problem not in self.notes:
            self.notes.append(problem)

    def lines(self) -> list[Line]:
        """The description as plain lines with their sections, for reading facts."""
        return lines(self.blocks)

    def description(self) -> str:
        """The description as Markdown."""
        return self.markdown if self.markdown is not None else to_markdown(self.blocks)


def _one_line(value: Any) -> Any:
    """Text of every field but the description on one line, whitespace collapsed (a newline in
    a source's title must not reach the front matter), inside mappings and lists too."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {key: _one_line(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_one_line(item) for item in value]
    return value


class Importer(ABC):
    """Base of every importer: subclasses set the class attributes and implement ``read``."""

    name: ClassVar[str]
    summary: ClassVar[str]

    @classmethod
    @abstractmethod
    def recognises(cls, source: SourceFile) -> bool:
        """Whether ``source`` is in this format (used when ``--format`` is not given)."""

    @abstractmethod
    def read(self, source: SourceFile) -> list[Draft]:
        """The postings in ``source``; raises `InputError` when the file cannot be used."""

    def draft(self, source: SourceFile, *, line: int | None = None) -> Draft:
        """A new, empty draft of this format for ``source``."""
        return Draft(source=source.shown, format=self.name, line=line)

"""The import report: per source, the postings written, the fields filled, and what the posting
model and each enabled target still need before they will publish it (the problems
``syndicate validate`` would print, located in the written file).

A draft that misses required fields is checked against the targets as if those fields were
filled (with neutral stand-ins), so that the report lists everything left to do at once rather
than one round at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syndicate.adapters import create_targets
from syndicate.config import Settings
from syndicate.diagnostics import Loc, problems_from_validation_error
from syndicate.errors import Problem, Severity
from syndicate.importing.writer import PostingText
from syndicate.loading import split_front_matter
from syndicate.model import Posting
from syndicate.yamlsource import parse_yaml

# What stands in for a required field the source did not state, to run the targets' checks.
_STAND_INS: dict[str, Any] = {
    "id": "imported",
    "title": "Imported posting",
    "date_posted": date(2000, 1, 1),
    "apply": {"url": "https://example.invalid/apply"},
    "description": "Imported posting.",
}


@dataclass(slots=True)
class PostingResult:
    """One posting of a source: where it goes, what happened, what it has and still needs."""

    id: str
    title: str | None
    path: Path
    action: str  # written | overwritten | unchanged | would write | refused
    filled: list[str]
    needs: list[Problem]
    notes: list[Problem]
    problem: Problem | None = None  # why it was not written (refused), if it was not
    # The posting's fields as written (posting-file form); not part of the JSON report.
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "file": str(self.path),
            "action": self.action,
            "filled": self.filled,
            "needs": [problem.to_dict() for problem in self.needs],
            "notes": [problem.to_dict() for problem in self.notes],
            "error": self.problem.to_dict() if self.problem else None,
        }


@dataclass(slots=True)
class SourceResult:
    """One source file: its format and postings, or why it was not imported."""

    path: Path
    format: str | None = None
    postings: list[PostingResult] = field(default_factory=list)
    problem: Problem | None = None
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "format": self.format,
            "postings": [posting.to_dict() for posting in self.postings],
            "error": self.problem.to_dict() if self.problem else None,
            "skipped": self.skipped,
        }


@dataclass(slots=True)
class ImportReport:
    """Everything one ``syndicate import`` did."""

    sources: list[SourceResult] = field(default_factory=list)
    targets_checked: list[str] = field(default_factory=list)

    @property
    def postings(self) -> list[PostingResult]:
        return [posting for source in self.sources for posting in source.postings]

    @property
    def failed(self) -> list[SourceResult]:
        return [source for source in self.sources if source.problem is not None]

    def summary(self) -> dict[str, int]:
        postings = self.postings
        return {
            "files": sum(source.skipped is None for source in self.sources),
            "failed": len(self.failed),
            "skipped": sum(source.skipped is not None for source in self.sources),
            "postings": len(postings),
            "written": sum(p.action in ("written", "overwritten") for p in postings),
            "unchanged": sum(p.action == "unchanged" for p in postings),
            "would_write": sum(p.action == "would write" for p in postings),
            "refused": sum(p.action == "refused" for p in postings),
            "needs": sum(1 for p in postings for n in p.needs if n.severity is Severity.ERROR),
        }

    @property
    def ok(self) -> bool:
        summary = self.summary()
        return not summary["failed"] and not summary["refused"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": [source.to_dict() for source in self.sources],
            "targets_checked": self.targets_checked,
            "summary": self.summary(),
        }


def filled_fields(fields: dict[str, Any]) -> list[str]:
    """The posting fields that have a value, in the model's order."""
    return [name for name in Posting.model_fields if fields.get(name) not in (None, "", [], {})]


def needs(
    fields: dict[str, Any], written: PostingText, path: Path, settings: Settings | None
) -> list[Problem]:
    """What the model and every enabled target still need, located in the written file."""
    timezone = settings.timezone if settings else UTC
    context = {"timezone": timezone}
    posting_id = fields.get("id") if isinstance(fields.get("id"), str) else None

    # Lines as `syndicate validate` finds them in the written file, so that both say the same.
    line_of = _line_finder(written, path)

    def located(error: ValidationError) -> list[Problem]:
        return problems_from_validation_error(
            error, Posting, file=path, line_of=line_of, posting_id=posting_id
        )

    problems: list[Problem] = []
    posting: Posting | None = None
    try:
        posting = Posting.model_validate(fields, context=context)
    except ValidationError as error:
        problems.extend(located(error))
        # Pydantic stops before the checks across fields (an onsite job needs a location) when
        # a field is missing: check again with stand-ins for the missing fields.
        completed = {**_STAND_INS, **{k: v for k, v in fields.items() if v not in (None, "")}}
        try:
            posting = Posting.model_validate(completed, context=context)
        except ValidationError as again:
            reported = {problem.field for problem in problems}
            problems.extend(p for p in located(again) if p.field not in reported)
    if posting is None or settings is None:
        return problems
    for target in create_targets(settings):
        if not target.options.enabled:
            continue
        for problem in target.rules(posting):
            if problem.severity is Severity.OMIT:
                break  # the posting opts out of this target: it needs nothing for it
            problems.append(
                Problem(
                    problem.message,
                    file=path,
                    line=line_of((problem.field.split(".", 1)[0].split("[", 1)[0],))
                    if problem.field
                    else 1,
                    field=problem.field,
                    target=problem.target,
                    posting_id=posting_id,
                    severity=problem.severity,
                )
            )
    return problems


def located_note(note: Problem, written: PostingText, path: Path) -> Problem:
    """A draft's note as a warning of the report, at the line of its field in the file."""
    line_of = _line_finder(written, path)
    return Problem(
        note.message,
        file=path,
        line=line_of((note.field,)) if note.field else 1,
        field=note.field,
        severity=Severity.WARNING,
    )


def _line_finder(written: PostingText, path: Path) -> Callable[[Loc], int]:
    """The line of a field's location in the written file, found the way loading finds it."""
    front, _, offset = split_front_matter(written.text, path)
    document = parse_yaml(front, file=path, line_offset=offset)

    def line_of(loc: Loc) -> int:
        if loc and loc[0] == "description":
            return written.body_line
        return document.line_of(loc)

    return line_of

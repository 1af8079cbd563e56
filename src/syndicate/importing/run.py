"""``syndicate import`` without the command line: sources in, posting files and a report out.

For every file: read it (size limit, decoding), choose its importer, read its drafts; then for
every draft: fill what the description states plainly (`facts.complete`), give it an id, write
its posting file (never over an existing one without ``force``) and report what it still
needs.  A file that fails is reported and the others go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from syndicate.config import Settings
from syndicate.errors import InputError, Problem
from syndicate.importing import facts, ids
from syndicate.importing.base import Draft
from syndicate.importing.detect import importer_for
from syndicate.importing.report import (
    ImportReport,
    PostingResult,
    SourceResult,
    filled_fields,
    located_note,
    needs,
)
from syndicate.importing.sources import MAX_INPUT_BYTES, find_sources, read_source
from syndicate.importing.writer import (
    existing_ids,
    posting_text,
    replace_file,
    required_fields,
    write_new,
)
from syndicate.loading import display_path


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to import: where to write, which format, what may be overwritten."""

    out: Path = Path("postings")
    format: str | None = None
    force: bool = False
    dry_run: bool = False
    # The employer, stated by the user for sources that do not name it (a Jekyll site).
    company: str | None = None
    # The configuration: its organization names postings' ids when the source names no
    # employer, and its enabled targets are checked.
    settings: Settings | None = None
    max_bytes: int = MAX_INPUT_BYTES


@dataclass(slots=True)
class _Run:
    options: ImportOptions
    existing: dict[str, Path]
    taken: set[str] = field(default_factory=set)


def import_sources(paths: Sequence[Path], options: ImportOptions) -> ImportReport:
    """Import every file given or found under the folders given."""
    found = find_sources(paths, exclude=options.out)
    report = ImportReport()
    if options.settings is not None:
        report.targets_checked = [
            name for name, target in options.settings.targets.items() if target.enabled
        ]
    for path in found.missing:
        shown = display_path(path)
        report.sources.append(SourceResult(shown, problem=Problem("does not exist", file=shown)))
    run = _Run(options, existing_ids(options.out))
    for path in found.files:
        report.sources.append(_import_file(path, run))
    for path, reason in found.skipped:
        report.sources.append(SourceResult(display_path(path), skipped=reason))
    return report


def _import_file(path: Path, run: _Run) -> SourceResult:
    shown = display_path(path)
    result = SourceResult(shown)
    try:
        source = read_source(path, max_bytes=run.options.max_bytes)
        importer = importer_for(source, run.options.format)
        result.format = importer.name
        drafts = importer.read(source)
    except InputError as error:
        result.problem = error.as_problem()
        return result
    except RecursionError:
        result.problem = Problem("is nested too deeply to be read", file=shown)
        return result
    if not drafts:
        result.problem = Problem("holds no posting", file=shown)
    for draft in drafts:
        result.postings.append(_finish(draft, run))
    return result


def _finish(draft: Draft, run: _Run) -> PostingResult:
    options = run.options
    if draft.read_facts:
        facts.complete(draft)
    if options.company:
        draft.fill("company", options.company)
    borrowed = _company_from_config(draft, options.settings)
    draft.set("description", draft.description())
    posting_id = _assign_id(draft, run)
    if not draft.has("apply") and draft.page_url:
        draft.note(
            f"the source links the job's page {draft.page_url}; if candidates apply there, "
            "make it apply.url",
            "apply",
        )
    path = run.existing.get(posting_id) or options.out / f"{posting_id}.md"
    shown = display_path(path)
    header = [f"Imported by `syndicate import` from {draft.source} ({draft.format})."]
    missing = [name for name in required_fields() if not draft.has(name)]
    if missing:
        header.append(f"Not stated by the source, to fill in: {', '.join(missing)}.")
    written = posting_text(draft, header)
    action, refusal = _write(path, written.text, options)
    needed = needs(draft.fields, written, shown, options.settings)
    if borrowed is not None:
        needed.insert(0, located_note(borrowed, written, shown))
    return PostingResult(
        id=posting_id,
        title=draft.fields.get("title"),
        path=shown,
        action=action,
        filled=filled_fields(draft.fields),
        needs=needed,
        notes=list(draft.notes),
        problem=refusal,
        fields=dict(draft.fields),
    )


def _company_from_config(draft: Draft, settings: Settings | None) -> Problem | None:
    """The note that the posting goes out under the configuration's organization, because
    the source names no employer (the report flags it: the source may be another's)."""
    if draft.has("company") or settings is None:
        return None
    organization = settings.organization.name
    draft.note(
        f"the source names no employer, so the posting goes out as {organization}'s (the "
        "configuration's organization); set company if the job is another employer's",
        "company",
    )
    return draft.notes[-1]


def _assign_id(draft: Draft, run: _Run) -> str:
    candidates: list[str] = []
    if draft.source_id:
        from_source = ids.from_source(draft.source_id)
        if from_source and from_source != draft.source_id:
            draft.note(f"the source's id {draft.source_id!r} became {from_source!r}", "id")
        if from_source:
            candidates.append(from_source)
    if not candidates:
        company = draft.fields.get("company") or (
            run.options.settings.organization.name if run.options.settings else None
        )
        title = str(draft.fields.get("title") or "") or ids.slug(draft.source.stem)
        candidates = [
            ids.from_title(company, title),
            ids.from_title(company, title, qualified=True),
        ]
    chosen = next((c for c in candidates if c not in run.taken), None)
    if chosen is None:
        base = candidates[0]
        number = 2
        while f"{base}-{number}" in run.taken:
            number += 1
        chosen = f"{base}-{number}"
        draft.note(f"another posting of this import has the id {base!r}; this one is {chosen!r}")
    run.taken.add(chosen)
    draft.set("id", chosen)
    return chosen


def _write(path: Path, text: str, options: ImportOptions) -> tuple[str, Problem | None]:
    shown = display_path(path)
    exists = path.exists()
    if exists and not options.force:
        refusal = Problem("already exists; not overwritten (use --force to replace it)", file=shown)
        return ("refused", refusal)
    if options.dry_run:
        return ("would write", None)
    try:
        if exists:
            return ("overwritten" if replace_file(path, text) else "unchanged", None)
        write_new(path, text)
    except FileExistsError:
        return ("refused", Problem("appeared while importing; not overwritten", file=shown))
    except OSError as error:
        return ("refused", Problem(f"cannot be written: {error.strerror or error}", file=shown))
    return ("written", None)

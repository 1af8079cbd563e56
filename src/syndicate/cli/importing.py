"""``syndicate import``: existing postings (Jekyll pages, text exports, job-board HTML, Indeed
feeds, JSON-LD, Greenhouse and Lever JSON) into posting files, with a report of what is left."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from syndicate.cli import tables
from syndicate.cli.base import EXIT_INVALID, EXIT_OK, Runtime, app, runtime_of
from syndicate.cli.group import Command
from syndicate.cli.problems import problem_order
from syndicate.config import Settings
from syndicate.errors import Severity
from syndicate.importing import FORMATS, ImportOptions, ImportReport, import_sources
from syndicate.importing.report import PostingResult


@app.command("import", cls=Command)
def import_command(
    ctx: typer.Context,
    sources: Annotated[
        list[Path],
        typer.Argument(metavar="SRC", help="Files or folders to import (folders: every file)."),
    ],
    source_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help=f"The sources' format: {', '.join(FORMATS)}. Detected from each file when "
            "not given.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Folder for the posting files (default: the config's postings)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace posting files that already exist.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Report what would be written; write nothing.")
    ] = False,
    company: Annotated[
        str | None,
        typer.Option("--company", help="The employer, for sources that do not name it."),
    ] = None,
    report_format: Annotated[
        str, typer.Option("--report", help="How to print the report: text or json.")
    ] = "text",
) -> None:
    """Turn existing postings into posting files, and report what each still needs.

    Facts only: what a source does not state stays empty and is reported.  Existing files are
    never replaced without --force.  Exits 1 when a file could not be imported or a posting
    file was not written.

    [b]Example[/b]: syndicate import old-site/_jobs/ export.xml --dry-run
    """
    runtime = runtime_of(ctx)
    if source_format is not None and source_format not in FORMATS:
        raise typer.BadParameter(
            f"{source_format!r}: use one of {', '.join(FORMATS)}", param_hint="--format"
        )
    if report_format not in {"text", "json"}:
        raise typer.BadParameter(f"{report_format!r}: use text or json", param_hint="--report")
    settings = _settings(runtime)
    folder = out or (settings.postings_dir if settings else Path("postings"))
    options = ImportOptions(
        out=folder,
        format=source_format,
        force=force,
        dry_run=dry_run,
        company=company,
        settings=settings,
    )
    report = import_sources(sources, options)
    if report_format == "json":
        runtime.print_json("import", report.to_dict())
    else:
        _print(runtime, report, settings)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_INVALID)


def _settings(runtime: Runtime) -> Settings | None:
    """The configuration when there is one: import works without it, minus the target checks."""
    if not runtime.config_path.exists():
        return None
    return runtime.settings()


def _print(runtime: Runtime, report: ImportReport, settings: Settings | None) -> None:
    for source in report.sources:
        if source.problem is not None:
            runtime.problem(source.problem)
        for posting in source.postings:
            if posting.problem is not None:
                runtime.problem(posting.problem)
    if runtime.verbosity < 0:
        return
    table = tables.table(
        "import", "source", "format", "posting", "file", "result", "filled", "still needed"
    )
    for source in report.sources:
        if source.skipped and runtime.verbosity <= 0:
            continue
        if not source.postings:
            result = f"skipped: {source.skipped}" if source.skipped else "failed"
            table.add_row(escape(str(source.path)), source.format or "", "", "", result, "", "")
        for posting in source.postings:
            table.add_row(
                escape(str(source.path)),
                source.format or "",
                escape(posting.id),
                escape(str(posting.path)),
                posting.action,
                ", ".join(posting.filled),
                escape(_still_needed(posting)),
            )
    runtime.out.print(table)
    todo = sorted((need for p in report.postings for need in p.needs), key=problem_order)
    if todo:
        runtime.say("still to do before publishing:")
        for need in todo:
            style = "yellow" if need.severity is Severity.WARNING else None
            runtime.say(escape(f"  {need}"), style=style)
    if settings is None:
        runtime.say("no config.yaml here: the targets' rules were not checked", style="yellow")
    summary = report.summary()
    verb = "would write" if summary["would_write"] else "written"
    runtime.say(
        f"{summary['postings']} posting(s) from {summary['files']} file(s): "
        f"{summary['written'] + summary['would_write']} {verb}, {summary['unchanged']} unchanged, "
        f"{summary['refused']} not overwritten; {summary['failed']} file(s) failed; "
        f"{summary['needs']} error(s) to resolve before publishing",
        style="red" if not report.ok else "green",
    )


def _still_needed(posting: PostingResult) -> str:
    """``date_posted, apply, applicant_locations (indeed, jsonld)`` for the table: each field
    with an error, and the targets that need it when the model itself does not."""
    targets: dict[str, list[str]] = {}
    for need in posting.needs:
        if need.severity is Severity.ERROR and need.field is not None:
            names = targets.setdefault(need.field.split("[", 1)[0], [])
            if need.target is None:
                names.insert(0, "")
            elif need.target not in names:
                names.append(need.target)
    return (
        ", ".join(
            field if "" in names else f"{field} ({', '.join(names)})"
            for field, names in targets.items()
        )
        or "nothing"
    )

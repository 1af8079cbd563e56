"""Commands that read postings and drive the boards: validate, build, preview, publish, status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from syndicate.adapters import RenderContext, create_targets
from syndicate.build import BuildReport, build
from syndicate.cli.base import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_QUEUED,
    Runtime,
    app,
    check_format,
    check_target_name,
    problem_order,
    runtime_of,
)
from syndicate.config import Settings
from syndicate.errors import Problem, Severity, SyndicateError
from syndicate.loading import LoadResult, PostingFile, display_path, load_postings
from syndicate.publish import PublishReport, publish, push_targets
from syndicate.secret import mask
from syndicate.state import StateStore
from syndicate.status import status_rows, status_summary

# ---------------------------------------------------------------------------------------- init


@app.command()
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder to set up.")] = Path("."),
) -> None:
    """Write a commented config.yaml and postings/ with one example posting.

    Refuses to overwrite anything that exists.

    [b]Example[/b]: syndicate init careers && cd careers && syndicate validate
    """
    runtime = runtime_of(ctx)
    scaffold = resources.files("syndicate") / "templates" / "init"
    planned = {
        directory / "config.yaml": scaffold / "config.yaml",
        directory / "postings" / "example.md": scaffold / "example.md",
    }
    existing = [path for path in planned if path.exists()]
    if existing:
        for path in existing:
            runtime.problem(Problem("already exists; not overwritten", file=path))
        raise typer.Exit(EXIT_INVALID)
    for path, source in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source.read_text("utf-8"), encoding="utf-8")
        runtime.say(f"wrote {path}")
    runtime.say("next: edit the files, then run `syndicate validate`", style="green")


# ------------------------------------------------------------------------------------ validate


@app.command()
def validate(
    ctx: typer.Context,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="text or json.", show_default=True)
    ] = "text",
) -> None:
    """Check every posting, and every enabled target's rules for it.

    Prints one line per problem, [i]file:line: field: message \\[target][/i], then a summary.
    Exits 1 when any posting has an error.

    [b]Example[/b]: syndicate validate --format json
    """
    runtime = runtime_of(ctx)
    check_format(output_format)
    settings = runtime.settings()
    loaded = load_postings(settings.postings_dir, settings.timezone, workers=settings.workers)
    problems = list(loaded.problems)
    for target in create_targets(settings):
        if target.options.enabled:
            for posting_file in loaded.files:
                problems.extend(_located(posting_file, target.check(posting_file.posting)))
    invalid = {str(p.file) for p in problems if p.severity is Severity.ERROR}
    valid = [f for f in loaded.files if str(display_path(f.path)) not in invalid]
    summary = _validate_summary(loaded, valid, problems)
    if output_format == "json":
        runtime.out.print_json(
            mask(
                json.dumps(
                    {
                        "valid": [
                            {"id": f.posting.id, "file": str(display_path(f.path))} for f in valid
                        ],
                        "problems": [p.to_dict() for p in problems],
                        "summary": summary,
                    }
                )
            )
        )
    else:
        for problem in sorted(problems, key=problem_order):
            runtime.problem(problem)
        if runtime.verbosity > 0:
            for posting_file in valid:
                runtime.say(f"ok {display_path(posting_file.path)} ({posting_file.posting.id})")
        runtime.say(_summary_line(summary), style="red" if summary["errors"] else "green")
    raise typer.Exit(EXIT_INVALID if summary["errors"] else EXIT_OK)


def _located(posting_file: PostingFile, problems: list[Problem]) -> list[Problem]:
    """Target problems placed at the file and line of the field they are about."""
    return [
        Problem(
            p.message,
            file=display_path(posting_file.path),
            line=posting_file.line_of(p.field),
            field=p.field,
            target=p.target,
            posting_id=p.posting_id,
            severity=p.severity,
        )
        for p in problems
    ]


def _validate_summary(
    loaded: LoadResult, valid: list[PostingFile], problems: list[Problem]
) -> dict[str, int]:
    files = len(loaded.files) + len(loaded.failed)
    return {
        "files": files,
        "valid": len(valid),
        "invalid": files - len(valid),
        "errors": sum(p.severity is Severity.ERROR for p in problems),
        "warnings": sum(p.severity is Severity.WARNING for p in problems),
    }


def _summary_line(summary: dict[str, int]) -> str:
    return (
        f"{summary['files']} posting file(s): {summary['valid']} valid, "
        f"{summary['invalid']} invalid; {summary['errors']} error(s), "
        f"{summary['warnings']} warning(s)"
    )


# --------------------------------------------------------------------------------------- build


@app.command("build")
def build_command(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Option("--target", "-t", help="Only this target.")] = None,
) -> None:
    """Render every enabled pull target (feeds, careers site) into the output folder.

    Files are replaced atomically: a reader sees the old version or the new one, never a mix.
    A posting that breaks a target's rules is left out of that target only (exit 1).

    [b]Example[/b]: syndicate build && ls feeds/
    """
    runtime = runtime_of(ctx)
    settings = runtime.settings()
    loaded = load_postings(settings.postings_dir, settings.timezone, workers=settings.workers)
    check_target_name(settings, target, pull_only=True)
    for problem in loaded.problems:
        runtime.problem(problem)
    report = _build_with_progress(runtime, settings, loaded, target)
    _print_build(runtime, report, loaded)
    failed = loaded.problems or not report.ok
    raise typer.Exit(EXIT_INVALID if failed else EXIT_OK)


def _build_with_progress(
    runtime: Runtime, settings: Settings, loaded: LoadResult, only: str | None
) -> BuildReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=runtime.err, disable=runtime.verbosity < 0) as bar:
        tasks: dict[str, object] = {}

        def advance(name: str, done: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"rendering {name}", total=None)
            bar.update(tasks[name], completed=done)  # type: ignore[arg-type]

        return build(settings, loaded.postings, only=only, progress=advance)


def _print_build(runtime: Runtime, report: BuildReport, loaded: LoadResult) -> None:
    by_file = loaded.by_id()
    for target in report.targets:
        for problem in target.left_out:
            located = by_file.get(problem.posting_id or "")
            runtime.problem(_located(located, [problem])[0] if located else problem)
    table = Table(title="build", title_justify="left")
    for column in ("target", "included", "left out", "files", "changed", "note"):
        table.add_column(column)
    for target in report.targets:
        left_out = {p.posting_id for p in target.left_out if p.severity is Severity.ERROR}
        table.add_row(
            target.name,
            str(target.included),
            str(len(left_out)),
            str(len(target.files)),
            str(target.changed),
            escape(target.disabled or _reasons(target.left_out)),
        )
    if runtime.verbosity >= 0:
        runtime.out.print(table)


def _reasons(problems: list[Problem]) -> str:
    errors = sorted({p.message for p in problems if p.severity is Severity.ERROR})
    return "; ".join(errors[:3]) + (" …" if len(errors) > 3 else "")


# ------------------------------------------------------------------------------------- preview


@app.command()
def preview(
    ctx: typer.Context,
    posting_id: Annotated[str, typer.Argument(metavar="ID", help="The posting's id.")],
    target: Annotated[str, typer.Option("--target", "-t", help="A configured target name.")],
) -> None:
    """Print one posting as one target would receive it.

    [b]Example[/b]: syndicate preview sixsq-sales-manager --target indeed
    """
    runtime = runtime_of(ctx)
    settings = runtime.settings()
    check_target_name(settings, target)
    loaded = load_postings(settings.postings_dir, settings.timezone, workers=settings.workers)
    found = loaded.by_id().get(posting_id)
    if found is None:
        for problem in loaded.problems:
            if problem.posting_id == posting_id:
                runtime.problem(problem)
        known = ", ".join(sorted(loaded.by_id())) or "none"
        raise SyndicateError(f"no posting with id {posting_id!r} loaded (ids: {known})")
    chosen = next(t for t in create_targets(settings) if t.name == target)
    for problem in _located(found, chosen.check(found.posting)):
        runtime.problem(problem)
    context = RenderContext(settings=settings, build_time=datetime.now(UTC))
    runtime.out.print(mask(chosen.preview(found.posting, context)), markup=False, highlight=False)


# ------------------------------------------------------------------------------------- publish


@app.command("publish")
def publish_command(
    ctx: typer.Context,
    plan: Annotated[
        bool, typer.Option("--plan", help="Print what would happen; change nothing.")
    ] = False,
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="Only this push target.")
    ] = None,
    posting: Annotated[
        list[str] | None, typer.Option("--posting", "-p", help="Only this posting (repeatable).")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for another publish to finish.")
    ] = False,
) -> None:
    """Build, then bring every push target to the postings: create, update, close.

    The plan is recorded before anything is pushed; failures are retried, and what still fails is
    queued (exit 3).  Push targets whose secret variable is unset are skipped as disabled.

    [b]Example[/b]: syndicate publish --plan && syndicate publish
    """
    runtime = runtime_of(ctx)
    check_format(output_format)
    settings = runtime.settings()
    check_target_name(settings, target, push_only=True)
    loaded = load_postings(settings.postings_dir, settings.timezone, workers=settings.workers)
    for problem in loaded.problems:
        runtime.problem(problem)
    with StateStore(settings.state_url) as store:
        report = publish(
            settings,
            loaded,
            store,
            plan_only=plan,
            only_target=target,
            posting_ids=set(posting) if posting else None,
            wait_for_lock=wait,
        )
    for problem in report.plan.kept:
        runtime.problem(_locate_by_id(loaded, problem))
    if output_format == "json":
        runtime.out.print_json(mask(json.dumps(_publish_json(report))))
    else:
        _print_publish(runtime, report, loaded, any_ready=bool(push_targets(settings, target)[0]))
    if loaded.problems or (report.build and not report.build.ok) or report.failed:
        raise typer.Exit(EXIT_INVALID)
    raise typer.Exit(EXIT_QUEUED if report.queued else EXIT_OK)


def _locate_by_id(loaded: LoadResult, problem: Problem) -> Problem:
    found = loaded.by_id().get(problem.posting_id or "")
    return _located(found, [problem])[0] if found and problem.file is None else problem


def _publish_json(report: PublishReport) -> dict[str, object]:
    return {
        "plan": [
            {
                "target": op.target,
                "operation": str(op.kind),
                "posting": op.posting_id,
                "reason": str(op.reason),
            }
            for op in report.plan.operations
        ],
        "cancelled": [{"posting": p, "target": t} for p, t in report.plan.cancel],
        "kept": [p.to_dict() for p in report.plan.kept],
        "disabled": report.disabled,
        "targets": {
            name: {
                "sent": r.sent,
                "succeeded": r.succeeded,
                "failed": r.failed,
                "queued": r.queued,
                "errors": r.errors,
            }
            for name, r in report.targets.items()
        },
    }


def _print_publish(
    runtime: Runtime, report: PublishReport, loaded: LoadResult, *, any_ready: bool
) -> None:
    for name, reason in report.disabled.items():
        runtime.say(f"{name}: disabled ({reason})", style="yellow")
    if report.build is not None:
        _print_build(runtime, report.build, loaded)
    table = Table(title="plan" if not report.targets else "publish", title_justify="left")
    for column in ("target", "operation", "posting", "reason"):
        table.add_column(column)
    for op in report.plan.operations:
        table.add_row(op.target, str(op.kind), op.posting_id, str(op.reason))
    if runtime.verbosity >= 0:
        if report.plan.operations:
            runtime.out.print(table)
        else:
            why = (
                "every enabled push target is up to date"
                if any_ready
                else "no push target is ready"
            )
            runtime.say(f"nothing to push: {why}")
    for name, result in report.targets.items():
        line = f"{name}: {result.succeeded} done, {result.failed} failed, {result.queued} queued"
        runtime.say(line, style="red" if result.failed else "yellow" if result.queued else None)
        for error in result.errors[:10]:
            runtime.err.print(escape(mask(f"  {error}")), style="red", highlight=False)


# -------------------------------------------------------------------------------------- status


@app.command()
def status(
    ctx: typer.Context,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    target: Annotated[str | None, typer.Option("--target", "-t", help="Only this target.")] = None,
) -> None:
    """Show each posting × push target: state, version, last attempt, error, queued until.

    [b]Example[/b]: syndicate status --format json
    """
    runtime = runtime_of(ctx)
    check_format(output_format)
    settings = runtime.settings()
    with StateStore(settings.state_url) as store:
        rows = status_rows(store, target)
    summary = status_summary(rows)
    if output_format == "json":
        runtime.out.print_json(mask(json.dumps({"deliveries": rows, "summary": summary})))
        return
    table = Table(title="status", title_justify="left")
    for column in (
        "posting",
        "target",
        "state",
        "version",
        "last attempt",
        "queued until",
        "error",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["posting"],
            row["target"],
            row["state"],
            str(row["version"]),
            row["last_attempt"] or "",
            row["queued_until"] or "",
            escape(row["error"] or ""),
        )
    if rows:
        runtime.out.print(table)
    runtime.say(
        f"{summary['deliveries']} posting × target: {summary['published']} published, "
        f"{summary['pending']} pending, {summary['failed']} failed, {summary['closed']} closed; "
        f"{summary['queued']} operation(s) queued"
    )

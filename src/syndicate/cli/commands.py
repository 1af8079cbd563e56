"""Commands that read and render postings: init, validate, build, preview."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from syndicate.adapters import RenderContext, create_targets
from syndicate.cli import tables, validating
from syndicate.cli.base import (
    EXIT_INVALID,
    EXIT_OK,
    Runtime,
    app,
    check_format,
    runtime_of,
)
from syndicate.cli.choices import check_posting_ids, check_target_name
from syndicate.cli.group import Command
from syndicate.cli.progress import load_with_progress, step_progress
from syndicate.config import Settings
from syndicate.errors import Problem, Severity, SyndicateError
from syndicate.loading import LoadResult, PostingFile
from syndicate.secret import mask

if TYPE_CHECKING:
    from syndicate.build import BuildReport, TargetBuild
    from syndicate.state import StateStore

# The build, the listing and the state store (SQLAlchemy) are imported by the functions that use
# them: `validate` of a project without a state needs none of them.

# ---------------------------------------------------------------------------------------- init


@app.command(cls=Command)
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to set up.")] = Path("."),
) -> None:
    """Write a commented config.yaml, postings/ with one example posting, and a .gitignore
    for the generated feeds/ and the state in .syndicate/.

    Refuses to overwrite anything that exists.

    [b]Example[/b]: syndicate init careers && cd careers && syndicate validate
    """
    runtime = runtime_of(ctx)
    scaffold = resources.files("syndicate") / "templates" / "init"
    planned = {
        directory / "config.yaml": scaffold / "config.yaml",
        directory / "postings" / "example.md": scaffold / "example.md",
        directory / ".gitignore": scaffold / "gitignore",
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


@app.command(cls=Command)
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
    loaded = load_with_progress(runtime.err, settings, quiet=runtime.verbosity < 0)
    problems = list(loaded.problems)
    phases = validating.Phases(settings, datetime.now(UTC))
    places = validating.Places(loaded)
    checked: list[validating.Checked] = []
    for target in create_targets(settings, enabled_only=True):
        checked.append(validating.checked(target, loaded, phases, places))
        problems.extend(p for each in checked[-1].found.values() for p in each)
    problems.extend(validating.unknown_boards(settings, loaded, places))
    problems.extend(validating.reference_collisions(settings, loaded, checked, phases))
    problems.extend(validating.against_the_state(settings, loaded, checked, phases))
    valid = validating.valid_files(loaded, problems, places)
    summary = _validate_summary(loaded, valid, problems)
    if output_format == "json":
        runtime.print_json(
            "validate",
            {
                "valid": [{"id": f.posting_id, "file": str(places.shown(f))} for f in valid],
                "problems": [p.to_dict() for p in problems],
                "summary": summary,
            },
        )
    else:
        runtime.problems(problems)
        if runtime.verbosity > 0:
            for posting_file in valid:
                runtime.say(f"ok {places.shown(posting_file)} ({posting_file.posting.id})")
        runtime.say(_summary_line(summary), style="red" if summary["errors"] else "green")
    raise typer.Exit(EXIT_INVALID if summary["errors"] else EXIT_OK)


def _located(posting_file: PostingFile, problems: list[Problem]) -> list[Problem]:
    """Target problems placed at the file and line of the field they are about."""
    return posting_file.locate(problems)


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


@app.command("build", cls=Command)
def build_command(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Option("--target", "-t", help="Only this target.")] = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="text or json.", show_default=True)
    ] = "text",
) -> None:
    """Render every enabled pull target (feeds, careers site) into the output folder.

    Files are replaced atomically: a reader sees the old version or the new one, never a mix.
    A posting that breaks a target's rules is left out of that target only (exit 1).

    [b]Example[/b]: syndicate build && ls feeds/
    """
    runtime = runtime_of(ctx)
    check_format(output_format)
    settings = runtime.settings()
    loaded = load_with_progress(runtime.err, settings, quiet=runtime.verbosity < 0)
    check_target_name(settings, target, "pull")
    if output_format == "text":
        for problem in loaded.problems:
            runtime.problem(problem)
    from syndicate.state import StateStore

    with StateStore(settings.state_url) as store, store.publish_lock(wait=True):
        report = _build_with_progress(runtime, settings, loaded, target, store)
    if output_format == "json":
        runtime.print_json("build", _build_json(report, loaded))
    else:
        _print_build(runtime, report, loaded)
    failed = loaded.problems or not report.ok
    raise typer.Exit(EXIT_INVALID if failed else EXIT_OK)


def _build_with_progress(
    runtime: Runtime, settings: Settings, loaded: LoadResult, only: str | None, store: StateStore
) -> BuildReport:
    from syndicate.build import build

    with step_progress(runtime.err, quiet=runtime.verbosity < 0) as advance:
        return build(settings, loaded, only=only, progress=advance, store=store)


def _build_problems(report: BuildReport, loaded: LoadResult) -> list[Problem]:
    """What the build found, each at its file and line: postings a target left out or warned
    about, files kept at their last good version, refused mass closes."""
    by_file = loaded.by_id()
    found: list[Problem] = []
    for target in report.targets:
        for problem in target.left_out:
            located = by_file.get(problem.posting_id or "")
            found.append(_located(located, [problem])[0] if located else problem)
    found.extend(report.kept)
    found.extend(t.refusal.problem() for t in report.targets if t.refusal is not None)
    return found


def _build_json(report: BuildReport, loaded: LoadResult) -> dict[str, object]:
    return {
        "targets": [
            {
                "target": target.name,
                "included": target.included,
                "left_out": len(_left_out(target)),
                "opted_out": target.opted_out,
                "files": target.files,
                "rewritten": target.changed,
                "disabled": target.disabled,
            }
            for target in report.targets
        ],
        "problems": [p.to_dict() for p in [*loaded.problems, *_build_problems(report, loaded)]],
    }


def _left_out(target: TargetBuild) -> set[str | None]:
    return {p.posting_id for p in target.left_out if p.severity is Severity.ERROR}


def _print_build(runtime: Runtime, report: BuildReport, loaded: LoadResult) -> None:
    runtime.problems(_build_problems(report, loaded))
    table = tables.table(
        "build",
        *("target", "included", "left out", "files", "rewritten", "note"),
        caption="rewritten: files replaced by this build (a folder counts once; 0: up to date)",
    )
    for target in report.targets:
        left_out = _left_out(target)
        table.add_row(
            target.name,
            str(target.included),
            str(len(left_out)),
            str(len(target.files)),
            str(target.changed),
            escape(target.disabled or _note(target)),
        )
    if runtime.verbosity >= 0:
        runtime.out.print(table)


def _note(target: TargetBuild) -> str:
    """The build table's note: why postings were left out, and how many opted out."""
    errors = sorted({p.message for p in target.left_out if p.severity is Severity.ERROR})
    parts = ["; ".join(errors[:3]) + (" …" if len(errors) > 3 else "")] if errors else []
    if target.opted_out:
        parts.append(f"{target.opted_out} opted out (boards: {{{target.name}: false}})")
    return "; ".join(parts)


# ------------------------------------------------------------------------------------- preview


@app.command(cls=Command)
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
    loaded = load_with_progress(runtime.err, settings, quiet=runtime.verbosity < 0)
    found = loaded.by_id().get(posting_id)
    if found is None:
        for problem in loaded.problems:
            if problem.posting_id == posting_id:
                runtime.problem(problem)
        failed = {p.posting_id for p in loaded.problems if p.posting_id}
        check_posting_ids([posting_id], {*loaded.by_id(), *failed}, hint="ID")
        raise SyndicateError(f"no posting with id {posting_id!r} loaded")  # it failed to load
    chosen = next(t for t in create_targets(settings) if t.name == target)
    for problem in _located(found, chosen.rules(found.posting)):
        runtime.problem(problem)
    context = RenderContext(settings=settings, build_time=datetime.now(UTC))
    runtime.out.print(mask(chosen.preview(found.posting, context)), markup=False, highlight=False)

"""Commands that read and render postings: init, validate, build, preview."""

from __future__ import annotations

import dataclasses
import difflib
import functools
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from syndicate.adapters import PullTarget, RenderContext, Target, create_targets
from syndicate.cache import CachedChecks
from syndicate.cli import tables
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
from syndicate.loading import LoadResult, PostingFile, display_path
from syndicate.model import Phase
from syndicate.postings import LoadedPosting
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
    checked: list[_Checked] = []
    now = datetime.now(UTC)
    for target in create_targets(settings):
        if target.options.enabled:
            checked.append(_checked(target, loaded, now))
            problems.extend(p for each in checked[-1].found.values() for p in each)
    problems.extend(_unknown_boards(settings, loaded))
    problems.extend(_reference_collisions(settings, loaded, checked, now))
    problems.extend(_against_the_state(settings, loaded, checked))
    invalid = {str(p.file) for p in problems if p.severity is Severity.ERROR}
    valid = [f for f in loaded.files if str(display_path(f.path)) not in invalid]
    summary = _validate_summary(loaded, valid, problems)
    if output_format == "json":
        runtime.print_json(
            "validate",
            {
                "valid": [{"id": f.posting_id, "file": str(display_path(f.path))} for f in valid],
                "problems": [p.to_dict() for p in problems],
                "summary": summary,
            },
        )
    else:
        runtime.problems(problems)
        if runtime.verbosity > 0:
            for posting_file in valid:
                runtime.say(f"ok {display_path(posting_file.path)} ({posting_file.posting.id})")
        runtime.say(_summary_line(summary), style="red" if summary["errors"] else "green")
    raise typer.Exit(EXIT_INVALID if summary["errors"] else EXIT_OK)


@dataclasses.dataclass(slots=True)
class _Checked:
    """One target's checks of the loaded postings: problems by posting id, and the postings that
    asked to be left off it (``boards: {<target>: false}``)."""

    target: Target
    found: dict[str, list[Problem]]
    opted_out: set[str]


def _checked(target: Target, loaded: LoadResult, now: datetime) -> _Checked:
    """The target's checks of every loaded posting, as builds and plans cached them (a warm
    `validate` of 100,000 postings read each back from the cache and checked it again: 1.7 ms
    of CPU a posting), the postings not read back."""
    checks = CachedChecks(target, loaded.cache, prefetch=True)
    result = _Checked(target, {}, set())
    for posting_file in loaded.files:
        found, opted_out = _target_problems(checks, posting_file, now)
        result.found[posting_file.posting_id] = found
        if opted_out:
            result.opted_out.add(posting_file.posting_id)
    checks.save()
    return result


def _reference_collisions(
    settings: Settings, loaded: LoadResult, checked: list[_Checked], now: datetime
) -> list[Problem]:
    """Reference numbers that two postings would give on a target that lists a job once per
    place (Indeed): an error at each of them, naming the other file."""
    from syndicate.references import ReferenceBook

    problems: list[Problem] = []
    store = _existing_state(settings)
    try:
        for each in checked:
            target = each.target
            if not isinstance(target, PullTarget) or target.reference_scheme is None:
                continue
            listed = [
                f
                for f in loaded.files
                if f.window.phase(now, settings.timezone) in (Phase.LISTED, Phase.SCHEDULED)
                and f.posting_id not in each.opted_out
            ]
            by_id = {f.posting_id: f for f in listed}
            named = functools.partial(_file_and_id, by_id=by_id)
            book = ReferenceBook.of(target, store)
            for posting_id, found in book.collision_problems(listed, target.name, named).items():
                posting_file = by_id[posting_id]
                problems.extend(
                    dataclasses.replace(
                        problem,
                        file=display_path(posting_file.path),
                        line=posting_file.line_of("locations"),
                    )
                    for problem in found
                )
    finally:
        if store is not None:
            store.close()
    return problems


def _unknown_boards(settings: Settings, loaded: LoadResult) -> list[Problem]:
    """Names in a posting's ``boards:`` that are no configured target."""
    names = sorted(settings.targets)
    problems = []
    for posting_file in loaded.files:
        for name in posting_file.posting.boards:
            if name in settings.targets:
                continue
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                Problem(
                    f"{name!r} is not a configured target; {hint}(targets: {', '.join(names)})",
                    file=display_path(posting_file.path),
                    line=posting_file.line_of("boards"),
                    field=f"boards.{name}",
                    posting_id=posting_file.posting_id,
                )
            )
    return problems


def _target_problems(
    checks: CachedChecks, posting_file: PostingFile, now: datetime
) -> tuple[list[Problem], bool]:
    """A target's rules for a posting (as cached, else checked), as they matter now: errors for
    a posting that is or will be listed (open, scheduled), warnings for a draft, nothing for a
    closed or expired one (it is checked against the posting model only); and whether the
    posting asked to be left off the target (not told for a closed or expired one)."""
    phase = posting_file.window.phase(now, checks.target.settings.timezone)
    if phase in (Phase.CLOSED, Phase.EXPIRED):
        return [], False
    found = checks.problems(posting_file)
    opted_out = any(p.severity is Severity.OMIT for p in found)
    problems = [p for p in found if p.severity is not Severity.OMIT]
    problems = _located(posting_file, problems) if problems else []
    if phase is Phase.DRAFT:
        return [dataclasses.replace(p, severity=Severity.WARNING) for p in problems], opted_out
    return problems, opted_out


def _located(posting_file: PostingFile, problems: list[Problem]) -> list[Problem]:
    """Target problems placed at the file and line of the field they are about."""
    return posting_file.locate(problems)


def _file_and_id(posting_id: str, by_id: dict[str, PostingFile]) -> str:
    return f"{display_path(by_id[posting_id].path)} ({posting_id})"


def _rules(target: Target, loaded: LoadedPosting) -> list[Problem]:
    return target.rules(loaded.posting)


def _against_the_state(
    settings: Settings, loaded: LoadResult, checked: list[_Checked]
) -> list[Problem]:
    """What the publish state says of these postings, when there is one: the files held at
    their last good version, the guard's refusals, and ids that changed since publishing."""
    store = _existing_state(settings)
    if store is None:
        return []
    from syndicate.listing import Lister
    from syndicate.unchanged import listings_unchanged

    now = datetime.now(UTC)
    with store:
        if listings_unchanged(settings, loaded, [each.target for each in checked], now):
            return []  # every target lists what it listed: nothing held, guarded or renamed
        lister = Lister(settings, loaded, store, now)
        selections = []
        for each in checked:
            target, found = each.target, each.found
            accepted, rejected = [], {}
            for posting_file in loaded.files:
                if not posting_file.is_listed(now, settings.timezone):
                    continue
                if posting_file.posting_id in each.opted_out:
                    continue
                errors = [p for p in found[posting_file.posting_id] if p.severity is Severity.ERROR]
                if errors:
                    rejected[posting_file.posting_id] = errors
                else:
                    accepted.append(posting_file)
            selections.append(
                lister.select(target.name, accepted, rejected, functools.partial(_rules, target))
            )
        refusals = [s.refusal.problem() for s in selections if s.refusal is not None]
        return [*lister.kept_notes(selections), *refusals, *lister.renames()]


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


def _existing_state(settings: Settings) -> StateStore | None:
    """The publish state, opened, when there is one (None without importing the store when
    its SQLite file is not there)."""
    database = settings.state_file()
    if database is not None and not database.is_file():
        return None
    from syndicate.state import StateStore, state_exists

    return StateStore(settings.state_url) if state_exists(settings.state_url) else None


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

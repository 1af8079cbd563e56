"""Commands that drive the boards: ``publish`` and ``status``."""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from syndicate.adapters import PushTarget, create_targets
from syndicate.cli import summary, tables
from syndicate.cli.base import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_QUEUED,
    Runtime,
    app,
    check_format,
    runtime_of,
)
from syndicate.cli.choices import check_posting_ids, check_target_name
from syndicate.cli.commands import _located, _print_build
from syndicate.cli.group import Command
from syndicate.cli.progress import load_with_progress, step_progress
from syndicate.errors import Problem
from syndicate.loading import LoadResult
from syndicate.plan import Reason
from syndicate.publish import PublishReport, Waiter, publish, push_targets
from syndicate.secret import mask
from syndicate.state import StateStore
from syndicate.status import (
    cluster_lines,
    cluster_view,
    held_rows,
    quota_rows,
    scheduled_rows,
    status_rows,
    status_summary,
    waiting_rows,
)


@app.command("publish", cls=Command)
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
    allow_mass_close: Annotated[
        bool,
        typer.Option(
            "--allow-mass-close",
            help="Close the jobs the guard held back (review --plan first); the approval is "
            "recorded in the state, so daemons on the same state follow.",
        ),
    ] = False,
    retry_failed: Annotated[
        bool,
        typer.Option("--retry-failed", help="Send again what a board refused for good."),
    ] = False,
    retry_now: Annotated[
        bool,
        typer.Option(
            "--retry-now",
            help="Send queued operations now, without waiting for our backoff (never before "
            "a board's Retry-After, never past a daily quota).",
        ),
    ] = False,
) -> None:
    """Build, then bring every push target to the postings: create, update, close.

    The plan is recorded before anything is pushed; failures are retried, and what still fails
    is queued (exit 3).  A posting whose file fails to load, or whose edit breaks a target's
    rules, keeps its last good version everywhere (exit 1).  Closes caused by files that
    disappeared are refused when there are too many (exit 1, see --allow-mass-close).

    [b]Example[/b]: syndicate publish --plan && syndicate publish
    """
    runtime = runtime_of(ctx)
    check_format(output_format)
    settings = runtime.settings()
    check_target_name(settings, target, "push")
    loaded = load_with_progress(runtime.err, settings, quiet=runtime.verbosity < 0)
    runtime.problems(loaded.problems)
    with StateStore(settings.state_url) as store:
        if posting:
            known = {*loaded.by_id(), *(pid for pid, _ in store.deliveries())}
            check_posting_ids(posting, known)
        with step_progress(runtime.err, quiet=runtime.verbosity < 0) as advance:
            report = publish(
                settings,
                loaded,
                store,
                plan_only=plan,
                only_target=target,
                posting_ids=set(posting) if posting else None,
                wait_for_lock=wait,
                allow_mass_close=allow_mass_close,
                retry_failed=retry_failed,
                retry_now=retry_now,
                waiter=_waiter(runtime),
                progress=advance,
            )
        waiting = waiting_rows(store, target)
    for problem in report.plan.kept:
        runtime.problem(_locate_by_id(loaded, problem))
    for problem in report.kept:
        runtime.problem(problem)
    for refusal in report.refusals:
        runtime.problem(refusal.problem())
    if output_format == "json":
        runtime.print_json("publish", _publish_json(report, waiting))
    else:
        _print_publish(
            runtime, report, loaded, waiting, any_ready=bool(push_targets(settings, target)[0])
        )
    invalid = loaded.problems or (report.build and not report.build.ok) or report.failed
    if invalid or report.refusals or report.held:
        raise typer.Exit(EXIT_INVALID)
    raise typer.Exit(EXIT_QUEUED if report.queued else EXIT_OK)


def _waiter(runtime: Runtime) -> Waiter:
    """How a wait for a retry shows: a countdown on a terminal, one line otherwise."""
    showing = threading.Lock()  # one countdown at a time; other threads just wait

    def wait(target: str, seconds: float, why: str) -> None:
        text = f"{target}: {why}; retrying in"
        if runtime.verbosity < 0 or not showing.acquire(blocking=False):
            time.sleep(seconds)
            return
        try:
            if not runtime.err.is_terminal:
                runtime.err.print(escape(mask(f"{text} {seconds:.0f}s")), highlight=False)
                time.sleep(seconds)
                return
            end = time.monotonic() + seconds
            with runtime.err.status("") as status:
                while (left := end - time.monotonic()) > 0:
                    status.update(escape(mask(f"{text} {left:.0f}s")))
                    time.sleep(min(0.25, left))
        finally:
            showing.release()

    return wait


def _locate_by_id(loaded: LoadResult, problem: Problem) -> Problem:
    found = loaded.by_id().get(problem.posting_id or "")
    return _located(found, [problem])[0] if found and problem.file is None else problem


def _publish_json(report: PublishReport, waiting: list[dict[str, Any]]) -> dict[str, object]:
    return {
        "plan": [
            {
                "target": op.target,
                "operation": str(op.kind),
                "posting": op.posting_id,
                "reason": op.why,
            }
            for op in report.plan.operations
        ],
        "cancelled": [{"posting": p, "target": t} for p, t in report.plan.cancel],
        "kept": [p.to_dict() for p in [*report.plan.kept, *report.kept]],
        "refused": [
            {
                "target": r.target,
                "postings": list(r.posting_ids),
                "open_jobs": r.open_jobs,
                "cause": r.cause,
            }
            for r in report.refusals
        ],
        "waiting": waiting,
        "scheduled": {pid: at.isoformat() for pid, at in sorted(report.plan.scheduled.items())},
        "disabled": report.disabled,
        "targets": {
            name: {
                "sent": r.sent,
                "succeeded": r.succeeded,
                "done": {str(kind): count for kind, count in sorted(r.done.items())},
                "failed": r.failed,
                "queued": r.queued,
                "errors": r.errors,
                "auth_error": r.auth_error,
            }
            for name, r in report.targets.items()
        },
    }


# Reasons that change every payload of a target at once: counted on one line per target.
_COUNTED = frozenset({Reason.UPGRADE, Reason.TAGGING})


def _print_publish(
    runtime: Runtime,
    report: PublishReport,
    loaded: LoadResult,
    waiting: list[dict[str, Any]],
    *,
    any_ready: bool,
) -> None:
    for name, reason in report.disabled.items():
        runtime.say(f"{name}: disabled ({reason})", style="yellow")
    if report.build is not None and report.targets:
        _print_build(runtime, report.build, loaded)
    title = "plan" if not report.targets else "publish"
    table = tables.table(title, "target", "operation", "posting", "reason")
    upgrades: dict[tuple[str, str, Reason], int] = {}
    for op in report.plan.operations:
        if op.reason in _COUNTED:  # one line per target and reason, with its count
            key = (op.target, str(op.kind), op.reason)
            upgrades[key] = upgrades.get(key, 0) + 1
        else:
            table.add_row(op.target, tables.kind(str(op.kind)), op.posting_id, escape(op.why))
    for (target_name, kind, reason), count in upgrades.items():
        table.add_row(target_name, tables.kind(kind), f"{count:,} posting(s)", str(reason))
    if runtime.verbosity >= 0:
        if report.plan.operations:
            runtime.out.print(table)
        elif not waiting:
            runtime.say(summary.nothing_to_push(any_ready))
        if waiting:
            runtime.out.print(_waiting_table(waiting))
        for posting_id, at in sorted(report.plan.scheduled.items()):
            runtime.say(summary.scheduled_line(posting_id, at))
    for name, result in report.targets.items():
        line = f"{name}: {result.succeeded} done, {result.failed} failed, {result.queued} queued"
        runtime.say(line, style="red" if result.failed else "yellow" if result.queued else None)
        for error in result.errors[:10]:
            runtime.err.print(escape(mask(f"  {error}")), style="red", highlight=False)
    if any_ready:
        runtime.say(summary.plan_line(report.plan), style="bold")
    if report.targets:
        runtime.say(summary.publish_line(report), style=summary.style_of(report))


def _waiting_table(waiting: list[dict[str, Any]]) -> Table:
    table = tables.table(
        "queued and failed", "target", "operation", "posting", "state", "next attempt", "reason"
    )
    for row in waiting:
        table.add_row(
            row["target"],
            row["operation"] or "",
            row["posting"],
            row["state"],
            row["next_attempt"] or ("on --retry-failed" if row["state"] == "failed" else ""),
            escape(mask(row["error"] or "")),
        )
    return table


# -------------------------------------------------------------------------------------- status


@app.command(cls=Command)
def status(
    ctx: typer.Context,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    target: Annotated[str | None, typer.Option("--target", "-t", help="Only this target.")] = None,
) -> None:
    """Show each posting × push target: state, version, last attempt, error, queued until;
    then the postings held at their last good version, the targets refusing our credentials,
    and the daemons on the state: who holds the planning lease and the push leases, and when
    each daemon last synced.

    Exits 4 when a delivery has failed.

    [b]Example[/b]: syndicate status --format json
    """
    runtime = runtime_of(ctx)
    check_format(output_format)
    settings = runtime.settings()
    check_target_name(settings, target)
    scheduled = scheduled_rows(
        load_with_progress(runtime.err, settings, quiet=runtime.verbosity < 0), settings.timezone
    )
    with StateStore(settings.state_url) as store:
        rows = status_rows(store, target)
        held = held_rows(store, target)
        auth = {
            name: failure.error
            for name, failure in store.guards.auth_failures().items()
            if target is None or name == target
        }
        pushed = [t for t in create_targets(settings) if isinstance(t, PushTarget)]
        quota = quota_rows(store, [t for t in pushed if target is None or t.name == target])
        cluster = cluster_view(store)
    summary = status_summary(rows) | {
        "held": len({row["file"] for row in held}),
        "scheduled": len(scheduled),
    }
    code = EXIT_FAILED if summary["failed"] else EXIT_OK
    if output_format == "json":
        document = {
            "deliveries": rows,
            "held": held,
            "scheduled": scheduled,
            "auth_failures": auth,
            "quota": quota,
            "cluster": cluster,
            "summary": summary,
        }
        runtime.print_json("status", document)
        raise typer.Exit(code)
    table = tables.filled(
        "status",
        ("posting", "target", "state", "version", "last attempt", "queued until", "error"),
        [
            (
                row["posting"],
                row["target"],
                row["state"],
                str(row["version"]),
                tables.short_time(row["last_attempt"]),
                tables.short_time(row["queued_until"]),
                escape(row["error"] or ""),
            )
            for row in rows
        ],
        ids=("posting",),
        caption="times in UTC; --format json gives them in full",
    )
    if rows:
        runtime.out.print(table)
    for row in held:
        runtime.problem(
            Problem(
                f"kept the version built at {row['kept_version_built_at']} since {row['since']}; "
                f"fix the file to publish changes",
                file=row["file"],
                target=row["target"],
            )
        )
    for name, error in auth.items():
        runtime.err.print(escape(mask(f"{name}: failing authentication: {error}")), style="red")
    for row in scheduled:
        runtime.say(f"{row['posting']}: scheduled for {row['at']}")
    for name, used in quota.items():
        runtime.say(
            f"{name}: {used['used']} of {used['limit']} {used['unit']} used today "
            f"(resets {used['resets_at']})"
        )
    for line in cluster_lines(cluster):
        runtime.say(line)
    runtime.say(
        f"{summary['deliveries']} posting × target: {summary['published']} published, "
        f"{summary['pending']} pending, {summary['failed']} failed, {summary['closed']} closed; "
        f"{summary['queued']} operation(s) queued; {summary['held']} file(s) held"
    )
    raise typer.Exit(code)

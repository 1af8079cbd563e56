"""Progress of the steps that can take a while (rendering and writing each target).

On a terminal, and not under ``-q``: a bar per step with its count, total, rate and time left.
Otherwise (piped, a log file, CI): one line per finished step, ``rendered indeed: 10,000
postings in 2.1s (4,760/s)``, on stderr, so that a log shows what took how long without the
bar's redraws.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from syndicate.build import Progress as BuildProgress


@contextmanager
def step_progress(
    console: Console, *, quiet: bool, verb: str = "rendered"
) -> Iterator[BuildProgress]:
    """A `syndicate.build.Progress` callback that shows each step as this module says."""
    if quiet:
        yield _ignore
        return
    if not console.is_terminal:
        yield _LineSteps(console, verb)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        yield _BarSteps(bar)


def _ignore(name: str, done: int, total: int) -> None:
    return None


class _BarSteps:
    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, name: str, done: int, total: int) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.bar.add_task(f"rendering {name}", total=total, rate="")
        task = self.tasks[name]
        speed = self.bar.tasks[self.bar.task_ids.index(task)].speed
        self.bar.update(task, completed=min(done, total), rate=f"{speed:,.0f}/s" if speed else "")


class _LineSteps:
    def __init__(self, console: Console, verb: str) -> None:
        self.console = console
        self.verb = verb
        self.started: dict[str, float] = {}

    def __call__(self, name: str, done: int, total: int) -> None:
        started = self.started.setdefault(name, time.monotonic())
        if done < total:  # the build reports done == total once, when the step is over
            return
        seconds = time.monotonic() - started
        rate = f" ({total / seconds:,.0f}/s)" if seconds > 0 and total else ""
        self.console.print(
            f"{self.verb} {name}: {total:,} posting(s) in {seconds:.1f}s{rate}",
            highlight=False,
            markup=False,
        )

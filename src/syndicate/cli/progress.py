"""Progress of the steps that can take a while: loading the postings, rendering and writing
each target, pushing to each board (`syndicate.progress`).

On a terminal, and not under ``-q``: a bar per step with its count, total, rate and time left.
Otherwise (piped, a log file, CI): one line per finished step, ``rendered indeed: 10,000
posting(s) in 2.1s (4,760/s)``, on stderr, so that a log shows what took how long without the
bar's redraws.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as Bars

from syndicate.loading import LoadResult, load_project
from syndicate.progress import Action, Progress, Step

if TYPE_CHECKING:
    from syndicate.config import Settings


class _Words(NamedTuple):
    doing: str  # on the bar, while the step runs
    done: str  # on the line, once it is over
    unit: str  # what is counted


_WORDS: dict[Action, _Words] = {
    "load": _Words("loading", "loaded", "file"),
    "render": _Words("rendering", "rendered", "posting"),
    "push": _Words("pushing to", "pushed to", "operation"),
}


@contextmanager
def step_progress(console: Console, *, quiet: bool) -> Iterator[Progress]:
    """A `syndicate.progress.Progress` that shows each step as this module says."""
    if quiet:
        yield _ignore
        return
    if not console.is_terminal:
        yield _LineSteps(console)
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
    with Bars(*columns, console=console, transient=False) as bar:
        yield _BarSteps(bar)


def _ignore(step: Step, done: int, total: int) -> None:
    return None


class _BarSteps:
    def __init__(self, bar: Bars) -> None:
        self.bar = bar
        self.tasks: dict[Step, TaskID] = {}

    def __call__(self, step: Step, done: int, total: int) -> None:
        if step not in self.tasks:
            label = f"{_WORDS[step.action].doing} {step.name}"
            self.tasks[step] = self.bar.add_task(label, total=total, rate="")
        task = self.tasks[step]
        speed = self.bar.tasks[self.bar.task_ids.index(task)].speed
        rate = f"{speed:,.0f}/s" if speed else ""
        self.bar.update(task, total=total, completed=min(done, total), rate=rate)


class _LineSteps:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.started: dict[Step, float] = {}

    def __call__(self, step: Step, done: int, total: int) -> None:
        started = self.started.setdefault(step, time.monotonic())
        if done < total:  # a step reports done == total once, when it is over
            return
        del self.started[step]  # a step run again (a second push) starts its own clock
        seconds = time.monotonic() - started
        rate = f" ({total / seconds:,.0f}/s)" if seconds > 0 and total else ""
        words = _WORDS[step.action]
        self.console.print(
            f"{words.done} {step.name}: {total:,} {words.unit}(s) in {seconds:.1f}s{rate}",
            highlight=False,
            markup=False,
        )


def load_with_progress(console: Console, settings: Settings, *, quiet: bool) -> LoadResult:
    """`syndicate.loading.load_project`, its progress shown on ``console``."""
    with step_progress(console, quiet=quiet) as advance:
        return load_project(settings, progress=advance)

"""How far a long step has come: loading the postings, rendering a target, pushing to a board.

The steps call a `Progress` (given by whoever shows it: the command line's bars, or nobody)
with the step, how much is done and how much there is; ``done == total`` once, when the step is
over.  Nothing here prints: `syndicate.cli.progress` decides how a step shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

Action = Literal["load", "render", "push"]


class Step(NamedTuple):
    """One long step: its kind and what it works on (a folder, a target's name)."""

    action: Action
    name: str


# Told (step, done, total) as a step advances, and (step, total, total) when it is over.
Progress = Callable[[Step, int, int], None]

EVERY = 200  # items between two reports of a step (its last one is always reported)


def ticker(progress: Progress | None, step: Step, total: int) -> Callable[[int], None]:
    """A callable told how many items are done so far: it reports the start, then every `EVERY`
    items or more, and the end (nothing when there is no ``progress``)."""
    if progress is None:
        return _nothing
    reported = [-EVERY]

    def tick(done: int) -> None:
        if done >= total or done - reported[0] >= EVERY:
            reported[0] = done
            progress(step, min(done, total), total)

    return tick


def _nothing(done: int) -> None:
    return None
